"""A bidirectional masked-token LM on x-transformers for iterative parallel decoding
(MaskGIT / SoundStorm style; generation in tokensep_core.lm.masked_generation).

Stems: each stem is its own sequence, told apart by a learned stem embedding added to every
frame, so stems are generated independently given the mixture. This keeps attention at
``P + T`` positions instead of ``P + N·T``, lets a subset of stems cost a subset of the
compute, and matches the ``independent`` track order of the autoregressive family.

Sequence seen by the encoder: ``[prefix (P steps)][frames (T steps)]``, fully bidirectional,
with RoPE, RMSNorm, SwiGLU feed-forwards, optional grouped-query attention and no biases (the
same x-transformers options as tokensep_lms.llama). The prefix is prepended rather than
attended through cross-attention: it reuses the self-attention layers (no extra parameters per
layer), the encoder's output feeds both families the same way, and every frame sees every
prefix step. As in the llama LM, padded prefix steps are moved to the front, so a chunk's
logits do not depend on how much padding it is batched with.

Each frame is the sum of K codebook embeddings (id ``codebook_size`` is the mask); K heads
predict the codes of every frame. With ``conditioning: frame`` there is no prefix: the condition
resampled to the codec's frames (``frame_cond``, through the prefix's adapter) is added to frame t
of every stem (SoundStorm's time-aligned conditioning); ``both`` does both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import torch
from pydantic import Field, field_validator, model_validator
from torch import Tensor, nn

from tokensep_core import STEMS
from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import MaskedTokenLM
from tokensep_core.lm.conditioning import Conditioning
from tokensep_core.tokens.codebook_io import CodebookEmbedding, CodebookHeads
from tokensep_lms.llama import llama_layers

PRESETS: dict[str, dict[str, float | int]] = {
    "tiny": {"width": 32, "layers": 2, "heads": 2, "ff_mult": 4, "dropout": 0.0},
    "paper": {"width": 512, "layers": 12, "heads": 8, "ff_mult": 4, "dropout": 0.1},
}
"""Architecture presets; ``paper`` has the size of the llama LM's ``paper`` preset."""


class MaskedLMConfig(ComponentConfig):
    preset: Literal["tiny", "paper"] = "paper"
    num_codebooks: int = Field(8, ge=1, description="the codec's codebooks K")
    codebook_size: int = Field(1024, ge=2, description="the codec's codes per codebook (output vocabulary)")
    stems: tuple[str, ...] = Field(STEMS, description="stems it can generate (one learned embedding each)")
    passes: tuple[int, ...] = Field(
        (16, 1), description="decoding passes per codebook level, coarse first; the last entry repeats for finer levels"
    )
    width: int | None = Field(None, ge=1, description="model width; None: the preset's")
    layers: int | None = Field(None, ge=1)
    heads: int | None = Field(None, ge=1)
    kv_heads: int | None = Field(None, ge=1, description="grouped-query attention; None: heads")
    ff_mult: float | None = Field(None, gt=0)
    dropout: float | None = Field(None, ge=0, lt=1)
    prefix_dim: int | None = Field(None, ge=1, description="condition width; None: the model width")
    conditioning: Conditioning = Field(
        "prefix",
        description="prefix (the paper), frame (the condition added to each step's frame), or both; see tokensep_core.lm.conditioning",
    )

    def resolved(self, key: str) -> float | int:
        """An explicit field, else the preset's value."""
        value = getattr(self, key)
        return PRESETS[self.preset][key] if value is None else value

    @field_validator("stems")
    @classmethod
    def _distinct_stems(cls, stems: tuple[str, ...]) -> tuple[str, ...]:
        if not stems or len(set(stems)) != len(stems):
            raise ValueError("stems must be a non-empty list of distinct names")
        return stems

    @field_validator("passes")
    @classmethod
    def _positive_passes(cls, passes: tuple[int, ...]) -> tuple[int, ...]:
        if not passes or min(passes) < 1:
            raise ValueError("passes must be a non-empty list of counts >= 1")
        return passes

    @model_validator(mode="after")
    def _heads_divide(self) -> MaskedLMConfig:
        width, heads = int(self.resolved("width")), int(self.resolved("heads"))
        if width % heads:
            raise ValueError(f"width {width} is not divisible by heads {heads}")
        kv_heads = self.kv_heads or heads
        if heads % kv_heads:
            raise ValueError(f"heads {heads} is not divisible by kv_heads {kv_heads}")
        return self


