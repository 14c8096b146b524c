"""A LLaMA-style decoder-only token LM on x-transformers, with the condition as a prefix.

Sequence seen by the decoder: ``[prefix (P steps)][tokens (S steps)]`` with RoPE, RMSNorm,
SwiGLU feed-forwards, optional grouped-query attention and no biases. Each token step is the
sum of K codebook embeddings; K heads predict the next step's codes. With ``conditioning:
frame`` there is no prefix: the condition of each step's frame (``frame_cond``, through the same
adapter as the prefix) is added to the step's embedding; ``both`` does both.

A padded prefix (mask False) is moved to the front of the sequence, so the valid prefix always
ends right before the tokens: rotary attention depends only on relative positions, so a chunk
gives the same logits whether it is batched with longer chunks or not.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
import torch.nn.functional as F
from pydantic import Field, model_validator
from torch import Tensor, nn

if TYPE_CHECKING:
    from x_transformers.x_transformers import LayerIntermediates

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import LMCache, TokenLM
from tokensep_core.lm.conditioning import Conditioning
from tokensep_core.tokens.codebook_io import CodebookEmbedding, CodebookHeads

PRESETS: dict[str, dict[str, float | int]] = {
    "tiny": {"width": 32, "layers": 2, "heads": 2, "ff_mult": 4, "dropout": 0.0},
    "small": {"width": 256, "layers": 6, "heads": 4, "ff_mult": 4, "dropout": 0.1},
    "base": {"width": 384, "layers": 8, "heads": 6, "ff_mult": 4, "dropout": 0.1},
    "paper": {"width": 512, "layers": 12, "heads": 8, "ff_mult": 4, "dropout": 0.1},
}
"""Architecture presets; ``paper`` follows the likely settings in REFERENCES.md."""


class LlamaLMConfig(ComponentConfig):
    preset: Literal["tiny", "small", "base", "paper"] = "paper"
    num_codebooks: int = Field(8, ge=1, description="parallel streams K (the layout's K'')")
    codebook_size: int = Field(1024, ge=2, description="code ids per stream (output vocabulary)")
    num_special_tokens: int = Field(8, ge=0, description="input ids after the codes (pad, stem starts)")
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

    @model_validator(mode="after")
    def _heads_divide(self) -> LlamaLMConfig:
        width, heads = int(self.resolved("width")), int(self.resolved("heads"))
        if width % heads:
            raise ValueError(f"width {width} is not divisible by heads {heads}")
        kv_heads = self.kv_heads or heads
        if heads % kv_heads:
            raise ValueError(f"heads {heads} is not divisible by kv_heads {kv_heads}")
        return self


CACHE_BLOCK = 256
"""Key/value slots a cache grows by: growing copies the cache once per block, not once per step."""


def llama_layers(
    stack: type[nn.Module], width: int, heads: int, layers: int, kv_heads: int | None, ff_mult: float, dropout: float
) -> nn.Module:
    """An x-transformers ``Decoder`` or ``Encoder`` (``stack``) with LLaMA's options: RoPE, RMSNorm,
    SwiGLU, grouped-query attention, no biases; attention through PyTorch's fused kernel."""
    module = stack(
        dim=width,
        depth=layers,
        heads=heads,
        attn_dim_head=width // heads,
        attn_kv_heads=kv_heads,
        attn_dropout=dropout,
        attn_flash=True,  # fused scaled_dot_product_attention: the prefix call took half the time in float32
        rotary_pos_emb=True,
        rotary_emb_dim=width // heads,
        use_rmsnorm=True,
        ff_mult=ff_mult,
        ff_glu=True,
        ff_swish=True,
        ff_no_bias=True,
        ff_dropout=dropout,
        verbose=False,
    )
    for child in module.modules():
        if isinstance(child, nn.Linear) and child.bias is not None:
            child.bias = None  # x-transformers' SwiGLU input projection always has one; LLaMA has none
    return module


