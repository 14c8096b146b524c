"""A tiny recurrent token LM for unit tests (its cache is simply the GRU state)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from pydantic import Field
from torch import Tensor, nn

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import LMCache, TokenLM
from tokensep_core.lm.conditioning import Conditioning
from tokensep_core.tokens.codebook_io import CodebookEmbedding, CodebookHeads


class DebugLMConfig(ComponentConfig):
    num_codebooks: int = Field(2, ge=1)
    codebook_size: int = Field(64, ge=2)
    num_special_tokens: int = Field(8, ge=0)
    dim: int = Field(32, ge=1)
    layers: int = Field(1, ge=1)
    conditioning: Conditioning = Field("prefix", description="prefix, frame or both; see tokensep_core.lm.conditioning")


@dataclass
class GRUCache(LMCache):
    """GRU hidden state ``[layers, B, D]`` after ``held`` positions."""

    state: Tensor
    held: int

    @property
    def length(self) -> int:
        return self.held


class DebugLM(TokenLM):
    """Summed codebook embeddings (plus ``frame_cond``) -> GRU -> K heads; the prefix is fed
    through the GRU first."""

    Config = DebugLMConfig

    def __init__(self, config: DebugLMConfig) -> None:
        super().__init__()
        self.config = config
        self.num_codebooks = config.num_codebooks
        self.codebook_size = config.codebook_size
        self.vocab_size = config.codebook_size + config.num_special_tokens
        self.dim = config.dim
        self.conditioning = config.conditioning
        self.embed = CodebookEmbedding(config.num_codebooks, self.vocab_size, config.dim)
        self.rnn = nn.GRU(config.dim, config.dim, num_layers=config.layers, batch_first=True)
        self.heads = CodebookHeads(config.num_codebooks, config.codebook_size, config.dim)

    def forward(
        self,
        tokens: Tensor,
        prefix: Tensor | None = None,
        prefix_mask: Tensor | None = None,
        cache: LMCache | None = None,
        frame_cond: Tensor | None = None,
    ) -> tuple[Tensor, GRUCache]:
        """tokens [B, K, S], prefix [B, P, D], frame_cond [B, S, D] -> (logits [B, K, S, V], cache)."""
        x = self.embed(tokens)
        if frame_cond is not None:
            x = x + frame_cond.to(x.dtype)
        state = None
        held = 0
        if cache is not None:
            assert isinstance(cache, GRUCache), f"DebugLM cannot use a {type(cache).__name__}"
            state, held = cache.state, cache.held
        elif prefix is not None:
            if prefix_mask is not None:
                prefix = prefix * prefix_mask.unsqueeze(-1).to(prefix.dtype)
            x = torch.cat([prefix, x], dim=1)
        out, state = self.rnn(x, state)
        logits = self.heads(out[:, out.shape[1] - tokens.shape[-1] :])
        return logits, GRUCache(state, held + x.shape[1])
