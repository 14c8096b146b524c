"""Channels folded into the batch, for models that code or separate one channel at a time.

A mono codec (or separator) sees every channel of ``[B, C, T]`` as its own item ``[B * C, 1, T]``.
Code layout for a codec with ``K`` codebooks per channel and ``C`` channels:
``codes[:, c * K:(c + 1) * K]`` are channel ``c``'s codes, so ``K_total = C * K``.
With ``mid_side`` the two coded channels are mid ``(L + R) / 2`` then side ``(L - R) / 2``.
"""

from __future__ import annotations

from typing import Literal

import torch
from einops import rearrange
from torch import Tensor

from tokensep_core.audio.io import convert

StereoMode = Literal["per_channel", "mid_side"]


def fold_channels(wav: Tensor, mode: StereoMode = "per_channel") -> Tensor:
    """wav ``[B, C, T]`` -> mono items ``[B * C, 1, T]`` (mid/side transformed when asked)."""
    if mode == "mid_side" and wav.shape[1] == 2:
        left, right = wav[:, :1], wav[:, 1:]
        wav = torch.cat([(left + right) / 2, (left - right) / 2], dim=1)
    return rearrange(wav, "b c t -> (b c) 1 t")


def unfold_channels(wav: Tensor, channels: int, mode: StereoMode = "per_channel") -> Tensor:
    """Inverse of :func:`fold_channels`: ``[B * C, ..., 1, T]`` -> ``[B, ..., C, T]`` (e.g. mono
    items ``[B * C, 1, T]`` -> ``[B, C, T]``; stems of mono items ``[B * C, S, 1, T]`` -> ``[B, S, C, T]``)."""
    wav = rearrange(wav, "(b c) ... 1 t -> b ... c t", c=channels)
    if mode == "mid_side" and channels == 2:
        mid, side = wav[..., :1, :], wav[..., 1:, :]
        wav = torch.cat([mid + side, mid - side], dim=-2)
    return wav


def fold_codes(codes: Tensor, channels: int) -> Tensor:
    """codes ``[B, C * K, T']`` -> per-channel codes ``[B * C, K, T']``."""
    return rearrange(codes, "b (c k) t -> (b c) k t", c=channels)


def unfold_codes(codes: Tensor, channels: int) -> Tensor:
    """per-channel codes ``[B * C, K, T']`` -> ``[B, C * K, T']`` (channel-major)."""
    return rearrange(codes, "(b c) k t -> b (c k) t", c=channels)


def to_codec_items(wav: Tensor, sample_rate: int, codec_rate: int, codec_channels: int) -> Tensor:
    """wav ``[B, C, T]`` at ``sample_rate`` -> codec items at ``codec_rate``: ``[B * C, 1, T']``
    for a mono codec (every channel its own item), else ``[B, codec_channels, T']``."""
    if codec_channels == 1:
        return fold_channels(convert(wav, sample_rate, codec_rate, wav.shape[1]))
    return convert(wav, sample_rate, codec_rate, codec_channels)
