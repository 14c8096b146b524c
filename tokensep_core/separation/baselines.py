"""Reference separators that bound every method from below and above: silence, mixture copy,
oracle and codec oracle."""

from __future__ import annotations

import math
from pathlib import Path

import torch
from pydantic import Field, model_validator
from torch import Tensor

from tokensep_core import STEMS
from tokensep_core.audio.channels import fold_channels, unfold_channels
from tokensep_core.audio.chunking import chunked_apply
from tokensep_core.audio.io import convert
from tokensep_core.audio.length import fit_length
from tokensep_core.config import ComponentConfig, ComponentSpec
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Codec, MixtureDecoder, Separator, Song
from tokensep_core.runtime.device import resolve_device
from tokensep_core.separation.decoder_checkpoint import check_decoder_stems, load_mixture_decoder
from tokensep_core.separation.inference import MixtureConsistency, StereoGeneration
from tokensep_core.separation.mixture_fit import fit_to_mixture


class BaselineConfig(ComponentConfig):
    stems: tuple[str, ...] = Field(STEMS, min_length=1)


class _StemsBaseline(Separator):
    """A baseline configured by its stem names alone."""

    Config = BaselineConfig

    def __init__(self, config: BaselineConfig) -> None:
        self.config = config
        self.stems = config.stems


class MixtureCopy(_StemsBaseline):
    """Lower bound: every stem estimate is the unchanged mixture.

    This is the SiSEC/MUSDB "mixture" baseline (not the mixture divided by the number of
    stems), so its SDR for a stem is the stem-to-rest ratio of the input itself.
    """

    def separate(self, wav: Tensor, sample_rate: int) -> dict[str, Tensor]:
        """mixture ``[C, T]`` -> ``{stem: [C, T]}``, each a copy of the mixture."""
        del sample_rate
        return {stem: wav.clone() for stem in self.stems}


class Silence(_StemsBaseline):
    """Floor of the SDR family: every stem estimate is silence (zeros of the mixture's shape).

    The error is then the reference itself, so uSDR and SI-SDR are 0 dB on every stem of every
    song (the eps terms cancel): a separator scoring near 0 dB does no better than outputting
    nothing. Its output ignores the input, so its controls say it does not use the mixture.
    """

    def separate(self, wav: Tensor, sample_rate: int) -> dict[str, Tensor]:
        """mixture ``[C, T]`` -> ``{stem: [C, T]}`` of zeros."""
        del sample_rate
        return {stem: torch.zeros_like(wav) for stem in self.stems}


class OracleConfig(BaselineConfig):
    leak: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="gain of the rest of the mixture added to each true stem: 0 the oracle, 1 mixture copy",
    )


class Oracle(_StemsBaseline):
    """Upper bound: returns the song's true stems (needs a :class:`Song` with references).

    With ``leak`` g > 0 it is a *leaky oracle*: each stem is ``reference + g * (mixture -
    reference)``, the true stem with the rest of the song g times quieter (20 log10 g dB: 0.1 is
    -20 dB). A ladder of leaks calibrates a metric: how much leakage it tolerates before the
    mismatched control or mixture copy catches up, i.e. where on that ladder a separator sits.
    """

    Config = OracleConfig
    config: OracleConfig

    def separate(self, wav: Tensor, sample_rate: int) -> dict[str, Tensor]:
        raise ConfigError("separator 'oracle' needs the reference stems: call separate_song with a Song that has them")

    def separate_song(self, song: Song) -> dict[str, Tensor]:
        """-> ``{stem: [C, T]}``: ``song.stems`` (each must match the mixture's shape) plus
        ``leak`` times the rest of the mixture."""
        leak = self.config.leak
        references = _references(self.stems, song, "oracle")
        return {stem: wav + leak * (song.mixture - wav) if leak else wav.clone() for stem, wav in references.items()}


def _references(stems: tuple[str, ...], song: Song, separator: str) -> dict[str, Tensor]:
    """``song.stems`` for ``stems``, each checked to have the mixture's shape."""
    references = {}
    for stem in stems:
        if stem not in song.stems:
            have = ", ".join(sorted(song.stems)) or "none"
            raise ConfigError(f"separator {separator!r}: song {song.name!r} has no reference stem {stem!r} (has: {have})")
        reference = song.stems[stem]
        if reference.shape != song.mixture.shape:
            raise ConfigError(
                f"separator {separator!r}: song {song.name!r} stem {stem!r} has shape {list(reference.shape)}, "
                f"mixture has {list(song.mixture.shape)}"
            )
        references[stem] = reference
    return references


