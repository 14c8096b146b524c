"""The generative separator: mixture -> prefix -> generated codes per stem -> decoded stems.

A song is cut into overlapping segments at its own rate (tokensep_core.audio.chunking); a batch of
segments is converted to the codec's rate, encoded, generated, decoded, converted back and
cross-faded. The mixture can be read and the stems written block by block (``separate_file``),
so a song of any length separates in bounded memory.
Stems come back at the input's sample rate, channel count and length. A mono codec separates
each input channel as its own batch item; a multi-channel codec gets the input converted to its
channel count and back.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import torch
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator
from torch import Tensor

from tokensep_core.audio.channels import to_codec_items, unfold_channels
from tokensep_core.audio.chunking import ReadFn, overlap_add_stream
from tokensep_core.audio.io import AudioWriter, Subtype, audio_info, commit_all, convert, read_audio
from tokensep_core.audio.length import fit_length
from tokensep_core.config import ComponentConfig
from tokensep_core.errors import AudioError, CheckpointError, ConfigError
from tokensep_core.interfaces import Separator, Song
from tokensep_core.lm.sampling import DRAW_SETTINGS, SamplingConfig
from tokensep_core.registry import ComponentRegistry
from tokensep_core.runtime.device import resolve_device
from tokensep_core.runtime.precision import Precision, inference_precision
from tokensep_core.separation.boundaries import check_decoded, check_generated, check_prefix
from tokensep_core.separation.mixture_fit import MixtureConsistency, fit_to_mixture
from tokensep_core.separation.pipeline import Pipeline, PipelineConfig, build_pipeline
from tokensep_core.tokens.health import code_histogram


class InferenceConfig(BaseModel):
    """How a song is cut, sampled and put back together."""

    model_config = ConfigDict(extra="forbid")

    FAMILY_SETTINGS: ClassVar[tuple[str, ...]] = ("passes",)
    """Settings only some LM families read (their ``inference_settings``); None: unset."""

    segment_seconds: float = Field(5.0, gt=0, description="length of one generated segment")
    overlap: float = Field(0.25, ge=0, lt=1, description="fraction of a segment shared with the next")
    batch_size: int = Field(16, ge=1, description="segments generated together")
    sampling: SamplingConfig = Field(default_factory=lambda: SamplingConfig(temperature=0.8, top_k=50, top_p=0.95))
    seed: int | None = Field(0, description="seed of the sampler (None: not reproducible)")
    mixture_consistency: MixtureConsistency = Field(
        "off",
        description="make the stems sum to the mixture: off, shift (add the residual equally) or mask (split the mixture's STFT by the generated stems' soft masks); see separation.mixture_fit",
    )
    passes: list[PositiveInt] | None = Field(
        None, min_length=1, description="masked LM only: passes per codebook level, the last repeated (None: the LM's own)"
    )
    dtype: Precision = Field(
        "float32",
        description="compute type of the encoder and LM (bfloat16, float16: LM weights in that type + autocast; bfloat16 packs linear layers on a CPU; the codec stays float32)",
    )

    @field_validator("mixture_consistency", mode="before")
    @classmethod
    def _legacy_bool(cls, value: Any) -> Any:
        """Checkpoints written before the methods existed store true (shift) or false (off)."""
        return {True: "shift", False: "off"}.get(value, value) if isinstance(value, bool) else value


def merge_inference(current: Mapping[str, Any], overrides: Mapping[str, Any], source: str = "inference") -> InferenceConfig:
    """``current`` inference settings with ``overrides`` applied (``sampling`` key by key), validated.
    Overriding a setting only a draw reads (``sampling.temperature``, ``top_k``, ``top_p``,
    ``min_p``, or ``seed``) while the result decodes greedily is refused: it would change
    nothing, so the overrides must say ``"sampling": {"greedy": false}`` to sample."""
    if not isinstance(overrides.get("sampling", {}), Mapping):
        raise ConfigError(f"{source}: invalid inference setting: sampling must be a mapping")
    sampling = {**current.get("sampling", {}), **overrides.get("sampling", {})}
    try:
        merged = InferenceConfig.model_validate({**current, **overrides, "sampling": sampling})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "inference"
        raise ConfigError(f"{source}: invalid inference setting {where}: {first['msg']}") from None
    unused = [f"sampling.{name}" for name in DRAW_SETTINGS if name in overrides.get("sampling", {})] + ["seed"] * ("seed" in overrides)
    if merged.sampling.greedy and unused:
        verb = "has" if len(unused) == 1 else "have"
        raise ConfigError(f"{source}: {', '.join(unused)} {verb} no effect with greedy decoding; set sampling.greedy to false to sample")
    return merged


class GenerativeSeparator(Separator):
    """tokensep's separator: codec + condition encoder + token LM behind :class:`Separator`."""

    def __init__(self, pipeline: Pipeline, inference: InferenceConfig | None = None, device: str | torch.device = "auto") -> None:
        self.pipeline = pipeline
        self.inference = inference or InferenceConfig()
        self.device = resolve_device(device) if isinstance(device, str) else device
        self.stems = pipeline.config.stems
        self._generated_counts: dict[str, Tensor] = {}
        self._check_inference(self.inference, "inference")
        for module in pipeline.modules().values():
            module.to(self.device).eval()

    @classmethod
    def build(cls, config: PipelineConfig, registry: ComponentRegistry | None = None, **kwargs) -> GenerativeSeparator:
        """A separator with freshly initialised weights (seeded by ``config.seed``)."""
        from tokensep_core.plugins import load_registry

        torch.manual_seed(config.seed)
        return cls(build_pipeline(registry or load_registry(), config), **kwargs)

    @classmethod
    def from_pretrained(
        cls,
        directory: str | Path,
        inference: InferenceConfig | None = None,
        device: str | torch.device = "auto",
        registry: ComponentRegistry | None = None,
    ) -> GenerativeSeparator:
        """Load a separator checkpoint (a ``step_…`` directory or a run directory: its latest)."""
        from tokensep_core.plugins import load_registry
        from tokensep_core.provenance import check_components
        from tokensep_core.training.checkpoint import load_weights, read_json, resolve_checkpoint, verify_checkpoint

        path = resolve_checkpoint(directory)
        verify_checkpoint(path)
        stored = read_json(path, "config")
        registry = registry or load_registry()
        check_components(registry, stored, str(path / "config.json"))
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
    def stochastic(self) -> bool:
        """Whether seeds matter: greedy decoding draws nothing, so it is deterministic."""
        return not self.inference.sampling.greedy

    def set_seed(self, seed: int) -> None:
        """Seed the sampler of every following separation."""
        self.inference = self.inference.model_copy(update={"seed": seed})

    def update_inference(self, overrides: Mapping[str, Any], source: str = "inference") -> None:
        """Change some inference settings (``sampling`` merges key by key), validated as a whole."""
        inference = merge_inference(self.inference.model_dump(), overrides, source)
        self._check_inference(inference, source)
        self.inference = inference

    def _check_inference(self, inference: InferenceConfig, source: str) -> None:
        """Refuse family-specific settings the LM's family does not read."""
        lm = self.pipeline.lm
        for name in InferenceConfig.FAMILY_SETTINGS:
            if getattr(inference, name) is not None and name not in lm.family.inference_settings:
                raise ConfigError(f"{source}: {name} does not apply to this separator's LM ({type(lm).__name__}, {lm.family.name} family)")

    @property
    def sample_rate(self) -> int:
        return self.pipeline.codec.sample_rate

    def separate(self, wav: Tensor, sample_rate: int, stems: Sequence[str] | None = None, progress: bool = False) -> dict[str, Tensor]:
        """mixture ``[C, T]`` at ``sample_rate`` -> ``{stem: [C, T]}`` at the same rate, channels
        and length, for ``stems`` (default: all)."""
        if wav.dim() != 2 or wav.shape[-1] == 0:
            raise ConfigError(f"separate expects a mixture [channels, samples], got shape {list(wav.shape)}")

        def read(start: int, frames: int) -> Tensor:
            return wav[..., start : start + frames]

        blocks = list(self.separate_stream(read, wav.shape[-1], sample_rate, wav.shape[0], stems, progress))
        return {stem: torch.cat([block[stem] for block in blocks], dim=-1).to(wav.device, wav.dtype) for stem in blocks[0]}

    def separate_file(
        self, path: str | Path, targets: Mapping[str, str | Path], subtype: Subtype = "PCM_16", progress: bool = False
    ) -> None:
        """Separate the audio file ``path`` into ``{stem: output file}``, streaming: the mixture is
        read and the stems written one batch of segments at a time, so memory does not grow with
        the song's length. Every target is written under a temporary name and all are renamed
        together at the end: on any error no output file exists."""
        info = audio_info(path)

        def read(start: int, frames: int) -> Tensor:
            return read_audio(path, start, frames)[0]

        writers: list[AudioWriter] = []
        try:
            for target in targets.values():
                writers.append(AudioWriter(target, info.sample_rate, info.channels, subtype))
            for block in self.separate_stream(read, info.frames, info.sample_rate, info.channels, list(targets), progress):
                for writer, stem in zip(writers, targets):
                    writer.write(block[stem])
        except BaseException:
            for writer in writers:
                writer.abort()
            raise
        commit_all(writers)

    def separate_stream(
        self, read: ReadFn, length: int, sample_rate: int, channels: int, stems: Sequence[str] | None = None, progress: bool = False
    ) -> Iterator[dict[str, Tensor]]:
        """Separate a mixture of ``length`` samples that ``read(start, frames) -> [C, n]`` fetches
        on demand; yield consecutive blocks ``{stem: [C, n]}`` (float32, on this separator's
        device) at the mixture's rate, covering ``[0, length)``.

        Segments are cut at the mixture's rate and converted to the codec's one by one, so the
        same song gives the same stems whether it is in memory or streamed from a file.
        """
        stems = tuple(stems) if stems is not None else self.stems
        unknown = [s for s in stems if s not in self.stems]
        if unknown:
            raise ConfigError(f"unknown stems {unknown}; this model separates {', '.join(self.stems)}")
        if length < 1:
            raise ConfigError("separate expects a mixture with at least one sample")
        codec = self.pipeline.codec
        fold = codec.channels == 1  # a mono codec separates every input channel as its own item
        method = self.inference.mixture_consistency
        generated = self.stems if method != "off" else stems  # fitting to the mixture needs every stem
        keep = [generated.index(stem) for stem in stems]
        calls = [0]

        def run(batch: Tensor) -> Tensor:
            """segments [B, C, L] at the mixture's rate -> stems [B, n_stems, C, L]."""
            if not torch.isfinite(batch).all():  # refused rather than sanitised: NaN/Inf means a broken file or upstream bug
                raise AudioError("the mixture contains NaN or infinite samples")
            seed = None if self.inference.seed is None else self.inference.seed + calls[0]
            calls[0] += 1
            chans, samples = batch.shape[1:]
            batch = batch.to(self.device, torch.float32)
            items = to_codec_items(batch, sample_rate, codec.sample_rate, codec.channels)
            out = self._separate_segments(items, generated, seed, progress)  # [B', n, C', L']
            if fold:
                out = unfold_channels(out, chans)
            out = fit_length(convert(out, codec.sample_rate, sample_rate, chans), samples)
            # per segment; cross-fading stems that each sum to the mixture keeps the sum
            return fit_to_mixture(batch, out, method, sample_rate, band_hz=codec.sample_rate / 2)[:, keep]

        segment = max(1, round(self.inference.segment_seconds * sample_rate))
        for block in overlap_add_stream(run, read, length, segment, self.inference.overlap, self.inference.batch_size, progress):
            yield dict(zip(stems, block))

    @torch.inference_mode()
    def code_counts(self, song: Song) -> tuple[dict[str, Tensor], dict[str, Tensor]]:
        """Id counts ``{stem: [K, V]}`` of the codes generated since the previous call, and of
        ``song``'s reference stems encoded by this separator's codec."""
        codec = self.pipeline.codec
        generated = {stem: counts.cpu() for stem, counts in self._generated_counts.items()}
        self._generated_counts = {}
        reference = {}
        for stem in generated:
            if stem in song.stems:
                items = to_codec_items(
                    song.stems[stem].unsqueeze(0).to(self.device, torch.float32), song.sample_rate, codec.sample_rate, codec.channels
                )
                reference[stem] = code_histogram(codec.encode(items), codec.codebook_size).cpu()
        return generated, reference

    @torch.inference_mode()
    def _separate_segments(self, segments: Tensor, stems: Sequence[str], seed: int | None, progress: bool) -> Tensor:
        """segments ``[B, C, L]`` at the codec rate -> stems ``[B, n_stems, C, L]``."""
        codec, encoder, lm = self.pipeline.codec, self.pipeline.encoder, self.pipeline.lm
        labels, batch = self.pipeline.labels, segments.shape[0]
        conditioning = convert(segments, codec.sample_rate, encoder.sample_rate, encoder.channels)
        frames = math.ceil(segments.shape[-1] / codec.hop_length)
        with inference_precision(lm, self.inference.dtype, self.device):
            prefix, mask = encoder(encoder.prepare(conditioning))
            check_prefix(prefix, mask, encoder, batch, labels["encoder"])
            codes = lm.family.generate(lm, self.pipeline.token_layout, prefix, frames, mask, self.inference, stems, seed, progress)
        check_generated(codes, stems, codec, batch, frames, labels["lm"])
        for stem in stems:
            counts = code_histogram(
                codes[stem].reshape(-1, *codes[stem].shape[-2:]), codec.codebook_size
            )  # stays on the device: no sync per batch
            self._generated_counts[stem] = self._generated_counts.get(stem, 0) + counts
        decoded = []
        for stem in stems:
            wav = codec.decode(codes[stem])
            check_decoded(wav, codec, codes[stem], labels["codec"])
            decoded.append(wav[..., : segments.shape[-1]])
        return torch.stack(decoded, dim=1)


class GenerativeSeparatorConfig(ComponentConfig):
    checkpoint: Path = Field(description="a separator checkpoint: a step_… directory or a run directory (its latest)")
    inference: dict[str, Any] = Field(default_factory=dict, description="overrides of the checkpoint's inference settings")
    device: str = Field("auto", description="cpu, cuda, cuda:N, mps or auto")


def load_generative(config: GenerativeSeparatorConfig) -> GenerativeSeparator:
    """A trained generative separator (registered as separator ``generative``)."""
    separator = GenerativeSeparator.from_pretrained(config.checkpoint, device=config.device)
    if config.inference:
        separator.update_inference(config.inference, f"separator 'generative' ({config.checkpoint})")
    return separator
