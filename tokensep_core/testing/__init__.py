"""Reusable conformance checks for tokensep components (call them from any plugin's tests)."""

from tokensep_core.testing.conformance import (
    CHECKS,
    ConformanceError,
    check_codec,
    check_dataset,
    check_encoder,
    check_lm,
    check_masked_lm,
    check_metric,
    check_pattern,
    check_registered,
    check_renderer,
    check_separator,
    check_track_order,
    check_trainable_codec,
)

__all__ = [
    "CHECKS",
    "ConformanceError",
    "check_codec",
    "check_dataset",
    "check_encoder",
    "check_lm",
    "check_masked_lm",
    "check_metric",
    "check_pattern",
    "check_registered",
    "check_renderer",
    "check_separator",
    "check_track_order",
    "check_trainable_codec",
]
