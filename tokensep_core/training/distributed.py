"""Data-parallel plumbing under ``torchrun``: process group, gradient averaging, object gathering.

Gradients are averaged explicitly after each group's backward instead of wrapping modules in
``DistributedDataParallel``: a task calls its own modules inside ``losses`` (a GAN forwards the
discriminator in both groups and reuses generator outputs across groups), which DDP's
one-forward-one-backward reducer does not support. Averaging the gradient of every parameter of
the stepped group, plus broadcasting buffers from rank 0 each step, is what DDP computes.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from tokensep_core.runtime.device import resolve_device


@dataclass(frozen=True)
class DistContext:
    """Where this process sits: ``rank`` of ``world_size`` on ``device``."""

    rank: int
    world_size: int
    device: torch.device
    owns_group: bool  # this process created the process group, so it also destroys it

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    def close(self) -> None:
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()


def setup(device_name: str) -> DistContext:
    """Join the ``torchrun`` process group if ``WORLD_SIZE`` > 1 (gloo on CPU, nccl on CUDA)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    device = resolve_device(device_name)
    if world_size <= 1:
        return DistContext(0, 1, device, owns_group=False)
    if device.type == "cuda" and device.index is None:
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    owns = not dist.is_initialized()
    if owns:
        # torch.distributed.nn binds the default group into its functions' default arguments when
        # first imported. Imported after init (an optimizer's first use imports it through
        # torch._dynamo), it kept the group alive after destroy_process_group: gloo's worker threads
        # outlived the interpreter's finalisation, and one releasing its last work then aborted
        # ("terminate called without an active exception", ~1 in 75 torchrun launches under load).
        # Imported here, while no group exists, it binds None, and destroying the group joins them.
        importlib.import_module("torch.distributed.nn")
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(dist.get_rank(), dist.get_world_size(), device, owns_group=owns)


def average_gradients(params: Iterable[nn.Parameter], world_size: int) -> None:
    """All-reduce the mean gradient of ``params`` in one flat buffer; a parameter without a
    gradient on every rank keeps ``grad=None`` (so optimizers skip it on all ranks alike)."""
    params = [p for p in params if p.requires_grad]
    if world_size <= 1 or not params:
        return
    device = params[0].device
    has_grad = torch.tensor([p.grad is not None for p in params], dtype=torch.float32, device=device)
    dist.all_reduce(has_grad)
    used = [p for p, flag in zip(params, has_grad.tolist()) if flag > 0]
    if not used:
        return
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in used]
    flat = torch.cat([g.reshape(-1) for g in grads]).div_(world_size)
    dist.all_reduce(flat)
    offset = 0
    for p in used:
        mean = flat[offset : offset + p.numel()].view(p.shape)
        if p.grad is None:
            p.grad = mean.to(p.dtype).clone()
        else:
            p.grad.copy_(mean)
        offset += p.numel()


def broadcast_state(modules: Iterable[nn.Module], buffers_only: bool) -> None:
    """Copy rank 0's parameters (unless ``buffers_only``) and buffers to every rank."""
    if not dist.is_initialized() or dist.get_world_size() <= 1:
        return
    for module in modules:
        tensors = list(module.buffers()) if buffers_only else [*module.parameters(), *module.buffers()]
        with torch.no_grad():
            for tensor in tensors:
                dist.broadcast(tensor, src=0)


def all_mean(values: dict[str, float], ctx: DistContext) -> dict[str, float]:
    """Mean of each scalar over ranks (every rank must pass the same keys)."""
    if not ctx.distributed or not values:
        return values
    keys = list(values)  # every rank builds its metrics in the same order
    tensor = torch.tensor([values[k] for k in keys], dtype=torch.float64, device=ctx.device)
    dist.all_reduce(tensor)
    return {k: v / ctx.world_size for k, v in zip(keys, tensor.tolist())}


def any_rank(flag: bool, ctx: DistContext) -> bool:
    """True on every rank if ``flag`` is true on any rank."""
    if not ctx.distributed:
        return flag
    tensor = torch.tensor([float(flag)], device=ctx.device)
    dist.all_reduce(tensor)
    return bool(tensor.item() > 0)


def gather_objects(obj: Any, ctx: DistContext) -> list[Any]:
    """``[obj of rank 0, obj of rank 1, ...]`` on every rank (in-memory exchange, not file loading)."""
    if not ctx.distributed:
        return [obj]
    out: list[Any] = [None] * ctx.world_size
    dist.all_gather_object(out, obj)
    return out


def barrier(ctx: DistContext) -> None:
    if ctx.distributed:
        dist.barrier()
