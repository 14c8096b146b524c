"""Registers the frame classifier LM."""

from tokensep_core.hookspecs import hookimpl
from tokensep_toy_family.frame import FrameClassifier


@hookimpl
def tokensep_register_components(registry) -> None:
    registry.add("lm", "frame_classifier", FrameClassifier)
