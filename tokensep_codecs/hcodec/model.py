"""HCodec: dual-path (acoustic + semantic) residual-VQ codec with a Vocos-style decoder."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from dac.model.dac import Encoder as DACEncoder
from dac.nn.quantize import ResidualVectorQuantize
from torch import Tensor, nn

from tokensep_codecs.codebook_restart import CodebookRestart
from tokensep_codecs.hcodec.config import HCodecConfig
from tokensep_codecs.hcodec.modules import ConvNeXtStack, FrameRateUpsampler, ISTFTHead, STFTEncoder
from tokensep_codecs.hcodec.semantic import build_semantic_source
from tokensep_codecs.losses import AdversarialConfig, ReconstructionLoss
from tokensep_core.audio.channels import fold_channels, fold_codes, unfold_channels, unfold_codes
from tokensep_core.interfaces import TrainableCodec, TrainOutput


class HCodec(TrainableCodec):
    """Dual-path (acoustic + semantic) RVQ codec with a Vocos-style decoder, after the paper's HCodec.

    Per audio channel (channels are folded into the batch, see tokensep_core.audio.channels) the codes
    are ``[acoustic (n_acoustic) ; semantic (n_semantic)]``, so
    ``num_codebooks = channels * (n_acoustic + n_semantic)``, channel-major.
    """

    Config = HCodecConfig

    def __init__(self, config: HCodecConfig) -> None:
        super().__init__()
        self.config = config
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.frame_rate = config.sample_rate / config.hop_length
        self.codebook_size = config.codebook_size
        self.num_codebooks = config.channels * (config.used_acoustic + config.used_semantic)
        hop = config.hop_length
        n_fft = config.n_fft or 4 * config.stft_hop

        if config.acoustic_frontend == "stft":
            self.acoustic_encoder = STFTEncoder(
                n_fft, config.stft_hop, config.istft_upsample, config.encoder_dim, config.encoder_layers, config.acoustic_latent_dim
            )
        else:
            self.acoustic_encoder = DACEncoder(config.encoder_dim, list(config.encoder_strides), config.acoustic_latent_dim)
        self.acoustic_quantizer = self._rvq(config.acoustic_latent_dim, config.acoustic_codebooks)
        self.semantic_source = build_semantic_source(config.semantic_source, config.sample_rate, hop)
        self.semantic_encoder = nn.Sequential(
            ConvNeXtStack(self.semantic_source.dim, config.semantic_dim, config.semantic_layers),
            nn.Conv1d(config.semantic_dim, config.semantic_latent_dim, kernel_size=1),
        )
        self.semantic_quantizer = self._rvq(config.semantic_latent_dim, config.semantic_codebooks)
        self.backbone = ConvNeXtStack(config.acoustic_latent_dim + config.semantic_latent_dim, config.decoder_dim, config.decoder_layers)
        per_code = config.istft_upsample
        self.upsampler = FrameRateUpsampler(config.decoder_dim, per_code) if config.head_rate == "stft" else nn.Identity()
        self.head = ISTFTHead(config.decoder_dim, n_fft, config.stft_hop, 1 if config.head_rate == "stft" else per_code)
        self.semantic_head = nn.Conv1d(config.decoder_dim, self.semantic_source.dim, kernel_size=1)
        self.reconstruction = ReconstructionLoss(config.reconstruction, config.sample_rate)
        # built even when off, so weights load whatever the setting (see CodebookRestart)
        self.acoustic_restart = CodebookRestart(self.acoustic_quantizer, config.codebook_restart)
        self.semantic_restart = CodebookRestart(self.semantic_quantizer, config.codebook_restart)

    def _rvq(self, dim: int, n: int) -> ResidualVectorQuantize:
        c = self.config
        return ResidualVectorQuantize(dim, n, c.codebook_size, codebook_dim=c.codebook_dim, quantizer_dropout=c.quantizer_dropout)

    @property
    def adversarial_config(self) -> AdversarialConfig:
        """Read by CodecTrainingTask to build the discriminator."""
        return self.config.adversarial

    def _prepare(self, wav: Tensor) -> tuple[Tensor, int]:
        """wav ``[B, C, T]`` -> (mono items ``[B*C, 1, T'*hop]`` right-padded, T')."""
        if wav.dim() != 3 or wav.shape[1] != self.channels:
            raise ValueError(f"HCodec expects wav [B, {self.channels}, T], got {list(wav.shape)}")
        hop = self.config.hop_length
        frames = -(-wav.shape[-1] // hop)
        mono = fold_channels(wav, self.config.stereo_mode)
        return F.pad(mono, (0, frames * hop - wav.shape[-1])), frames

    def _latents(self, mono: Tensor, frames: int) -> tuple[Tensor, Tensor, Tensor]:
        """mono ``[N, 1, T]`` -> (acoustic latents, semantic latents ``[N, D, T']``, semantic features ``[N, F, T']``)."""
        features = self.semantic_source(mono, frames)
        acoustic = self.acoustic_encoder(mono)[..., :frames]
        return acoustic, self.semantic_encoder(features), features

    def _synthesize(self, acoustic: Tensor, semantic: Tensor) -> tuple[Tensor, Tensor]:
        """quantized streams ``[N, Da, T']``, ``[N, Ds, T']`` -> (wav ``[N, 1, T'*hop]``, semantic prediction ``[N, F, T']``)."""
        hidden = self.backbone(torch.cat([acoustic, semantic], dim=1))
        return self.head(self.upsampler(hidden)), self.semantic_head(hidden)

    def encode(self, wav: Tensor) -> Tensor:
        """wav ``[B, C, T]`` -> codes ``[B, C*(n_acoustic+n_semantic), ceil(T/hop)]`` int64."""
        mono, frames = self._prepare(wav)
        acoustic, semantic, _ = self._latents(mono, frames)
        n_a, n_s = self.config.used_acoustic, self.config.used_semantic
        codes_a = self.acoustic_quantizer(acoustic, n_quantizers=n_a)[1][:, :n_a]
        codes_s = self.semantic_quantizer(semantic, n_quantizers=n_s)[1][:, :n_s]
        return unfold_codes(torch.cat([codes_a, codes_s], dim=1).long(), self.channels)

    def decode(self, codes: Tensor) -> Tensor:
        """codes ``[B, num_codebooks, T']`` -> wav ``[B, C, T'*hop]``."""
        if codes.dim() != 3 or codes.shape[1] != self.num_codebooks:
            raise ValueError(f"HCodec expects codes [B, {self.num_codebooks}, T'], got {list(codes.shape)}")
        codes = fold_codes(codes, self.channels)
        n_a = self.config.used_acoustic
        acoustic = self.acoustic_quantizer.from_codes(codes[:, :n_a])[0]
        semantic = self.semantic_quantizer.from_codes(codes[:, n_a:])[0]
        wav, _ = self._synthesize(acoustic, semantic)
        return unfold_channels(wav, self.channels, self.config.stereo_mode)

    def forward(self, wav: Tensor) -> TrainOutput:
        """One training forward on wav ``[B, C, T]``: reconstruction and the weighted loss terms
        (without the adversarial ones, which CodecTrainingTask adds)."""
        mono, frames = self._prepare(wav)
        acoustic, semantic, features = self._latents(mono, frames)
        q_a, codes_a, latents_a, commit_a, book_a = self.acoustic_quantizer(acoustic)
        q_s, codes_s, latents_s, commit_s, book_s = self.semantic_quantizer(semantic)
        if self.training and self.config.codebook_restart.enabled:
            self.acoustic_restart.update(self.acoustic_quantizer, codes_a, latents_a)
            self.semantic_restart.update(self.semantic_quantizer, codes_s, latents_s)
        recon, predicted = self._synthesize(q_a, q_s)
        length = wav.shape[-1]
        recon, target = recon[..., :length], mono[..., :length]
        losses = self.reconstruction(recon, target)
        losses.update(self.reconstruction.quantizer_terms(commit_a, book_a, "acoustic_"))
        losses.update(self.reconstruction.quantizer_terms(commit_s, book_s, "semantic_"))
        if self.config.semantic_weight:
            losses["semantic"] = self.config.semantic_weight * F.mse_loss(predicted, features)
        return TrainOutput(recon, target, losses, torch.cat([codes_a, codes_s], dim=1))
