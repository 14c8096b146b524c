"""The generative separator: mixture -> prefix -> generated codes per stem -> decoded stems.

A song is cut into overlapping segments at the codec's rate (tokensep_core.chunking); a batch of
segments is encoded, generated and decoded together, and the segments are cross-faded back.
Stems come back at the input's sample rate, channel count and length. A mono codec separates
each input channel as its own batch item; a multi-channel codec gets the input converted to its
channel count and back.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, Sequence

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor

from tokensep_core.audio_io import convert
from tokensep_core.chunking import chunked_apply
from tokensep_core.device import resolve_device
from tokensep_core.errors import AudioError, CheckpointError, ConfigError
from tokensep_core.generation import generate
from tokensep_core.interfaces import Separator
from tokensep_core.pipeline import Pipeline, PipelineConfig, build_pipeline
from tokensep_core.registry import ComponentRegistry
from tokensep_core.sampling import SamplingConfig


class InferenceConfig(BaseModel):
    """How a song is cut, sampled and put back together."""

    model_config = ConfigDict(extra="forbid")

    segment_seconds: float = Field(5.0, gt=0, description="length of one generated segment")
    overlap: float = Field(0.25, ge=0, lt=1, description="fraction of a segment shared with the next")
    batch_size: int = Field(16, ge=1, description="segments generated together")
    sampling: SamplingConfig = Field(default_factory=lambda: SamplingConfig(temperature=0.8, top_k=50, top_p=0.95))
    seed: int | None = Field(0, description="seed of the sampler (None: not reproducible)")
    mixture_consistency: bool = Field(False, description="shift the stems so they sum to the mixture")
    dtype: Literal["float32", "bfloat16"] = Field(
        "float32", description="compute type of the encoder and LM (bfloat16: LM weights in bfloat16 + autocast; the codec stays float32)"
    )


class GenerativeSeparator(Separator):
    """tokensep's separator: codec + condition encoder + token LM behind :class:`Separator`."""

    def __init__(self, pipeline: Pipeline, inference: InferenceConfig | None = None, device: str | torch.device = "auto") -> None:
        self.pipeline = pipeline
        self.inference = inference or InferenceConfig()
        self.device = resolve_device(device) if isinstance(device, str) else device
        self.stems = pipeline.config.stems
        for module in pipeline.modules().values():
            module.to(self.device).eval()

    @classmethod
    def build(cls, config: PipelineConfig, registry: ComponentRegistry | None = None, **kwargs) -> GenerativeSeparator:
        """A separator with freshly initialised weights (seeded by ``config.seed``)."""
        from tokensep_core.plugins import load_registry

        torch.manual_seed(config.seed)
        return cls(build_pipeline(registry or load_registry(), config), **kwargs)

    @classmethod
    def from_pretrained(cls, directory: str | Path, inference: InferenceConfig | None = None, device: str | torch.device = "auto", registry: ComponentRegistry | None = None) -> GenerativeSeparator:
        """Load a separator checkpoint (a ``step_…`` directory or a run directory: its latest)."""
        from tokensep_core.plugins import load_registry
        from tokensep_core.training.checkpoint import load_weights, read_json, resolve_checkpoint, verify_checkpoint

        path = resolve_checkpoint(directory)
        verify_checkpoint(path)
        stored = read_json(path, "config")
        try:
            model_config = stored["task"]["model"]
        except (KeyError, TypeError):
            raise CheckpointError(f"{path}: not a separator checkpoint (config.json has no task.model)") from None
        config = PipelineConfig.model_validate({**model_config, "codec_checkpoint": None})
        pipeline = build_pipeline(registry or load_registry(), config, str(path / "config.json"))
        load_weights(path, pipeline.modules(), verify=False)
        if inference is None and "inference" in stored["task"]:
            inference = InferenceConfig.model_validate(stored["task"]["inference"])
        return cls(pipeline, inference, device)

    @property
    def sample_rate(self) -> int:
        return self.pipeline.codec.sample_rate

    def separate(self, wav: Tensor, sample_rate: int, stems: Sequence[str] | None = None, progress: bool = False) -> dict[str, Tensor]:
        """mixture ``[C, T]`` at ``sample_rate`` -> ``{stem: [C, T]}`` at the same rate, channels
        and length, for ``stems`` (default: all)."""
        stems = tuple(stems) if stems is not None else self.stems
        unknown = [s for s in stems if s not in self.stems]
        if unknown:
            raise ConfigError(f"unknown stems {unknown}; this model separates {', '.join(self.stems)}")
        if wav.dim() != 2 or wav.shape[-1] == 0:
            raise ConfigError(f"separate expects a mixture [channels, samples], got shape {list(wav.shape)}")
        if not torch.isfinite(wav).all():  # refused rather than sanitised: NaN/Inf means a broken file or upstream bug
            raise AudioError("the mixture contains NaN or infinite samples")
        codec = self.pipeline.codec
        channels, length = wav.shape
        fold = codec.channels == 1  # a mono codec separates every input channel as its own item
        work_channels = channels if fold else codec.channels
        mixture = convert(wav.to(self.device, torch.float32), sample_rate, codec.sample_rate, work_channels)
        segment = max(1, round(self.inference.segment_seconds * codec.sample_rate))
        segment = math.ceil(segment / codec.hop_length) * codec.hop_length
        calls = [0]

        def run(batch: Tensor) -> Tensor:
            """segments [B, C, L] -> stems [B, n_stems, C, L]."""
            seed = None if self.inference.seed is None else self.inference.seed + calls[0]
            calls[0] += 1
            size, chans, samples = batch.shape
            items = batch.reshape(size * chans, 1, samples) if fold else batch
            out = self._separate_segments(items, stems, seed, progress)
            return out.reshape(size, chans, len(stems), samples).transpose(1, 2) if fold else out

        separated = chunked_apply(run, mixture, segment, self.inference.overlap, self.inference.batch_size, progress=progress)
        result = {}
        for i, stem in enumerate(stems):
            estimate = convert(separated[i], codec.sample_rate, sample_rate, channels)
            result[stem] = _fit_length(estimate, length).to(wav.device, wav.dtype)
        if self.inference.mixture_consistency and set(stems) == set(self.stems):
            residual = (wav - sum(result.values())) / len(result)
            result = {stem: estimate + residual for stem, estimate in result.items()}
        return result

    @torch.inference_mode()
    def _separate_segments(self, segments: Tensor, stems: Sequence[str], seed: int | None, progress: bool) -> Tensor:
        """segments ``[B, C, L]`` at the codec rate -> stems ``[B, n_stems, C, L]``."""
        codec, encoder = self.pipeline.codec, self.pipeline.encoder
        conditioning = convert(segments, codec.sample_rate, encoder.sample_rate, encoder.channels)
        frames = math.ceil(segments.shape[-1] / codec.hop_length)
        low_precision = self.inference.dtype == "bfloat16"
        # bf16 weights halve the bytes each decode step reads; autocast alone re-casts them every step
        self.pipeline.lm.to(torch.bfloat16 if low_precision else torch.float32)
        with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=low_precision):
            prefix, mask = encoder(encoder.prepare(conditioning))
            codes = generate(self.pipeline.lm, self.pipeline.token_layout, prefix, frames, mask, self.inference.sampling, stems, seed, progress)
        decoded = [codec.decode(codes[stem])[..., : segments.shape[-1]] for stem in stems]
        return torch.stack(decoded, dim=1)


def _fit_length(wav: Tensor, length: int) -> Tensor:
    """Trim or zero-pad ``[C, T]`` to ``length`` samples (resampling may be off by one)."""
    if wav.shape[-1] >= length:
        return wav[..., :length]
    return torch.nn.functional.pad(wav, (0, length - wav.shape[-1]))