class MaskedLM(MaskedTokenLM):
    """Summed codebook embeddings + stem embedding -> bidirectional encoder (prefix first) -> K heads."""

    Config = MaskedLMConfig

    def __init__(self, config: MaskedLMConfig) -> None:
        # imported here, as in llama.py: x-transformers pulls in torch._dynamo at import time
        from x_transformers import Encoder

        super().__init__()
        self.config = config
        width, heads = int(config.resolved("width")), int(config.resolved("heads"))
        dropout = float(config.resolved("dropout"))
        self.num_codebooks = config.num_codebooks
        self.codebook_size = config.codebook_size
        self.mask_id = config.codebook_size
        self.vocab_size = config.codebook_size + 1
        self.stems = tuple(config.stems)
        self.passes = tuple(config.passes)
        self.dim = config.prefix_dim or width
        self.conditioning = config.conditioning
        self.embed = CodebookEmbedding(config.num_codebooks, self.vocab_size, width)
        self.stem_embed = nn.Embedding(len(self.stems), width)
        self.prefix_adapter = nn.Linear(self.dim, width, bias=False) if self.dim != width else nn.Identity()
        self.embed_dropout = nn.Dropout(dropout)
        self.encoder = llama_layers(
            Encoder, width, heads, int(config.resolved("layers")), config.kv_heads, config.resolved("ff_mult"), dropout
        )
        self.heads = CodebookHeads(config.num_codebooks, config.codebook_size, width)

    def forward(
        self,
        tokens: Tensor,
        prefix: Tensor | None = None,
        prefix_mask: Tensor | None = None,
        stems: Sequence[str] | None = None,
        codebook: int | None = None,
        frame_cond: Tensor | None = None,
    ) -> Tensor:
        """tokens [B, N, K, T]; prefix [B, P, D], prefix_mask [B, P]; frame_cond [B, T, D]
        -> logits [B, N, K, T, V] ([B, N, 1, T, V] with ``codebook``)."""
        batch, num_stems, _, frames = tokens.shape
        stem_ids = self._stem_ids(stems, num_stems, tokens.device)
        x = self.embed(tokens.flatten(0, 1)) + self.stem_embed(stem_ids.repeat(batch))[:, None]  # [B·N, T, W]
        if frame_cond is not None:
            x = x + self.prefix_adapter(frame_cond.to(x.dtype)).repeat_interleave(num_stems, dim=0)
        x = self.embed_dropout(x)
        key_mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
        if prefix is not None:
            x, key_mask = self._with_prefix(
                x,
                key_mask,
                prefix.repeat_interleave(num_stems, dim=0),
                None if prefix_mask is None else prefix_mask.repeat_interleave(num_stems, dim=0),
            )
        hidden = self.encoder(x, mask=key_mask)[:, -frames:]
        if codebook is None:
            logits = self.heads(hidden)
        else:
            logits = self.heads.heads[codebook](hidden).unsqueeze(1)
        return logits.unflatten(0, (batch, num_stems))

    def _stem_ids(self, stems: Sequence[str] | None, count: int, device: torch.device) -> Tensor:
        """Embedding rows ``[N]`` of the requested stems."""
        stems = self.stems if stems is None else tuple(stems)
        unknown = [s for s in stems if s not in self.stems]
        if unknown:
            raise ValueError(f"masked lm knows stems {', '.join(self.stems)}, not {unknown}")
        if len(stems) != count:
            raise ValueError(f"tokens hold {count} stems but {len(stems)} stem names were given")
        return torch.tensor([self.stems.index(s) for s in stems], device=device)

    def _with_prefix(self, x: Tensor, mask: Tensor, prefix: Tensor, prefix_mask: Tensor | None) -> tuple[Tensor, Tensor]:
        """Prepend the adapted prefix, its padded steps moved to the front (see module doc)."""
        prefix = self.embed_dropout(self.prefix_adapter(prefix.to(x.dtype)))
        if prefix_mask is None:
            prefix_mask = torch.ones(prefix.shape[:2], dtype=torch.bool, device=x.device)
        else:
            order = torch.argsort(prefix_mask.to(torch.int8), dim=1, stable=True)
            prefix = prefix.gather(1, order.unsqueeze(-1).expand_as(prefix))
            prefix_mask = prefix_mask.gather(1, order)
        return torch.cat([prefix, x], dim=1), torch.cat([prefix_mask, mask], dim=1)