class CodecOracleConfig(BaselineConfig):
    """The codec round trip of the true stems, and optionally the generative separator's last
    stage on them: its mixture fit and stereo handling, so that the row is that separator with a
    perfect LM (the *decoder oracle* with ``mixture_consistency: decoder``)."""

    codec: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="debug"), description="registered codec and its params")
    checkpoint: Path | None = Field(None, description="trained codec weights: a checkpoint directory or run directory (its latest)")
    segment_seconds: float = Field(10.0, gt=0, description="stems pass through the codec in segments of this length")
    overlap: float = Field(0.25, ge=0, lt=1, description="fraction of a segment shared with the next")
    batch_size: int = Field(4, ge=1, description="segments encoded together")
    device: str = Field("auto", description="auto, cpu, cuda, cuda:1, mps")
    mixture_consistency: MixtureConsistency = Field(
        "off", description="off: the coded stems; mask, shift or decoder: the mixture split by them, as the generative separator does"
    )
    mixture_decoder: Path | None = Field(None, description="with mixture_consistency decoder: a mixture-decoder run or step directory")
    stereo: StereoGeneration = Field(
        "per_channel", description="with a mono codec and a multi-channel song: per_channel, or mid (each stem's channel mean coded once)"
    )

    @model_validator(mode="after")
    def _decoder_with_its_method(self) -> CodecOracleConfig:
        if (self.mixture_consistency == "decoder") != (self.mixture_decoder is not None):
            raise ValueError("mixture_decoder and mixture_consistency 'decoder' go together: name both or neither")
        if self.stereo == "mid" and self.mixture_consistency == "off":
            raise ValueError("stereo 'mid' gives every channel the same coded stem: it needs a mixture_consistency to split each channel")
        return self


class CodecOracle(Separator):
    """Upper bound of any token method: each true stem encoded and decoded by the codec.

    Stems are converted to the codec's rate and channels (a mono codec codes every channel as
    its own item, as the generative separator does), coded in overlapping segments, and
    converted back to the song's rate, channels and length.
    """

    Config = CodecOracleConfig

    def __init__(self, config: CodecOracleConfig, codec: Codec | None = None) -> None:
        """``codec``: an already loaded codec to use instead of building ``config.codec``."""
        from tokensep_core.plugins import load_registry  # the registry imports this module
        from tokensep_core.training.checkpoint import load_codec_checkpoint

        self.config = config
        self.stems = config.stems
        self.device = resolve_device(config.device)
        if codec is None:
            codec = load_registry().build("codec", config.codec, source="separator 'codec_oracle'")
            if config.checkpoint is not None:
                load_codec_checkpoint(codec, config.checkpoint)
        self.codec: Codec = codec.requires_grad_(False).to(self.device).eval()
        self.mixture_decoder: MixtureDecoder | None = None
        if config.mixture_decoder is not None:
            self.mixture_decoder = load_mixture_decoder(config.mixture_decoder).to(self.device)
            check_decoder_stems(self.mixture_decoder, self.stems, f"mixture_decoder {str(config.mixture_decoder)!r}")

    def separate(self, wav: Tensor, sample_rate: int) -> dict[str, Tensor]:
        raise ConfigError("separator 'codec_oracle' needs the reference stems: call separate_song with a Song that has them")

    def separate_song(self, song: Song) -> dict[str, Tensor]:
        """-> ``{stem: [C, T]}``: every reference stem after an encode/decode round trip, then, with
        a ``mixture_consistency``, the mixture split by them."""
        references = _references(self.stems, song, "codec_oracle")
        config, channels = self.config, song.mixture.shape[0]
        mid = config.stereo == "mid" and self.codec.channels == 1 and channels > 1
        coded = {
            stem: self.reconstruct(wav.mean(dim=0, keepdim=True), song.sample_rate, stem).expand(channels, -1)
            if mid
            else self.reconstruct(wav, song.sample_rate, stem)
            for stem, wav in references.items()
        }
        if config.mixture_consistency == "off":
            return coded
        fitted = fit_to_mixture(
            song.mixture.unsqueeze(0).to(self.device, torch.float32),
            torch.stack(list(coded.values())).unsqueeze(0).to(self.device, torch.float32),
            config.mixture_consistency,
            song.sample_rate,
            self.codec.sample_rate / 2,
            self.mixture_decoder,
        )[0]
        return {stem: fitted[i].to(song.mixture.device, song.mixture.dtype) for i, stem in enumerate(coded)}

    @torch.inference_mode()
    def reconstruct(self, wav: Tensor, sample_rate: int, stem: str = "") -> Tensor:
        """wav ``[C, T]`` at ``sample_rate`` -> codec round trip ``[C, T]`` at the same rate
        (``stem`` names what ``wav`` is, for subclasses that measure each stem)."""
        codec = self.codec
        channels, length = wav.shape
        work = convert(
            wav.to(self.device, torch.float32), sample_rate, codec.sample_rate, channels if codec.channels == 1 else codec.channels
        )
        # whole code frames, and no longer than the song: padding a short song to a full segment wastes work
        segment = math.ceil(min(self.config.segment_seconds * codec.sample_rate, work.shape[-1]) / codec.hop_length) * codec.hop_length

        def run(batch: Tensor) -> Tensor:
            """segments [B, C, L] -> decoded [B, C, L]."""
            chans, samples = batch.shape[1:]
            items = fold_channels(batch) if codec.channels == 1 else batch
            decoded = codec.decode(codec.encode(items))[..., :samples]
            return unfold_channels(decoded, chans) if codec.channels == 1 else decoded

        coded = chunked_apply(run, work, segment, self.config.overlap, self.config.batch_size)
        return fit_length(convert(coded, codec.sample_rate, sample_rate, channels), length).to(wav.device, wav.dtype)
