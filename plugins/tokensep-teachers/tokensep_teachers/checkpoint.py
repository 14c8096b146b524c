"""Loading model weights from a local file, safely: safetensors, or torch pickles of tensors only."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import Tensor, nn

from tokensep_core.errors import CheckpointError

PICKLE_SUFFIXES = (".pt", ".pth", ".th", ".ckpt")
NESTED_KEYS = ("state_dict", "state", "model")
"""Keys under which common trainers nest the weights inside a pickled checkpoint."""


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """-> the ``{name: tensor}`` weights in ``path``; errors are one line naming the file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    suffix = path.suffix.lower()
    if suffix == ".safetensors":
        try:
            return load_file(str(path))
        except (SafetensorError, OSError, ValueError) as err:
            raise CheckpointError(f"{path}: not a readable safetensors file ({_first_line(err)})") from None
    if suffix not in PICKLE_SUFFIXES:
        raise CheckpointError(f"{path}: unsupported checkpoint format {suffix!r} (use .safetensors or {', '.join(PICKLE_SUFFIXES)})")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"{path}: refused: holds objects other than tensors ({_first_line(err)})") from None
    except (RuntimeError, OSError, EOFError, ValueError) as err:
        raise CheckpointError(f"{path}: not a readable torch checkpoint ({_first_line(err)})") from None
    return _tensors(data, path)


def load_weights(model: nn.Module, path: str | Path, what: str) -> None:
    """Load ``path`` into ``model`` strictly; a mismatch names the file and the first bad key."""
    state = read_state_dict(path)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [k for k in expected if k in state and state[k].shape != expected[k].shape]
    if missing or unexpected or wrong:
        if wrong:
            key = wrong[0]
            detail = f"{key!r} has shape {list(state[key].shape)}, the model needs {list(expected[key].shape)}"
        elif missing:
            detail = f"missing {missing[0]!r}"
        else:
            detail = f"unexpected {unexpected[0]!r}"
        counts = f"{len(missing)} missing, {len(unexpected)} unexpected, {len(wrong)} wrong-shape tensors"
        raise CheckpointError(f"{path}: does not match the configured {what} ({counts}; {detail})")
    model.load_state_dict(state)


def _tensors(data: Any, path: Path) -> dict[str, Tensor]:
    if isinstance(data, dict):
        for key in NESTED_KEYS:
            if isinstance(data.get(key), dict):
                data = data[key]
                break
    if not isinstance(data, dict) or not data or not all(isinstance(k, str) and isinstance(v, Tensor) for k, v in data.items()):
        raise CheckpointError(f"{path}: expected a mapping of parameter names to tensors")
    return data


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0] if lines else type(err).__name__
