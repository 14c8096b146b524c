"""Dead-code restarts for descript-audio-codec's residual vector quantizer.

On by default for every trainable HCodec and DAC config. Short trainings collapse RVQ codebooks: a few codes take every frame and the rest never move
again (the small HCodec used 4 % of its codes after 284 CPU steps). Each codebook keeps an
exponential moving average of how often each code is chosen per training step; a code whose
average falls below ``threshold`` times the uniform share is moved onto an encoder output of the
current batch (the projected latent that codebook saw), so it starts being chosen again. This is
the restart used by SoundStream/Jukebox-style VQ training, applied to DAC's factorized,
l2-normalised codebooks (the lookup is by direction, so a latent is a valid code as it is).
"""

from __future__ import annotations

import torch
import torch.distributed as dist
from dac.nn.quantize import ResidualVectorQuantize
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn


class CodebookRestartConfig(BaseModel):
    """When unused codes are re-initialised during training (on by default: without restarts a
    short training can leave a codebook emitting one id for every frame; ``enabled: false`` turns
    them off)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    decay: float = Field(0.95, gt=0, lt=1, description="EMA decay of the per-step usage counts (memory of ~1/(1-decay) steps)")
    threshold: float = Field(0.05, gt=0, lt=1, description="restart codes used less than this fraction of the uniform share")


class CodebookRestart(nn.Module):
    """Usage statistics (a persistent buffer ``usage [K, codebook_size]``, saved with the codec's
    weights so a resumed training restarts exactly as an uninterrupted one) and the restart rule
    for one :class:`ResidualVectorQuantize`.

    A codec builds it whether restarts are on or off (``enabled`` only gates :meth:`update`), so
    its weights load into either config; weights saved before restarts existed (no ``usage``)
    load too, the statistics then start afresh."""

    def __init__(self, quantizer: ResidualVectorQuantize, config: CodebookRestartConfig) -> None:
        super().__init__()
        self.config = config
        self.codebook_dims = [q.codebook_dim for q in quantizer.quantizers]
        self.register_buffer("usage", torch.full((len(quantizer.quantizers), quantizer.codebook_size), -1.0))

    def _load_from_state_dict(self, state_dict: dict, prefix: str, *args: object) -> None:
        if prefix + "usage" in state_dict:  # else: weights from before restarts; keep the fresh -1 statistics
            super()._load_from_state_dict(state_dict, prefix, *args)

    @torch.no_grad()
    def update(self, quantizer: ResidualVectorQuantize, codes: Tensor, latents: Tensor) -> int:
        """Record one training step's codes ``[B, K, T']`` and projected latents ``[B, sum(d_k), T']``
        (both from ``quantizer``'s forward) and restart dead codes; -> number of codes restarted.
        Under DDP the counts are summed over ranks and rank 0's new codes are broadcast."""
        size = self.usage.shape[1]
        counts = torch.zeros_like(self.usage)
        counts.scatter_add_(
            1,
            codes.transpose(0, 1).reshape(codes.shape[1], -1),
            torch.ones(codes.shape[1], codes.numel() // codes.shape[1], device=codes.device),
        )
        distributed = dist.is_available() and dist.is_initialized()
        if distributed:
            dist.all_reduce(counts)
        if self.usage[0, 0] < 0:  # first step: start every code at the uniform share
            self.usage.copy_(counts.sum(dim=1, keepdim=True).expand_as(counts) / size)
        self.usage.mul_(self.config.decay).add_(counts, alpha=1 - self.config.decay)
        uniform = counts.sum(dim=1, keepdim=True) / size
        dead = self.usage < self.config.threshold * uniform
        restarted = 0
        offsets = [0, *torch.tensor(self.codebook_dims).cumsum(0).tolist()]
        for k, vq in enumerate(quantizer.quantizers):
            indices = dead[k].nonzero().squeeze(1)
            if indices.numel() == 0:
                continue
            pool = latents[:, offsets[k] : offsets[k + 1]].transpose(1, 2).reshape(-1, self.codebook_dims[k])
            picks = torch.randint(0, pool.shape[0], (indices.numel(),), device=pool.device)
            weight = vq.codebook.weight
            # .data: the lookup that chose this step's codes is already done; only indices are saved for backward
            weight.data[indices] = pool[picks].to(weight.dtype)
            if distributed:
                dist.broadcast(weight.data, src=0)
            self.usage[k, indices] = uniform[k, 0]  # a restarted code gets a fresh start
            restarted += indices.numel()
        return restarted
