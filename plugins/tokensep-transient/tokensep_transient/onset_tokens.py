"""``hcodec_onset_tokens``: HCodec plus an explicit onset token stream that re-sharpens attacks.

Why: drum errors are mostly smeared attacks (measured by the attack error, a rise time, and by
the onset F-measure, a spectral-flux detector). Both depend on *when* energy appears and *how
abruptly*, which a 20-40 ms codec frame blurs and an LM sampling RVQ codes gets only roughly
right. One extra token per frame states it explicitly: the strongest spectral-flux onset inside
the frame, quantized to ``levels`` strengths x ``positions`` sub-frame positions (token =
``level * positions + position``, 0 = no onset). The token needs no training (it is computed
from the signal), so it is cheap for an LM to predict from the mixture's onsets. The decoder
turns each frame's onset token into a learned sample-level gain envelope (an embedding through
a transposed convolution spanning two frames) that multiplies HCodec's output: identity at
initialisation, trained to restore the attack's shape at the stated position.

Code layout per channel: ``[acoustic (n_a) ; semantic (n_s) ; onset (1)]``, channel-major.
Tokens per second of audio: ``frame_rate * channels * (n_a + n_s + 1)``; e.g. the ``small``
preset (50 Hz) with 2 + 1 codebooks plus the onset stream: 50 x 4 = 200, as HCodec with 2 + 2.
"""

from __future__ import annotations

import torch
from pydantic import Field, model_validator
from torch import Tensor, nn

from tokensep_codecs.hcodec import HCodec, HCodecConfig
from tokensep_codecs.losses import AdversarialConfig
from tokensep_core.audio.channels import fold_channels, fold_codes, unfold_channels, unfold_codes
from tokensep_core.interfaces import TrainableCodec, TrainOutput
from tokensep_transient.base import hcodec_part
from tokensep_transient.onsets import spectral_flux


class OnsetTokenConfig(HCodecConfig):
    """HCodec's config plus the onset stream and its re-sharpening decoder."""

    onset_levels: int = Field(8, ge=2, description="onset strength levels (level 0 = no onset)")
    onset_positions: int = Field(8, ge=1, description="sub-frame positions; must divide the hop")
    onset_scale: float = Field(1.0, gt=0, description="flux mapped to the top level (log1p(100|S|) rise, mean over bins)")
    onset_n_fft: int | None = Field(None, ge=8, description="STFT size of the flux; default 4 * hop / positions")
    sharpen_dim: int = Field(16, ge=1, description="embedding width of the onset tokens")

    @model_validator(mode="after")
    def _fits(self) -> OnsetTokenConfig:
        if self.hop_length % self.onset_positions:
            raise ValueError(f"onset_positions {self.onset_positions} does not divide the hop {self.hop_length}")
        if self.onset_levels * self.onset_positions > self.codebook_size:
            raise ValueError(
                f"onset_levels x onset_positions = {self.onset_levels * self.onset_positions} exceeds codebook_size {self.codebook_size}"
            )
        return self


class OnsetTokenHCodec(TrainableCodec):
    """An inner :class:`HCodec` (``low``), one onset token per frame, and a gain re-sharpener."""

    Config = OnsetTokenConfig

    def __init__(self, config: OnsetTokenConfig) -> None:
        super().__init__()
        self.config = config
        self.low = HCodec(hcodec_part(config))
        self.sample_rate, self.channels = self.low.sample_rate, self.low.channels
        self.frame_rate, self.codebook_size = self.low.frame_rate, self.low.codebook_size
        self.low_codebooks = config.used_acoustic + config.used_semantic
        self.num_codebooks = config.channels * (self.low_codebooks + 1)
        hop = config.hop_length
        self.sub_hop = hop // config.onset_positions
        self.onset_n_fft = config.onset_n_fft or 4 * self.sub_hop
        self.embedding = nn.Embedding(config.onset_levels * config.onset_positions, config.sharpen_dim)
        self.to_gain = nn.ConvTranspose1d(config.sharpen_dim, 1, kernel_size=2 * hop, stride=hop, padding=hop // 2)
        nn.init.zeros_(self.to_gain.weight)  # gain 1 everywhere: starts as plain HCodec
        nn.init.zeros_(self.to_gain.bias)

    @property
    def adversarial_config(self) -> AdversarialConfig:
        """Read by CodecTrainingTask."""
        return self.config.adversarial

    def onset_tokens(self, mono: Tensor) -> Tensor:
        """mono items ``[N, 1, T'*hop]`` -> onset tokens ``[N, T']`` in ``[0, levels*positions)``."""
        c = self.config
        flux = spectral_flux(mono, self.onset_n_fft, self.sub_hop).unflatten(-1, (-1, c.onset_positions))
        strength, position = flux.max(dim=-1)
        level = torch.round((strength / c.onset_scale).clamp(max=1.0) * (c.onset_levels - 1)).long()
        return torch.where(level > 0, level * c.onset_positions + position, torch.zeros_like(level))

    def gain(self, tokens: Tensor) -> Tensor:
        """onset tokens ``[N, T']`` -> per-sample gain ``[N, 1, T'*hop]`` in ``(0, 2)``."""
        frames = tokens.shape[-1]
        logits = self.to_gain(self.embedding(tokens).transpose(1, 2))
        return 2 * torch.sigmoid(logits[..., : frames * self.config.hop_length])

    def encode(self, wav: Tensor) -> Tensor:
        """wav ``[B, C, T]`` -> codes ``[B, C*(n_a + n_s + 1), ceil(T/hop)]`` int64."""
        low_codes = fold_codes(self.low.encode(wav), self.channels)
        mono, _ = self.low._prepare(wav)
        return unfold_codes(torch.cat([low_codes, self.onset_tokens(mono).unsqueeze(1)], dim=1), self.channels)

    def decode(self, codes: Tensor) -> Tensor:
        """codes ``[B, num_codebooks, T']`` -> wav ``[B, C, T'*hop]``."""
        if codes.dim() != 3 or codes.shape[1] != self.num_codebooks:
            raise ValueError(f"OnsetTokenHCodec expects codes [B, {self.num_codebooks}, T'], got {list(codes.shape)}")
        per_channel = fold_codes(codes, self.channels)
        low = unfold_codes(per_channel[:, : self.low_codebooks], self.channels)
        tokens = per_channel[:, -1].clamp(max=self.embedding.num_embeddings - 1)  # an LM may emit any code id
        wav = fold_channels(self.low.decode(low), self.config.stereo_mode) * self.gain(tokens)
        return unfold_channels(wav, self.channels, self.config.stereo_mode)

    def forward(self, wav: Tensor) -> TrainOutput:
        """One training forward on wav ``[B, C, T]``: HCodec trained as usual on its own output,
        the sharpener by ``sharp_*`` reconstruction terms on the gained (detached) HCodec output."""
        low = self.low(wav)
        mono, _ = self.low._prepare(wav)
        length = wav.shape[-1]
        gain = self.gain(self.onset_tokens(mono))[..., :length]
        losses = dict(low.losses)
        losses.update({f"sharp_{k}": v for k, v in self.low.reconstruction(low.recon.detach() * gain, low.target).items()})
        return TrainOutput(low.recon * gain, low.target, losses)
