"""``hcodec_dual_rate``: HCodec (low rate, tonal) plus a high-rate residual path for transients.

Per coded channel, the low path is a complete HCodec (hop ``H``); the high path encodes the
residual ``x - HCodec(x)`` with a smaller hop ``h = H / r`` and its own RVQ of ``K_hi`` levels
(with HCodec's dead-code restarts), and its decoder's output is added to HCodec's. The high path
is built like HCodec's STFT recipe at the finer rate: an STFT encoder (log-magnitude and phase,
STFT hop ``h / u``, ConvNeXt, LayerNorm; scale-free, so the small residual still gives distinct
latents) and a decoder that gives each of the ``u`` STFT frames per high-rate frame its own
hidden vector before a 4-hop inverse STFT (time resolution ``h / u`` samples, for attacks).

Code layout. The Codec interface has one frame rate, so the ``r`` high-rate frames inside each
low-rate frame are folded into ``r * K_hi`` extra codebooks of that frame. Per channel::

    [acoustic (n_a) ; semantic (n_s) ; high (r * K_hi)]   high index = j * K_hi + k

for sub-frame ``j`` in ``[0, r)`` and RVQ level ``k`` in ``[0, K_hi)``; channels are
channel-major as in HCodec. Every codebook is one frame-rate stream, so the delay / parallel
patterns and the LMs work unchanged and generate both paths.
Tokens per second of audio: ``frame_rate * channels * (n_a + n_s + r * K_hi)``; e.g. the
``small`` preset (50 Hz) with 1 + 1 low codebooks, ``r = 2`` and ``K_hi = 1``: 50 x 4 = 200, the
same as HCodec with 2 + 2.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from dac.nn.quantize import ResidualVectorQuantize
from einops import rearrange
from pydantic import Field, model_validator
from torch import Tensor

from tokensep_codecs.codebook_restart import CodebookRestart
from tokensep_codecs.hcodec import HCodec, HCodecConfig
from tokensep_codecs.hcodec.modules import ConvNeXtStack, FrameRateUpsampler, ISTFTHead, STFTEncoder
from tokensep_codecs.losses import AdversarialConfig
from tokensep_core.audio.channels import fold_channels, fold_codes, unfold_channels, unfold_codes
from tokensep_core.interfaces import TrainableCodec, TrainOutput
from tokensep_transient.base import hcodec_part


class DualRateConfig(HCodecConfig):
    """HCodec's config (the low path) plus the high-rate residual path."""

    high_hop: int = Field(160, ge=1, description="h: samples per high-rate frame; must divide HCodec's hop")
    high_stft_frames: int = Field(4, ge=1, description="u: STFT frames per high-rate frame (STFT hop h / u, n_fft 4 h / u)")
    high_encoder_dim: int = Field(64, ge=1, description="width of the high-rate STFT encoder's ConvNeXt")
    high_encoder_layers: int = Field(2, ge=0)
    high_latent_dim: int = Field(64, ge=1)
    high_codebooks: int = Field(1, ge=1, description="K_hi: RVQ levels per high-rate frame")
    high_decoder_dim: int = Field(64, ge=1)
    high_decoder_layers: int = Field(2, ge=0)
    high_quantizer_dropout: float = Field(0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _divides(self) -> DualRateConfig:
        if self.hop_length % self.high_hop:
            raise ValueError(f"high_hop {self.high_hop} does not divide the hop {self.hop_length}")
        if self.high_hop % self.high_stft_frames:
            raise ValueError(f"high_stft_frames {self.high_stft_frames} does not divide high_hop {self.high_hop}")
        return self

    @property
    def high_stft_hop(self) -> int:
        return self.high_hop // self.high_stft_frames

    @property
    def ratio(self) -> int:
        """r: high-rate frames per low-rate frame."""
        return self.hop_length // self.high_hop


class DualRateHCodec(TrainableCodec):
    """An inner :class:`HCodec` (``low``) plus a high-rate residual RVQ path (see module docstring)."""

    Config = DualRateConfig

    def __init__(self, config: DualRateConfig) -> None:
        super().__init__()
        self.config = config
        self.low = HCodec(hcodec_part(config))
        self.sample_rate, self.channels = self.low.sample_rate, self.low.channels
        self.frame_rate, self.codebook_size = self.low.frame_rate, self.low.codebook_size
        self.low_codebooks = config.used_acoustic + config.used_semantic
        self.high_codebooks = config.ratio * config.high_codebooks
        self.num_codebooks = config.channels * (self.low_codebooks + self.high_codebooks)
        stft_hop, frames = config.high_stft_hop, config.high_stft_frames
        self.high_encoder = STFTEncoder(
            4 * stft_hop, stft_hop, frames, config.high_encoder_dim, config.high_encoder_layers, config.high_latent_dim
        )
        self.high_quantizer = ResidualVectorQuantize(
            config.high_latent_dim,
            config.high_codebooks,
            config.codebook_size,
            codebook_dim=config.codebook_dim,
            quantizer_dropout=config.high_quantizer_dropout,
        )
        self.high_restart = CodebookRestart(self.high_quantizer, config.codebook_restart)
        self.high_backbone = ConvNeXtStack(config.high_latent_dim, config.high_decoder_dim, config.high_decoder_layers)
        self.high_upsampler = FrameRateUpsampler(config.high_decoder_dim, frames)
        self.high_head = ISTFTHead(config.high_decoder_dim, 4 * stft_hop, stft_hop, 1)

    @property
    def adversarial_config(self) -> AdversarialConfig:
        """Read by CodecTrainingTask."""
        return self.config.adversarial

    def _high_latents(self, residual: Tensor) -> Tensor:
        """residual ``[N, 1, T'*hop]`` -> latents ``[N, D_hi, T'*r]``."""
        steps = residual.shape[-1] // self.config.high_hop
        return self.high_encoder(residual)[..., :steps]

    def _high_decode(self, quantized: Tensor) -> Tensor:
        """quantized ``[N, D_hi, T'*r]`` -> residual wav ``[N, 1, T'*hop]``."""
        return self.high_head(self.high_upsampler(self.high_backbone(quantized)))

    def encode(self, wav: Tensor) -> Tensor:
        """wav ``[B, C, T]`` -> codes ``[B, C*(n_a + n_s + r*K_hi), ceil(T/hop)]`` int64."""
        low_codes = self.low.encode(wav)
        mono, _ = self.low._prepare(wav)
        residual = mono - fold_channels(self.low.decode(low_codes), self.config.stereo_mode)
        k_hi = self.config.high_codebooks
        high = self.high_quantizer(self._high_latents(residual), n_quantizers=k_hi)[1][:, :k_hi].long()
        high = rearrange(high, "n k (t r) -> n (r k) t", r=self.config.ratio)
        return unfold_codes(torch.cat([fold_codes(low_codes, self.channels), high], dim=1), self.channels)

    def decode(self, codes: Tensor) -> Tensor:
        """codes ``[B, num_codebooks, T']`` -> wav ``[B, C, T'*hop]``."""
        if codes.dim() != 3 or codes.shape[1] != self.num_codebooks:
            raise ValueError(f"DualRateHCodec expects codes [B, {self.num_codebooks}, T'], got {list(codes.shape)}")
        per_channel = fold_codes(codes, self.channels)
        low, high = per_channel[:, : self.low_codebooks], per_channel[:, self.low_codebooks :]
        low_wav = fold_channels(self.low.decode(unfold_codes(low, self.channels)), self.config.stereo_mode)
        high = rearrange(high, "n (r k) t -> n k (t r)", r=self.config.ratio)
        high_wav = self._high_decode(self.high_quantizer.from_codes(high)[0])
        return unfold_channels(low_wav + high_wav, self.channels, self.config.stereo_mode)

    def forward(self, wav: Tensor) -> TrainOutput:
        """One training forward on wav ``[B, C, T]``.

        The low path is trained exactly as HCodec (its own terms). The high path codes the
        residual of the low path's (detached) reconstruction and is trained by ``high_*``
        reconstruction terms against that residual, so it learns only what HCodec misses. (Terms
        on the sum instead let it collapse to silence: the sum's log-mel barely moves with a small
        residual, so its output fell to an rms of 6e-6 against the residual's 0.06 by step 400.) ``recon`` (what
        the discriminator sees) is the undetached sum."""
        low = self.low(wav)
        mono, _ = self.low._prepare(wav)
        length = wav.shape[-1]
        base = low.recon.detach()
        residual = mono - F.pad(base, (0, mono.shape[-1] - length))
        quantized, codes, latents, commitment, codebook = self.high_quantizer(self._high_latents(residual))
        if self.training and self.config.codebook_restart.enabled:
            self.high_restart.update(self.high_quantizer, codes, latents)
        high_wav = self._high_decode(quantized)[..., :length]
        losses = dict(low.losses)
        reconstruction = self.low.reconstruction
        losses.update({f"high_{k}": v for k, v in reconstruction(high_wav, low.target - base).items()})
        losses.update(reconstruction.quantizer_terms(commitment, codebook, "high_"))
        return TrainOutput(low.recon + high_wav, low.target, losses)
