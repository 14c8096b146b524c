"""What a mixture decoder is trained on in place of generated stems: each true stem encoded and
decoded by the separator's frozen codec (as the codec oracle does), optionally with a fraction
of its code ids replaced by random ids to imitate the errors of generation; or the separator's
own generated stems for the training songs, written beforehand (``generated``)."""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import Tensor

from tokensep_core.audio.channels import to_codec_items, unfold_channels
from tokensep_core.audio.io import convert
from tokensep_core.audio.length import fit_length
from tokensep_core.config import ComponentSpec
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Codec
from tokensep_core.registry import ComponentRegistry


class GuideConfig(BaseModel):
    """The frozen codec that makes the guides, and how much generation error they imitate."""

    model_config = ConfigDict(extra="forbid")

    checkpoint: Path = Field(
        description="the codec's weights: a codec training run, a separator checkpoint or an exported model (pretrained/separator-small)"
    )
    codec: ComponentSpec | None = Field(
        None, description="the registered codec and its params; default: the one the checkpoint's config names"
    )
    code_noise: float = Field(0.0, ge=0, lt=1, description="fraction of code ids replaced by uniform random ids before decoding")
    generated: ComponentSpec | None = Field(
        None,
        description="a stems dataset of the separator's generated stems for every song of `data` (same names and lengths, "
        "e.g. `tokensep pseudolabel --teacher generative` with mixture_consistency off): the guides are cut from it with "
        "each example's crop, gain and channel swap instead of coding the true stems",
    )
    generated_held_out: ComponentSpec | None = Field(
        None, description="with generated: the same for validation.data's songs (the held-out guides)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> GuideConfig:
        if self.generated is not None and self.code_noise:
            raise ValueError("code_noise imitates generation errors of coded guides; generated guides have their own: drop one")
        if self.generated_held_out is not None and self.generated is None:
            raise ValueError("generated_held_out needs generated (the training songs' generated stems)")
        return self


class CodecGuides:
    """True stems -> guides: each through ``codec`` (frozen, float32) at its rate and channels and
    back to the stems' rate, channels and length; ``code_noise`` of the ids replaced at random."""

    def __init__(self, codec: Codec, code_noise: float = 0.0) -> None:
        self.codec = codec.requires_grad_(False).eval()
        self.code_noise = code_noise

    @property
    def band_hz(self) -> float:
        """The guides carry content up to the codec's Nyquist frequency."""
        return self.codec.sample_rate / 2

    @torch.no_grad()
    def __call__(self, stems: Tensor, sample_rate: int, generator: torch.Generator | None = None) -> Tensor:
        """stems ``[B, S, C, L]`` at ``sample_rate`` -> guides ``[B, S, C, L]``; the noise draws
        from ``generator`` (a CPU generator; None: torch's global one)."""
        batch, n_stems, channels, length = stems.shape
        codec = self.codec.to(stems.device)
        with torch.autocast(stems.device.type, enabled=False):
            items = to_codec_items(stems.reshape(batch * n_stems, channels, length).float(), sample_rate, codec.sample_rate, codec.channels)
            codes = self._corrupt(codec.encode(items), generator)
            decoded = codec.decode(codes)[..., : items.shape[-1]]
        if codec.channels == 1:
            decoded = unfold_channels(decoded, channels)
        guides = fit_length(convert(decoded, codec.sample_rate, sample_rate, channels), length)
        return guides.reshape(batch, n_stems, channels, length).to(stems.dtype)

    def _corrupt(self, codes: Tensor, generator: torch.Generator | None) -> Tensor:
        """codes ``[N, K, T']`` with each id replaced, with chance ``code_noise``, by a uniform one."""
        if self.code_noise == 0:
            return codes
        hit = torch.rand(codes.shape, generator=generator) < self.code_noise
        ids = torch.randint(0, self.codec.codebook_size, codes.shape, generator=generator)
        return torch.where(hit.to(codes.device), ids.to(codes.device), codes)


def build_guide_codec(registry: ComponentRegistry, config: GuideConfig, source: str) -> tuple[Codec, ComponentSpec]:
    """The codec ``config`` names (or its checkpoint's config names) with the checkpoint's weights,
    and its spec."""
    from tokensep_core.training.checkpoint import load_codec_checkpoint

    spec = config.codec or stored_codec_spec(config.checkpoint, source)
    codec = registry.build("codec", spec, source=source)
    load_codec_checkpoint(codec, config.checkpoint)
    return codec, spec


def stored_codec_spec(checkpoint: Path, source: str) -> ComponentSpec:
    """The codec spec in a checkpoint's config.json: a separator's ``task.model.codec`` or a codec
    run's ``task.codec``."""
    from tokensep_core.training.checkpoint import read_json, resolve_checkpoint

    path = resolve_checkpoint(checkpoint)
    task = read_json(path, "config").get("task")
    task = task if isinstance(task, dict) else {}
    spec = (task.get("model") if isinstance(task.get("model"), dict) else task).get("codec")
    if not isinstance(spec, dict):
        raise ConfigError(f"{source}: {path / 'config.json'} names no codec; set guide.codec")
    return ComponentSpec.model_validate(spec)
