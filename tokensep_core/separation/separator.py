"""The generative separator: mixture -> prefix -> generated codes per stem -> decoded stems.

A song is cut into overlapping segments at its own rate (tokensep_core.audio.chunking); a batch of
segments is converted to the codec's rate, encoded, generated, decoded, converted back and
cross-faded. The mixture can be read and the stems written block by block (``separate_file``),
so a song of any length separates in bounded memory.
Stems come back at the input's sample rate, channel count and length. A mono codec separates
each input channel as its own batch item (or, with ``inference.stereo: mid``, the channels' mean
once, its stems given to every channel); a multi-channel codec gets the input converted to its
channel count and back.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from tokensep_core.audio.channels import to_codec_items, unfold_channels
from tokensep_core.audio.chunking import ReadFn, overlap_add_stream
from tokensep_core.audio.io import (
    AudioWriter,
    ClipMode,
    Mp3Settings,
    Subtype,
    abort_all,
    audio_info,
    commit_all,
    convert,
    read_audio,
    readable,
)
from tokensep_core.audio.length import fit_length
from tokensep_core.config import ComponentConfig
from tokensep_core.errors import AudioError, CheckpointError, ConfigError
from tokensep_core.interfaces import MixtureDecoder, Separator, Song
from tokensep_core.registry import ComponentRegistry
from tokensep_core.runtime.device import resolve_device
from tokensep_core.runtime.precision import inference_precision
from tokensep_core.runtime.signals import interrupts_held
from tokensep_core.separation.boundaries import check_decoded, check_generated, check_prefix
from tokensep_core.separation.inference import InferenceConfig, merge_inference
from tokensep_core.separation.mixture_fit import fit_to_mixture
from tokensep_core.separation.pipeline import Pipeline, PipelineConfig, build_pipeline
from tokensep_core.separation.whole_file import output_stems
from tokensep_core.tokens.health import code_histogram

MAX_CHANNELS = 64
"""More rows than this in a mixture ``[C, T]`` is taken for a ``[T, C]`` array and refused."""
SHIFT_SEED_STRIDE = 1_000_003
"""Seed offset between the draws ``shifts`` averages (segments' seeds are consecutive)."""
INTEGER_SCALES = {torch.int8: 2**7, torch.int16: 2**15, torch.int32: 2**31, torch.int64: 2**63}


def as_mixture(wav: Tensor | np.ndarray) -> Tensor:
    """A torch or numpy mixture ``[C, T]`` or ``[T]`` as a float tensor ``[C, T]``: integer PCM
    scaled to [-1, 1) (uint8 centred on 128), float kept; other shapes and types refused naming them."""
    if isinstance(wav, np.ndarray):
        if wav.dtype == np.uint8:
            wav = (wav.astype(np.float32) - 128) / 128
        elif wav.dtype.kind not in "iuf":
            raise ConfigError(f"separate expects float or integer PCM samples, got a numpy array of {wav.dtype}")
        wav = torch.from_numpy(np.ascontiguousarray(wav))
    if not isinstance(wav, Tensor):
        raise ConfigError(f"separate expects a torch tensor or numpy array [channels, samples], got {type(wav).__name__}")
    if wav.dtype == torch.uint8:
        wav = (wav.float() - 128) / 128
    elif wav.dtype in INTEGER_SCALES:
        wav = wav.to(torch.float64 if wav.dtype == torch.int64 else torch.float32) / INTEGER_SCALES[wav.dtype]
        wav = wav.float()
    elif not wav.is_floating_point():
        raise ConfigError(f"separate expects float or integer PCM samples, got a tensor of {wav.dtype}")
    if wav.dim() == 1:
        wav = wav.unsqueeze(0)
    if wav.dim() != 2 or wav.shape[-1] == 0:
        raise ConfigError(f"separate expects a mixture [channels, samples] (or [samples] for mono), got shape {list(wav.shape)}")
    if wav.shape[0] > MAX_CHANNELS:
        raise ConfigError(
            f"separate expects a mixture [channels, samples], got shape {list(wav.shape)}: {wav.shape[0]} channels "
            f"(at most {MAX_CHANNELS}); for a [samples, channels] array pass its transpose (wav.T)"
        )
    return wav


def check_sample_rate(sample_rate: object) -> int:
    """``sample_rate`` as a positive int, or a one-line error."""
    if (
        isinstance(sample_rate, bool)
        or not isinstance(sample_rate, numbers.Real)
        or not math.isfinite(sample_rate)
        or sample_rate != int(sample_rate)
        or sample_rate <= 0
    ):
        raise ConfigError(f"sample_rate must be a positive whole number of Hz, got {sample_rate!r}")
    return int(sample_rate)


class GenerativeSeparator(Separator):
    """tokensep's separator: codec + condition encoder + token LM behind :class:`Separator`."""

    def __init__(self, pipeline: Pipeline, inference: InferenceConfig | None = None, device: str | torch.device = "auto") -> None:
        self.pipeline = pipeline
        self.inference = inference or InferenceConfig()
        self.device = resolve_device(device) if isinstance(device, str) else device
        self.stems = pipeline.config.stems
        self.trained_seconds: float | None = None
        """Length of the training crops, when the checkpoint stores it (``task.augment.seconds``)."""
        self._generated_counts: dict[str, Tensor] = {}
        self.mixture_decoder: MixtureDecoder | None = None
        """The trained decoder ``mixture_consistency: decoder`` runs (loaded from ``inference.mixture_decoder``)."""
        self._check_inference(self.inference, "inference")
        self.mixture_decoder = self._load_decoder(self.inference, "inference")
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
            if inference.mixture_decoder is not None:
                from tokensep_core.separation.decoder_checkpoint import stored_decoder_path

                inference = inference.model_copy(update={"mixture_decoder": stored_decoder_path(path, inference.mixture_decoder)})
        separator = cls(pipeline, inference, device)
        seconds = (stored["task"].get("augment") or {}).get("seconds")
        separator.trained_seconds = float(seconds) if isinstance(seconds, int | float) else None
        return separator

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
        self.mixture_decoder = self._load_decoder(inference, source)
        self.inference = inference

    def _check_inference(self, inference: InferenceConfig, source: str) -> None:
        """Refuse family-specific settings the LM's family does not read, and mid-channel generation
        with a codec that codes several channels."""
        lm, codec = self.pipeline.lm, self.pipeline.codec
        if inference.stereo == "mid" and codec.channels != 1:
            raise ConfigError(
                f"{source}: stereo 'mid' applies to a mono codec only; this separator's codec ({type(codec).__name__}) codes {codec.channels} channels"
            )
        for name in InferenceConfig.FAMILY_SETTINGS:
            if getattr(inference, name) is not None and name not in lm.family.inference_settings:
                raise ConfigError(f"{source}: {name} does not apply to this separator's LM ({type(lm).__name__}, {lm.family.name} family)")

    def _load_decoder(self, inference: InferenceConfig, source: str) -> MixtureDecoder | None:
        """The mixture decoder ``inference`` names, on this separator's device; the one already
        loaded when the path is the same (None: no decoder). Its stems must be this separator's."""
        from tokensep_core.separation.decoder_checkpoint import check_decoder_stems, load_mixture_decoder

        path = inference.mixture_decoder
        if path is None:
            return None
        if self.mixture_decoder is not None and self.inference.mixture_decoder == path:
            return self.mixture_decoder
        decoder = load_mixture_decoder(path)
        check_decoder_stems(decoder, self.stems, f"{source}: mixture decoder {path}")
        return decoder.to(self.device)

    @property
    def sample_rate(self) -> int:
        return self.pipeline.codec.sample_rate

    def separate(
        self, wav: Tensor | np.ndarray, sample_rate: int, stems: Sequence[str] | None = None, progress: bool = False
    ) -> dict[str, Tensor] | dict[str, np.ndarray]:
        """mixture ``[C, T]`` (or mono ``[T]``) at ``sample_rate`` -> ``{stem: [C, T]}`` at the same
        rate, channels and length, for ``stems`` (a list of names; default: all).

        ``wav`` is a torch tensor or a numpy array, float (any scale) or integer PCM (int16, int32,
        int8, uint8: scaled to [-1, 1)). Stems come back as the same kind (tensor or array), float
        of the input's float type (float32 for integer input), on the input's device. A ``[T, C]``
        array (more than :data:`MAX_CHANNELS` rows) is refused, not transposed."""
        numpy_input = isinstance(wav, np.ndarray)
        mixture = as_mixture(wav)
        sample_rate = check_sample_rate(sample_rate)
        stems = self.check_stems(stems)

        def read(start: int, frames: int) -> Tensor:
            return mixture[..., start : start + frames]

        blocks = list(self.separate_stream(read, mixture.shape[-1], sample_rate, mixture.shape[0], stems, progress))
        out = {stem: torch.cat([block[stem] for block in blocks], dim=-1).to(mixture.device, mixture.dtype) for stem in blocks[0]}
        return {stem: value.cpu().numpy() for stem, value in out.items()} if numpy_input else out

    def check_stems(self, stems: Sequence[str] | None) -> tuple[str, ...]:
        """``stems`` validated: a non-empty list of distinct names this model separates (None: all)."""
        if stems is None:
            return self.stems
        if isinstance(stems, str | bytes) or not isinstance(stems, Sequence | set | frozenset):
            raise ConfigError(f"stems must be a list of stem names, e.g. ['vocals'], not {stems!r}")
        stems = tuple(stems)
        if not stems:
            raise ConfigError(f"stems is empty; this model separates {', '.join(self.stems)}")
        unknown = [s for s in stems if s not in self.stems]
        if unknown:
            raise ConfigError(f"unknown stems {unknown}; this model separates {', '.join(self.stems)}")
        if len(set(stems)) != len(stems):
            raise ConfigError(f"stems {list(stems)} names a stem twice")
        return stems

    def separate_file(
        self,
        path: str | Path,
        targets: Mapping[str, str | Path],
        subtype: Subtype = "PCM_16",
        progress: bool = False,
        clip: ClipMode = "clamp",
        mp3: Mp3Settings | None = None,
    ) -> dict[Path, float]:
        """Separate the audio file ``path`` into ``{stem: output file}``, streaming: the mixture is
        read and the stems written one batch of segments at a time, so memory does not grow with
        the song's length. Every target is written under a temporary name and all are renamed
        together at the end: on any error no output file (nor a folder made for one) exists.

        A target named ``no_STEM`` gets the mixture minus ``STEM`` (demucs's ``--two-stems``), so
        the two sum to the mixture. A file libsndfile cannot read is decoded by ffmpeg first.
        ``clip`` and ``mp3`` (for ``.mp3`` targets): see :class:`~tokensep_core.audio.io.AudioWriter`.
        -> ``{output file: gain}``: the factor ``clip="rescale"`` scaled each by (1: unchanged)."""
        sources = output_stems(self, targets)
        complements = {name: stem for name, stem in sources.items() if name != stem}
        generated = self.check_stems(list(dict.fromkeys(sources.values())))
        with readable(path) as source:
            info = audio_info(source)

            def read(start: int, frames: int) -> Tensor:
                return read_audio(source, start, frames)[0]

            writers: list[AudioWriter] = []
            try:
                with interrupts_held():  # every temporary file is in `writers` before an interrupt lands
                    for target in targets.values():
                        writers.append(AudioWriter(target, info.sample_rate, info.channels, subtype, clip, mp3))
                position = 0
                for block in self.separate_stream(read, info.frames, info.sample_rate, info.channels, generated, progress):
                    samples = next(iter(block.values())).shape[-1]
                    mixture = read(position, samples).to(self.device) if complements else None
                    position += samples
                    for writer, name in zip(writers, targets):
                        writer.write(mixture - block[complements[name]] if name in complements else block[name])
            except BaseException:
                abort_all(writers)
                raise
            return commit_all(writers)

    def separate_stream(
        self, read: ReadFn, length: int, sample_rate: int, channels: int, stems: Sequence[str] | None = None, progress: bool = False
    ) -> Iterator[dict[str, Tensor]]:
        """Separate a mixture of ``length`` samples that ``read(start, frames) -> [C, n]`` fetches
        on demand; yield consecutive blocks ``{stem: [C, n]}`` (float32, on this separator's
        device) at the mixture's rate, covering ``[0, length)``.

        Segments are cut at the mixture's rate and converted to the codec's one by one, so the
        same song gives the same stems whether it is in memory or streamed from a file.
        """
        stems = self.check_stems(stems)
        if length < 1:
            raise ConfigError("separate expects a mixture with at least one sample")
        codec = self.pipeline.codec
        fold = codec.channels == 1  # a mono codec separates every input channel as its own item
        mid = fold and channels > 1 and self.inference.stereo == "mid"
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
            source = batch.mean(dim=1, keepdim=True) if mid else batch
            items = to_codec_items(source, sample_rate, codec.sample_rate, codec.channels)
            out = self._separate_segments(items, generated, seed, progress)  # [B', n, C', L']
            for shift in range(1, self.inference.shifts):  # more draws, each seeded apart, averaged
                draw_seed = None if seed is None else seed + SHIFT_SEED_STRIDE * shift
                out = out + (self._separate_segments(items, generated, draw_seed, progress) - out) / (shift + 1)
            if fold and not mid:  # with mid, convert repeats the one generation to every channel
                out = unfold_channels(out, chans)
            out = fit_length(convert(out, codec.sample_rate, sample_rate, chans), samples)
            # per segment; cross-fading stems that each sum to the mixture keeps the sum
            return fit_to_mixture(batch, out, method, sample_rate, codec.sample_rate / 2, self.mixture_decoder)[:, keep]

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
