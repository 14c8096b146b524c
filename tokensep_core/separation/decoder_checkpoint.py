"""Loading a trained mixture decoder: a ``tokensep train mixture_decoder`` run or step directory
(``decoder.safetensors`` + config.json's ``task.decoder`` spec), or the copy ``tokensep export``
bundles into a separator's model directory (:data:`BUNDLED_FOLDER`).

A separator checkpoint's stored ``inference.mixture_decoder``, when relative, is relative to that
checkpoint's directory (:func:`stored_decoder_path`), so an exported model with its decoder can be
moved as one folder; a path given on the command line or in a config is relative to the working
directory as usual."""

from __future__ import annotations

from pathlib import Path

from tokensep_core.errors import CheckpointError, ConfigError
from tokensep_core.interfaces import MixtureDecoder
from tokensep_core.registry import ComponentRegistry

DECODER_MODULE = "decoder"
"""The module name of the decoder's weights in a checkpoint."""
BUNDLED_FOLDER = "mixture_decoder"
"""The folder of an exported separator that holds its mixture decoder."""


def stored_decoder_path(checkpoint: Path, value: str | Path) -> Path:
    """A separator checkpoint's stored ``inference.mixture_decoder`` as a path: relative ones
    are relative to the checkpoint directory."""
    path = Path(value)
    return path if path.is_absolute() else checkpoint / path


def check_decoder_stems(decoder: MixtureDecoder, stems: tuple[str, ...], label: str) -> None:
    """One-line :class:`ConfigError` (``label`` names the decoder) when ``decoder`` splits other
    stems than the separator's ``stems``, in order."""
    if tuple(decoder.stems) != tuple(stems):
        raise ConfigError(f"{label} splits stems {', '.join(decoder.stems)}; this separator generates {', '.join(stems)}")


def load_mixture_decoder(path: str | Path, registry: ComponentRegistry | None = None) -> MixtureDecoder:
    """The decoder of a mixture-decoder checkpoint, frozen, in eval mode, on the CPU; one-line
    :class:`CheckpointError` when ``path`` is missing or holds no mixture decoder."""
    from tokensep_core.plugins import load_registry
    from tokensep_core.provenance import check_components
    from tokensep_core.training.checkpoint import load_weights, read_json, resolve_checkpoint, verify_checkpoint

    if not Path(path).exists():
        raise CheckpointError(f"{path}: no such mixture decoder (expected a `tokensep train mixture_decoder` run or step directory)")
    checkpoint = resolve_checkpoint(path)
    sums = verify_checkpoint(checkpoint)
    stored = read_json(checkpoint, "config")
    task = stored.get("task") if isinstance(stored, dict) else None
    spec = task.get("decoder") if isinstance(task, dict) else None
    if not isinstance(spec, dict) or f"{DECODER_MODULE}.safetensors" not in sums:
        raise CheckpointError(f"{checkpoint}: not a mixture-decoder checkpoint (config.json has no task.decoder)")
    registry = registry or load_registry()
    source = str(checkpoint / "config.json")
    check_components(registry, stored, source)
    decoder = registry.build("mixture_decoder", spec, source=source)
    load_weights(checkpoint, {DECODER_MODULE: decoder}, verify=False)
    return decoder.requires_grad_(False).eval()