@dataclass
class KVStorage:
    """Preallocated keys and values ``[layers, B, kv_heads, capacity, head_dim]`` (rotary already
    applied) and the key mask ``[B, capacity]`` (False at padded prefix steps), shared by the
    caches of one generation; ``filled`` positions are written. Grows by whole blocks."""

    keys: Tensor
    values: Tensor
    key_mask: Tensor
    filled: int
    padded: bool = False
    """Some prefix step is masked (else a single new step needs no attention mask)."""

    def reserve(self, steps: int) -> None:
        """Make room for ``steps`` more positions."""
        needed = self.filled + steps
        if needed <= self.keys.shape[3]:
            return
        self.keys, self.values, self.key_mask = (
            _grown(t, -(-needed // CACHE_BLOCK) * CACHE_BLOCK, self.filled, dim)
            for t, dim in ((self.keys, 3), (self.values, 3), (self.key_mask, 1))
        )

    def truncated(self, length: int) -> KVStorage:
        """A copy holding only the first ``length`` positions."""
        return KVStorage(self.keys.clone(), self.values.clone(), self.key_mask.clone(), length, self.padded)


def _grown(t: Tensor, capacity: int, filled: int, dim: int) -> Tensor:
    """``t`` with ``dim`` enlarged to ``capacity``, its first ``filled`` entries kept (the rest
    zero for a mask, unset for keys and values: slots past ``filled`` are never read)."""
    shape = (*t.shape[:dim], capacity, *t.shape[dim + 1 :])
    out = t.new_zeros(shape) if t.dtype == torch.bool else t.new_empty(shape)
    out.narrow(dim, 0, filled).copy_(t.narrow(dim, 0, filled))
    return out


@dataclass
class LlamaCache(LMCache):
    """The first ``filled`` positions of a :class:`KVStorage`. Extending the newest cache writes
    in place; extending an older one (its storage has moved on) copies first, so every cache
    stays valid. A cache fresh from an uncached call keeps the decoder's intermediates and
    ``key_mask [B, L]`` until first extended, so training forwards never allocate storage."""

    storage: KVStorage | None
    filled: int
    pending: tuple[LayerIntermediates, Tensor] | None = None

    @property
    def length(self) -> int:
        return self.filled


class _RotaryTables:
    """x-transformers' rotary embedding (interleaved pairs, computed in float32) for fixed
    positions: each pair of the first ``dims`` features is a complex number turned by its
    position's angle. The turns are built once and applied to every layer's queries and keys."""

    def __init__(self, rotary: nn.Module, positions: Tensor) -> None:
        freqs, _ = rotary(positions)  # [1, S, r], each angle repeated for the two features of its pair
        self.dims = freqs.shape[-1]
        angles = freqs[..., ::2].float()
        self.turns = torch.polar(torch.ones_like(angles), angles)  # [1, S, r/2] complex

    def apply(self, t: Tensor) -> Tensor:
        """[B, H, S, d] -> the same with its first ``dims`` features rotated."""
        part, rest = t[..., : self.dims], t[..., self.dims :]
        pairs = torch.view_as_complex(part.float().unflatten(-1, (-1, 2)).contiguous())
        rotated = torch.view_as_real(pairs * self.turns).flatten(-2).to(t.dtype)
        return torch.cat([rotated, rest], dim=-1) if rest.shape[-1] else rotated


def _rms_normed(norm: nn.Module, x: Tensor) -> Tensor:
    """x-transformers' RMSNorm (``normalize(x) * sqrt(dim) * (g + unit_offset)``) as PyTorch's
    fused ``rms_norm``: one op instead of five per norm and step."""
    dim = x.shape[-1]
    return F.rms_norm(x, (dim,), norm.g + float(norm.unit_offset), eps=1e-24 / dim)  # normalize's eps 1e-12 on the norm


class LlamaLM(TokenLM):
    """Summed codebook embeddings -> LLaMA-style decoder (prefix first) -> K heads."""

    Config = LlamaLMConfig

    def __init__(self, config: LlamaLMConfig) -> None:
        # imported here: x-transformers pulls in torch._dynamo (seconds), which every registry
        # load (CLI start-up) would otherwise pay
        from x_transformers import Decoder

        super().__init__()
        self.config = config
        width, heads = int(config.resolved("width")), int(config.resolved("heads"))
        dropout = float(config.resolved("dropout"))
        self.num_codebooks = config.num_codebooks
        self.codebook_size = config.codebook_size
        self.vocab_size = config.codebook_size + config.num_special_tokens
        self.width = width
        self.dim = config.prefix_dim or width
        self.conditioning = config.conditioning
        self.embed = CodebookEmbedding(config.num_codebooks, self.vocab_size, width)
        self.prefix_adapter = nn.Linear(self.dim, width, bias=False) if self.dim != width else nn.Identity()
        self.embed_dropout = nn.Dropout(dropout)
        self.decoder = llama_layers(
            Decoder, width, heads, int(config.resolved("layers")), config.kv_heads, config.resolved("ff_mult"), dropout
        )
        self.heads = CodebookHeads(config.num_codebooks, config.codebook_size, width)

    def _apply(self, fn, recurse: bool = True):  # noqa: ANN001, ANN202 (nn.Module's signature)
        """``.to(bfloat16)`` and friends cast every floating buffer; the rotary frequencies stay
        float32: x-transformers turns positions into its ``inv_freq``'s type, and in bfloat16
        positions above 256 are rounded (3001 -> 3008) and ``torch.polar`` refuses them on CUDA."""
        super()._apply(fn, recurse)
        rotary = self.decoder.rotary_pos_emb
        if rotary is not None and rotary.inv_freq.dtype != torch.float32:
            rotary.inv_freq = rotary.inv_freq.float()
        return self

    def forward(
        self,
        tokens: Tensor,
        prefix: Tensor | None = None,
        prefix_mask: Tensor | None = None,
        cache: LMCache | None = None,
        frame_cond: Tensor | None = None,
    ) -> tuple[Tensor, LlamaCache]:
        """tokens [B, K, S]; prefix [B, P, D] and prefix_mask [B, P] (first call only);
        frame_cond [B, S, D] added to the steps (any call) -> (logits [B, K, S, V], cache)."""
        x = self.embed(tokens)
        if frame_cond is not None:
            x = x + self.prefix_adapter(frame_cond.to(x.dtype))
        x = self.embed_dropout(x)
        steps = x.shape[1]
        if cache is not None:
            if not isinstance(cache, LlamaCache):
                raise TypeError(f"LlamaLM cannot use a {type(cache).__name__}")
            if prefix is not None:
                raise ValueError("prefix is given with the first call only, not with a cache")
            hidden, cache = self._cached_forward(x, cache)
            return self.heads(hidden), cache
        key_mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
        if prefix is not None:
            x, key_mask = self._with_prefix(x, key_mask, prefix, prefix_mask)
        hidden, inter = self.decoder(x, self_attn_kv_mask=key_mask, return_hiddens=True)
        logits = self.heads(hidden[:, hidden.shape[1] - steps :])
        return logits, LlamaCache(None, key_mask.shape[1], (inter, key_mask))

    def select_cache(self, cache: LMCache, rows: Tensor) -> LlamaCache:
        """Rows of ``cache`` (repeats allowed) in fresh storage, e.g. one prefix for every stem."""
        if not isinstance(cache, LlamaCache):
            raise TypeError(f"LlamaLM cannot use a {type(cache).__name__}")
        store = self._storage(cache)
        picked = KVStorage(
            store.keys.index_select(1, rows), store.values.index_select(1, rows), store.key_mask[rows], cache.filled, store.padded
        )
        return LlamaCache(picked, cache.filled)

    def _storage(self, cache: LlamaCache) -> KVStorage:
        """The cache's storage, built from its pending intermediates on first use (once for every
        user of this cache)."""
        if cache.pending is not None:
            cache.storage, cache.pending = self._new_storage(*cache.pending), None
        assert cache.storage is not None
        return cache.storage

    def _new_storage(self, inter: LayerIntermediates, key_mask: Tensor) -> KVStorage:
        """Copy the decoder's per-layer keys/values ``[B, kv_heads, L, d]`` (x-transformers keeps
        them before rotary) into preallocated buffers, rotated once here instead of every step."""
        kvs = [layer.cached_kv for layer in inter.attn_intermediates]
        batch, kv_heads, length, head_dim = kvs[0][0].shape
        capacity = -(-(length + 1) // CACHE_BLOCK) * CACHE_BLOCK
        keys = kvs[0][0].new_empty(len(kvs), batch, kv_heads, capacity, head_dim)  # unfilled slots are never read
        values = torch.empty_like(keys)
        rotary = _RotaryTables(self.decoder.rotary_pos_emb, torch.arange(length, device=keys.device))
        for i, (k, v) in enumerate(kvs):
            keys[i, :, :, :length] = rotary.apply(k)
            values[i, :, :, :length] = v
        full_mask = key_mask.new_zeros(batch, capacity)
        full_mask[:, :length] = key_mask
        return KVStorage(keys, values, full_mask, length, padded=not bool(key_mask.all()))

    def _cached_forward(self, x: Tensor, cache: LlamaCache) -> tuple[Tensor, LlamaCache]:
        """New steps ``[B, S, W]`` -> (final hidden states ``[B, S, W]``, the extended cache); keys
        and values are written into the storage in place. Walks the decoder's pre-norm layers
        (attention, SwiGLU, residual) itself with as few small ops per step as it can: the rotary
        tables are built once per call and queries and keys are rotated together (x-transformers'
        cached path concatenates and re-rotates the whole cache every step). Inference only:
        attention dropout is not applied."""
        steps = x.shape[1]
        store = self._storage(cache)
        store = store if store.filled == cache.filled else store.truncated(cache.filled)
        store.reserve(steps)
        start, end = cache.filled, cache.filled + steps
        store.key_mask[:, start:end] = True
        store.filled = end
        rotary = _RotaryTables(self.decoder.rotary_pos_emb, torch.arange(start, end, device=x.device))
        mask = None  # one new step after an unpadded prefix sees every filled slot
        if steps > 1 or store.padded:
            causal = torch.arange(start, end, device=x.device)[:, None] >= torch.arange(end, device=x.device)[None]  # [S, end]
            mask = store.key_mask[:, None, None, :end] & causal  # [B, 1, S, end]
        layer = 0
        for layer_type, (norms, block, _) in zip(self.decoder.layer_types, self.decoder.layers):
            h = _rms_normed(norms[0], x)
            if layer_type == "a":
                q = block.to_q(h).unflatten(-1, (block.heads, -1)).transpose(1, 2)  # [B, H, S, d]
                k = block.to_k(h).unflatten(-1, (block.kv_heads, -1)).transpose(1, 2)
                q, k = rotary.apply(torch.cat([q, k], dim=1)).split([block.heads, block.kv_heads], dim=1)
                store.keys[layer, :, :, start:end] = k
                store.values[layer, :, :, start:end] = block.to_v(h).unflatten(-1, (block.kv_heads, -1)).transpose(1, 2)
                attended = F.scaled_dot_product_attention(
                    q,
                    store.keys[layer, :, :, :end],
                    store.values[layer, :, :, :end],
                    attn_mask=mask,
                    enable_gqa=block.kv_heads != block.heads,
                )
                h = block.to_out(attended.transpose(1, 2).flatten(2))
                layer += 1
            else:
                h = block(h)
            x = x + h
        return _rms_normed(self.decoder.final_norm, x), LlamaCache(store, end)

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
