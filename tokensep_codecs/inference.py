"""Running a codec outside training: loading it from a checkpoint (or building it untrained from a
spec), turning a song's audio into codec items, and encoding/decoding long signals in segments."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from tokensep_core.audio.channels import to_codec_items
from tokensep_core.config import ComponentSpec, validate_model
from tokensep_core.errors import CheckpointError
from tokensep_core.interfaces import Codec
from tokensep_core.registry import ComponentRegistry
from tokensep_core.training.checkpoint import load_codec_checkpoint, read_json, resolve_checkpoint


@dataclass
class LoadedCodec:
    """A codec ready for inference (eval mode, no grads) and where it came from."""

    codec: Codec
    spec: ComponentSpec
    """The registered name and params it was built from."""
    checkpoint: Path | None
    """The checkpoint directory its weights came from (None: untrained)."""
    weights_sha256: str | None
    """sha256 of ``codec.safetensors`` in that checkpoint."""

    def describe(self) -> dict[str, Any]:
        """Provenance for result files and token indexes."""
        return {
            "spec": self.spec.model_dump(mode="json"),
            "checkpoint": str(self.checkpoint) if self.checkpoint else None,
            "weights_sha256": self.weights_sha256,
        }


def codec_spec_of(checkpoint: Path) -> ComponentSpec:
    """The codec spec recorded in a checkpoint's ``config.json``: ``task.codec`` (codec training)
    or ``task.model.codec`` (separator training, whose checkpoints hold the codec too)."""
    task = read_json(checkpoint, "config").get("task") or {}
    spec = task.get("codec") or (task.get("model") or {}).get("codec")
    if not isinstance(spec, dict):
        raise CheckpointError(f"{checkpoint / 'config.json'}: no task.codec (not a codec or separator training checkpoint)")
    return validate_model(ComponentSpec, spec, str(checkpoint / "config.json"))


def load_codec(
    registry: ComponentRegistry,
    checkpoint: str | Path | None = None,
    spec: ComponentSpec | None = None,
    device: torch.device | str = "cpu",
) -> LoadedCodec:
    """The codec of a training checkpoint (step directory or run directory: its latest), or an
    untrained codec built from ``spec`` (seeded by the caller)."""
    if (checkpoint is None) == (spec is None):
        raise ValueError("give exactly one of checkpoint and spec")
    path, sha = None, None
    if checkpoint is not None:
        path = resolve_checkpoint(checkpoint)
        spec = codec_spec_of(path)
    codec = registry.build("codec", spec, source=str(path) if path else "codec spec")
    if path is not None:
        path, sha = load_codec_checkpoint(codec, path)
    codec.requires_grad_(False).to(device).eval()
    return LoadedCodec(codec, spec, path, sha)


def to_items(codec: Codec, wav: Tensor, sample_rate: int) -> Tensor:
    """A signal ``[C, T]`` at ``sample_rate`` -> codec items ``[N, C_codec, T']`` at the codec's rate.

    A mono codec codes every channel as its own item (``N = C``, as the separator does);
    otherwise the channels are converted to the codec's (``N = 1``)."""
    return to_codec_items(wav.unsqueeze(0), sample_rate, codec.sample_rate, codec.channels)


def segment_frames(codec: Codec, seconds: float) -> int:
    """Code frames in a segment of about ``seconds``."""
    return max(1, math.ceil(seconds * codec.sample_rate / codec.hop_length))


@torch.inference_mode()
def encode_long(codec: Codec, items: Tensor, frames_per_segment: int) -> Tensor:
    """items ``[N, C, T]`` -> codes ``[N, K, ceil(T / hop)]``, encoded in independent segments of
    ``frames_per_segment`` frames so memory does not grow with the length."""
    step = frames_per_segment * codec.hop_length
    return torch.cat([codec.encode(items[..., start : start + step]) for start in range(0, items.shape[-1], step)], dim=-1)


@torch.inference_mode()
def decode_long(codec: Codec, codes: Tensor, frames_per_segment: int) -> Tensor:
    """codes ``[N, K, F]`` -> wav ``[N, C, F * hop]``, decoded in segments of ``frames_per_segment``."""
    return torch.cat(
        [codec.decode(codes[..., start : start + frames_per_segment]) for start in range(0, codes.shape[-1], frames_per_segment)], dim=-1
    )
