"""A frozen-codec condition encoder (ablation): the mixture's codec codes, embedded.

The codec is built from the registry by name and params (optionally loading local
safetensors weights) and never trained; only the summed code embeddings learn. There is no
learned context model over time: each prefix step sees only its own frame's codes.
"""

from __future__ import annotations

from pathlib import Path

import torch
from pydantic import Field
from torch import Tensor

from tokensep_core.config import ComponentConfig, ComponentSpec
from tokensep_core.interfaces import Codec, ConditionEncoder
from tokensep_core.runtime.weights import load_weight_file
from tokensep_core.tokens.codebook_io import CodebookEmbedding
from tokensep_encoders.features import frame_mask


class FrozenCodecEncoderConfig(ComponentConfig):
    codec: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="debug"))
    weights: Path | None = Field(None, description="state dict of the codec (local .safetensors, or a torch file of tensors)")
    output_dim: int = Field(512, ge=1)


class FrozenCodecEncoder(ConditionEncoder):
    """wav -> frozen codec codes [B, K, T'] (prepare) -> summed embeddings [B, T', D]."""

    Config = FrozenCodecEncoderConfig

    def __init__(self, config: FrozenCodecEncoderConfig) -> None:
        super().__init__()
        from tokensep_core.plugins import load_registry  # the registry imports this package's plugin

        self.config = config
        codec: Codec = load_registry().build("codec", config.codec, source="frozen_codec encoder")
        if config.weights is not None:
            load_weight_file(codec, config.weights, "codec weights")
        codec.requires_grad_(False)
        self.codec = codec.eval()
        self.sample_rate = codec.sample_rate
        self.channels = codec.channels
        self.output_dim = config.output_dim
        self.frame_rate = codec.frame_rate
        self.embed = CodebookEmbedding(codec.num_codebooks, codec.codebook_size, config.output_dim)

    def train(self, mode: bool = True) -> FrozenCodecEncoder:
        """Train the embeddings only; the codec stays in eval mode."""
        super().train(mode)
        self.codec.eval()
        return self

    @torch.no_grad()
    def prepare(self, wav: Tensor) -> Tensor:
        """wav [B, C, T] -> codes [B, K, ceil(T / hop)] on wav's device."""
        device = next(self.codec.parameters(), wav).device
        return self.codec.encode(wav.to(device)).to(wav.device)

    def feature_lengths(self, num_samples: Tensor) -> Tensor:
        """Valid samples [B] -> valid code frames [B]."""
        hop = self.codec.hop_length
        return (num_samples + hop - 1) // hop

    def forward(self, features: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """codes [B, K, P], lengths [B] -> (embeds [B, P, D], mask [B, P])."""
        mask = frame_mask(features, lengths)
        return self.embed(features.long()) * mask.unsqueeze(-1), mask
