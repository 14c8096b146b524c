"""Checkpoint directories: written atomically, verified by checksum, loaded without pickle.

Layout of ``<run_dir>/checkpoints/step_XXXXXXXX/``::

    <module>.safetensors   weights of each module of the task (safetensors)
    config.json            {"task": task.config_dict(), "trainer": TrainerConfig}
    state.json             step, data position, world size, precision
    optimizer.pt           optimizer, scheduler and GradScaler state dicts (tensors/primitives)
    rng.pt                 python/numpy/torch/CUDA generator states of every rank
    checksums.json         sha256 of every other file, written last

A checkpoint is assembled in a hidden ``.partial-…`` directory and renamed into place only
when complete, so a killed run never leaves a half-written ``step_…`` directory; ``.pt`` files
are read with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from tokensep_core.errors import CheckpointError

CHECKSUMS = "checksums.json"
_STEP_DIR = re.compile(r"^step_(\d{8,})$")
_PARTIAL_PREFIX = ".partial-"
_TRASH_PREFIX = ".trash-"


def step_dir_name(step: int) -> str:
    return f"step_{step:08d}"


def checkpoint_step(path: Path) -> int:
    match = _STEP_DIR.match(path.name)
    if not match:
        raise CheckpointError(f"{path}: not a checkpoint directory (expected a name like step_00001000)")
    return int(match.group(1))


def list_checkpoints(checkpoints_dir: str | Path) -> list[Path]:
    """Complete checkpoints (``step_…`` directories holding ``checksums.json``), oldest first."""
    root = Path(checkpoints_dir)
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if p.is_dir() and _STEP_DIR.match(p.name) and (p / CHECKSUMS).is_file()]
    return sorted(found, key=checkpoint_step)


def resolve_checkpoint(path: str | Path) -> Path:
    """A checkpoint directory from a step directory, an exported model directory, a run
    directory, its ``checkpoints`` directory, or ``…/latest`` (each of the last three means its
    newest complete checkpoint)."""
    path = Path(path)
    if path.name == "latest":
        path = path.parent
    if _STEP_DIR.match(path.name):
        if not (path / CHECKSUMS).is_file():
            raise CheckpointError(f"{path}: not a complete checkpoint (no {CHECKSUMS})")
        return path
    if (path / CHECKSUMS).is_file():  # an exported model directory
        return path
    for root in (path / "checkpoints", path):
        found = list_checkpoints(root)
        if found:
            return found[-1]
    raise CheckpointError(f"{path}: no complete checkpoint found")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_checkpoint(
    checkpoints_dir: str | Path,
    step: int,
    modules: dict[str, nn.Module],
    json_files: dict[str, Any],
    torch_files: dict[str, Any],
) -> Path:
    """Write ``step_XXXXXXXX`` atomically: ``<name>.safetensors`` per module, ``<name>.json`` and
    ``<name>.pt`` per entry, then ``checksums.json``, then one rename. Returns the final path."""
    final = Path(checkpoints_dir) / step_dir_name(step)
    states = {name: _plain_state_dict(module) for name, module in modules.items()}
    return write_directory(final, states, json_files, torch_files, step)


def write_directory(
    final: Path,
    states: dict[str, dict[str, torch.Tensor]],
    json_files: dict[str, Any],
    torch_files: dict[str, Any] | None = None,
    step: int | None = None,
    nested: dict[str, tuple[dict[str, dict[str, torch.Tensor]], dict[str, Any]]] | None = None,
) -> Path:
    """Assemble a checkpoint directory (``<name>.safetensors`` per state dict, ``.json`` and
    ``.pt`` files, then ``checksums.json``) under a hidden name and rename it to ``final``;
    ``nested`` ``{folder: (states, json_files)}``: whole checkpoint directories inside it, each
    with its own checksums, renamed with it."""
    root = final.parent
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f"{_PARTIAL_PREFIX}{final.name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    try:
        for name, state in states.items():
            save_file(state, str(tmp / f"{name}.safetensors"))
        for name, data in json_files.items():
            (tmp / f"{name}.json").write_text(json.dumps(data, indent=2, sort_keys=True))
        for name, data in (torch_files or {}).items():
            torch.save(data, tmp / f"{name}.pt")
        sums = {}
        for file in sorted(tmp.iterdir()):
            _fsync(file)
            sums[file.name] = _sha256(file)
        (tmp / CHECKSUMS).write_text(json.dumps({"step": step, "sha256": sums}, indent=2))
        _fsync(tmp / CHECKSUMS)
        for folder, (inner_states, inner_json) in (nested or {}).items():
            write_directory(tmp / folder, inner_states, inner_json)
        _fsync(tmp)
        if final.exists():  # re-saving: move the old one aside first (rename cannot replace a directory)
            _discard(final)
        os.rename(tmp, final)
        _fsync(root)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def export_checkpoint(
    source: str | Path,
    destination: str | Path,
    dtype: torch.dtype | None = None,
    config: dict | None = None,
    bundled: dict[str, str | Path] | None = None,
) -> Path:
    """Copy a checkpoint's weights (floating tensors cast to ``dtype``) and ``config.json`` (or
    ``config`` instead) into a self-contained model directory: no optimizer, RNG or training
    state. ``bundled`` ``{folder: checkpoint}``: other checkpoints exported the same way into
    folders of it (a separator's mixture decoder)."""
    inner = {folder: resolve_checkpoint(path) for folder, path in (bundled or {}).items()}
    nested = {folder: (_exported_states(path, dtype), {"config": read_json(path, "config")}) for folder, path in inner.items()}
    source = resolve_checkpoint(source)
    states = _exported_states(source, dtype)
    config = config if config is not None else read_json(source, "config")
    return write_directory(Path(destination), states, {"config": config}, nested=nested)


def _exported_states(source: Path, dtype: torch.dtype | None) -> dict[str, dict[str, torch.Tensor]]:
    """A resolved checkpoint's verified weights ``{module: state}``, floating tensors cast to ``dtype``."""
    sums = verify_checkpoint(source)
    states = {}
    for name in sorted(n[: -len(".safetensors")] for n in sums if n.endswith(".safetensors")):
        state = load_file(str(source / f"{name}.safetensors"))
        states[name] = {k: v.to(dtype) if dtype is not None and v.is_floating_point() else v for k, v in state.items()}
    return states


def _plain_state_dict(module: nn.Module) -> dict[str, torch.Tensor]:
    """Every state tensor as its own contiguous CPU copy: safetensors refuses views (e.g.
    torch's periodic windows are slices) and shared storage (tied weights are saved twice)."""
    return {key: value.detach().to("cpu").contiguous().clone() for key, value in module.state_dict().items()}


def _discard(path: Path) -> None:
    """Remove a directory so that no reader ever sees it half-deleted under its real name."""
    trash = path.parent / f"{_TRASH_PREFIX}{path.name}-{os.getpid()}"
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def prune(checkpoints_dir: str | Path, keep_last: int) -> None:
    """Delete all but the newest ``keep_last`` complete checkpoints."""
    for path in list_checkpoints(checkpoints_dir)[:-keep_last]:
        _discard(path)


def remove_leftovers(checkpoints_dir: str | Path) -> None:
    """Delete partial and trash directories left by a killed run."""
    root = Path(checkpoints_dir)
    if root.is_dir():
        for path in root.iterdir():
            if path.name.startswith((_PARTIAL_PREFIX, _TRASH_PREFIX)):
                shutil.rmtree(path, ignore_errors=True)


def recorded_checksums(path: str | Path) -> dict[str, str]:
    """``{file: sha256}`` as ``checksums.json`` records them, without hashing the files; one-line
    :class:`CheckpointError` when it is missing or unreadable."""
    path = Path(path)
    try:
        return dict(json.loads((path / CHECKSUMS).read_text())["sha256"])
    except FileNotFoundError:
        raise CheckpointError(f"{path}: not a complete checkpoint (no {CHECKSUMS})") from None
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise CheckpointError(f"{path / CHECKSUMS}: unreadable ({type(err).__name__})") from None


def verify_checkpoint(path: str | Path) -> dict[str, str]:
    """Check every file against ``checksums.json``; -> ``{file: sha256}``. One-line
    :class:`CheckpointError` naming the first missing or corrupted file."""
    path = Path(path)
    sums = recorded_checksums(path)
    for name, expected in sums.items():
        file = path / name
        if not file.is_file():
            raise CheckpointError(f"{file}: missing from checkpoint")
        if _sha256(file) != expected:
            raise CheckpointError(f"{file}: corrupted (sha256 differs from {CHECKSUMS})")
    return sums


def read_json(path: str | Path, name: str) -> Any:
    """``<path>/<name>.json`` (call :func:`verify_checkpoint` first)."""
    file = Path(path) / f"{name}.json"
    try:
        return json.loads(file.read_text())
    except (OSError, ValueError) as err:
        raise CheckpointError(f"{file}: unreadable ({type(err).__name__})") from None


def read_torch(path: str | Path, name: str, map_location: str | torch.device = "cpu") -> Any:
    """``<path>/<name>.pt`` loaded with ``weights_only=True`` (tensors and primitives only)."""
    file = Path(path) / f"{name}.pt"
    try:
        return torch.load(file, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises many types for a bad file; all mean the same to a user
        raise CheckpointError(f"{file}: unreadable ({str(err).splitlines()[0] if str(err) else type(err).__name__})") from None


def load_weights(path: str | Path, modules: dict[str, nn.Module], verify: bool = True) -> None:
    """Load ``<name>.safetensors`` into each module (strict: every key must match)."""
    path = Path(path)
    if verify:
        verify_checkpoint(path)
    for name, module in modules.items():
        file = path / f"{name}.safetensors"
        if not file.is_file():
            raise CheckpointError(f"{file}: missing (the checkpoint has no weights for module {name!r})")
        try:
            state = load_file(str(file))
        except (SafetensorError, RuntimeError, OSError) as err:
            raise CheckpointError(f"{file}: cannot load into {name!r} ({str(err).splitlines()[0]})") from None
        expected = module.state_dict()
        wrong = [key for key, value in state.items() if key in expected and value.shape != expected[key].shape]
        if wrong:  # e.g. weights of another model width: name the first tensor that differs
            key = wrong[0]
            raise CheckpointError(
                f"{file}: does not match module {name!r}: {key!r} has shape {list(state[key].shape)}, "
                f"the configured model needs {list(expected[key].shape)} ({len(wrong)} tensors differ)"
            )
        missing, unexpected = module.load_state_dict(state, strict=False)
        if missing or unexpected:
            detail = f"missing keys {sorted(missing)[:3]}" if missing else f"unexpected keys {sorted(unexpected)[:3]}"
            raise CheckpointError(f"{file}: does not match module {name!r}: {detail}")


CODEC_WEIGHTS = "codec.safetensors"


def load_codec_checkpoint(codec: nn.Module, checkpoint: str | Path) -> tuple[Path, str]:
    """Load the codec weights of a codec or separator training checkpoint (a step, run or exported
    model directory: :func:`resolve_checkpoint`) into ``codec``, verified by checksum;
    -> (the checkpoint directory, sha256 of its ``codec.safetensors``)."""
    path = resolve_checkpoint(checkpoint)
    sums = verify_checkpoint(path)
    if CODEC_WEIGHTS not in sums:
        raise CheckpointError(f"{path}: has no {CODEC_WEIGHTS}")
    load_weights(path, {"codec": codec}, verify=False)
    return path, sums[CODEC_WEIGHTS]
