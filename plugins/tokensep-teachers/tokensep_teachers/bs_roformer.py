"""BS-RoFormer (the ``BS-RoFormer`` package's band-split RoFormer) as a tokensep separator."""

from __future__ import annotations

import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from tokensep_teachers.base import NetworkSeparator, TeacherConfig


class BSRoformerConfig(TeacherConfig):
    """Architecture fields default to the ``BSRoformer`` class defaults (STFT 2048/512, 62 bands)."""

    dim: int = Field(384, ge=1, description="model width")
    depth: int = Field(6, ge=1, description="time+frequency transformer pairs")
    time_transformer_depth: int = Field(2, ge=1)
    freq_transformer_depth: int = Field(2, ge=1)
    heads: int = Field(8, ge=1)
    dim_head: int = Field(64, ge=1)
    mask_estimator_depth: int = Field(2, ge=1)
    num_residual_streams: int = Field(4, ge=1, description="hyper-connection streams (1: plain residuals)")
    stft_hop_length: int = Field(512, ge=1, le=2048)


class BSRoformerSeparator(NetworkSeparator):
    """Band-Split RoFormer: complex spectrogram masks per stem from axial (time, band) transformers."""

    Config = BSRoformerConfig
    config: BSRoformerConfig

    def build_network(self) -> nn.Module:
        c = self.config
        from bs_roformer import BSRoformer  # imported on use: it costs ~2 s, paid by every registry load otherwise

        return BSRoformer(
            c.dim,
            depth=c.depth,
            stereo=c.channels == 2,
            num_stems=len(c.stems),
            time_transformer_depth=c.time_transformer_depth,
            freq_transformer_depth=c.freq_transformer_depth,
            heads=c.heads,
            dim_head=c.dim_head,
            mask_estimator_depth=c.mask_estimator_depth,
            num_residual_streams=c.num_residual_streams,
            stft_hop_length=c.stft_hop_length,
        )

    def forward_batch(self, segments: Tensor) -> Tensor:
        """segments ``[B, C, L]`` -> ``[B, S, C, L]``; pads to whole STFT hops, since the
        network's inverse STFT drops a partial last hop."""
        return stems_of(self.network, segments, self.config.stft_hop_length)


def stems_of(network: nn.Module, wav: Tensor, hop: int) -> Tensor:
    """wav ``[B, C, L]`` -> stems ``[B, S, C, L]`` (a single-stem network gets its S dim back)."""
    length = wav.shape[-1]
    padded = F.pad(wav, (0, -length % hop))
    out = network(padded)
    if network.num_stems == 1:
        out = out.unsqueeze(1)
    return out[..., :length]
