"""Token embeddings in and logits out for K parallel codebook streams (shared by the LMs)."""

from __future__ import annotations

import torch
from torch import Tensor, nn


class CodebookEmbedding(nn.Module):
    """tokens [B, K, S] -> summed embeddings [B, S, D] (one table per codebook)."""

    def __init__(self, num_codebooks: int, vocab_size: int, dim: int) -> None:
        super().__init__()
        self.tables = nn.ModuleList(nn.Embedding(vocab_size, dim) for _ in range(num_codebooks))

    def forward(self, tokens: Tensor) -> Tensor:
        return torch.stack([table(tokens[:, k]) for k, table in enumerate(self.tables)]).sum(0)


class CodebookHeads(nn.Module):
    """hidden [B, S, D] -> logits [B, K, S, codebook_size] (one head per codebook)."""

    def __init__(self, num_codebooks: int, codebook_size: int, dim: int) -> None:
        super().__init__()
        self.heads = nn.ModuleList(nn.Linear(dim, codebook_size, bias=False) for _ in range(num_codebooks))

    def forward(self, hidden: Tensor) -> Tensor:
        return torch.stack([head(hidden) for head in self.heads], dim=1)
