"""Loading weight files from local paths (no downloads, no pickled code): pretrained weights
of a codec or encoder, as opposed to training checkpoints (tokensep_core.training.checkpoint)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file
from torch import Tensor, nn

from tokensep_core.errors import CheckpointError


def read_weights(path: str | Path, what: str) -> dict[str, Any]:
    """A ``.safetensors`` file or a ``torch.save`` file (read with ``weights_only=True``) as a dict.

    ``what`` names the field that gave the path, for the error message."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: {what} file not found")
    try:
        if path.suffix == ".safetensors":
            return load_file(str(path))
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt files raise many types; report them all as one line
        detail = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: cannot read {what}: {detail}") from None
    if not isinstance(data, dict):
        raise CheckpointError(f"{path}: {what} must hold a state dict, got {type(data).__name__}")
    return data


def load_into(module: nn.Module, state: dict[str, Tensor], path: str | Path, what: str) -> None:
    """``module.load_state_dict(state)`` strictly, with a one-line error naming the file."""
    missing, unexpected = [], []
    try:
        result = module.load_state_dict(state, strict=False)
        missing, unexpected = result.missing_keys, result.unexpected_keys
    except RuntimeError as err:  # shape mismatches
        detail = next((line.strip() for line in str(err).splitlines() if "size mismatch" in line), str(err).splitlines()[0])
        raise CheckpointError(f"{path}: {what} does not match the configured architecture: {detail}") from None
    if missing or unexpected:
        example = (missing or unexpected)[0]
        raise CheckpointError(
            f"{path}: {what} does not match the configured architecture "
            f"({len(missing)} missing keys, {len(unexpected)} unexpected keys, e.g. {example!r})"
        )


def load_weight_file(module: nn.Module, path: str | Path, what: str) -> None:
    """Read the state dict in ``path`` (see :func:`read_weights`) and load it strictly into ``module``."""
    load_into(module, read_weights(path, what), path, what)
