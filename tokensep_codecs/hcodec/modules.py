"""HCodec's Vocos-style building blocks: a ConvNeXt stack and an inverse-STFT head."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn


class ConvNeXtBlock(nn.Module):
    """Depthwise conv -> LayerNorm -> pointwise MLP with layer scale, residual. ``[N, D, T]`` -> same."""

    def __init__(self, dim: int, intermediate: int, layer_scale: float = 1e-6) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = nn.Sequential(nn.Linear(dim, intermediate), nn.GELU(), nn.Linear(intermediate, dim))
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: Tensor) -> Tensor:
        y = self.dwconv(x).transpose(1, 2)
        y = self.gamma * self.mlp(self.norm(y))
        return x + y.transpose(1, 2)


class ConvNeXtStack(nn.Module):
    """Embedding conv (``in_dim`` -> ``dim``) then ``layers`` ConvNeXt blocks. ``[N, in_dim, T]`` -> ``[N, dim, T]``."""

    def __init__(self, in_dim: int, dim: int, layers: int, intermediate: int | None = None) -> None:
        super().__init__()
        self.embed = nn.Conv1d(in_dim, dim, kernel_size=7, padding=3)
        self.norm_in = nn.LayerNorm(dim, eps=1e-6)
        self.blocks = nn.ModuleList(ConvNeXtBlock(dim, intermediate or 3 * dim, layer_scale=1 / max(layers, 1)) for _ in range(layers))
        self.norm_out = nn.LayerNorm(dim, eps=1e-6)

    def forward(self, x: Tensor) -> Tensor:
        x = self.norm_in(self.embed(x).transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.norm_out(x.transpose(1, 2)).transpose(1, 2)


class ISTFTHead(nn.Module):
    """Frames ``[N, D, T']`` -> wav ``[N, 1, T' * upsample * hop]``.

    Each code frame predicts ``upsample`` STFT frames (log-magnitude and phase per bin), which an
    inverse STFT with ``n_fft`` and ``hop`` turns into samples."""

    def __init__(self, dim: int, n_fft: int, hop: int, upsample: int) -> None:
        super().__init__()
        self.n_fft, self.hop, self.upsample = n_fft, hop, upsample
        self.proj = nn.Linear(dim, upsample * (n_fft + 2))
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def forward(self, x: Tensor) -> Tensor:
        y = rearrange(self.proj(x.transpose(1, 2)), "n t (r c) -> n c (t r)", r=self.upsample)
        log_mag, phase = y.float().chunk(2, dim=1)
        # exp overflows for untrained or diverging weights; the clamp keeps the output finite
        spec = torch.polar(torch.exp(log_mag).clamp(max=1e2), phase)
        steps = spec.shape[-1]
        # one extra frame so the centred inverse STFT covers the last hop as well
        spec = torch.cat([spec, spec[..., -1:]], dim=-1)
        wav = torch.istft(spec, self.n_fft, self.hop, window=self.window, center=True, length=steps * self.hop)
        return wav.unsqueeze(1)


class FrameRateUpsampler(nn.Module):
    """Hidden frames ``[N, D, T']`` -> ``[N, D, T' * factor]``: linear interpolation then a ConvNeXt
    block at the new rate, so each STFT frame gets its own hidden vector (the ISTFTHead's ``upsample``
    instead maps one vector to ``factor`` frames through one linear map, which repeats with the
    code frame rate)."""

    def __init__(self, dim: int, factor: int) -> None:
        super().__init__()
        self.factor = factor
        self.block = ConvNeXtBlock(dim, 3 * dim, layer_scale=1.0)

    def forward(self, x: Tensor) -> Tensor:
        return self.block(F.interpolate(x, scale_factor=self.factor, mode="linear", align_corners=False))


class STFTEncoder(nn.Module):
    """wav ``[N, 1, T' * upsample * hop]`` -> latents ``[N, latent_dim, T']``.

    Log-magnitude and phase (cos, sin) of an STFT (``n_fft``, ``hop``) through a ConvNeXt stack,
    then a strided convolution merging ``upsample`` STFT frames into one code frame."""

    def __init__(self, n_fft: int, hop: int, upsample: int, dim: int, layers: int, latent_dim: int) -> None:
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.stack = ConvNeXtStack(3 * (n_fft // 2 + 1), dim, layers)
        self.down = nn.Conv1d(dim, latent_dim, kernel_size=upsample, stride=upsample)

    def forward(self, wav: Tensor) -> Tensor:
        steps = wav.shape[-1] // self.hop
        spec = torch.stft(wav[:, 0], self.n_fft, self.hop, window=self.window, pad_mode="constant", return_complex=True)[..., :steps]
        phase = spec.angle()
        features = torch.cat([torch.log(spec.abs().clamp(min=1e-5)), phase.cos(), phase.sin()], dim=1)
        return self.down(self.stack(features))
