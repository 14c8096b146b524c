"""Mixed precision: which autocast dtype a device supports, and the matching GradScaler."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def effective_precision(requested: str, device: torch.device) -> str:
    """``requested`` if ``device`` can autocast to it, else ``fp32``.

    CPU autocasts bf16 but not fp16 (no fp16 GradScaler path worth using there); CUDA needs
    hardware bf16 support for bf16; MPS autocasts fp16 (and bf16 on recent torch)."""
    if requested == "fp32" or not torch.amp.is_autocast_available(device.type):
        return "fp32"
    if device.type == "cpu":
        return "bf16" if requested == "bf16" else "fp32"
    if device.type == "cuda" and requested == "bf16" and not torch.cuda.is_bf16_supported():
        return "fp32"
    return requested


def autocast(precision: str, device: torch.device) -> AbstractContextManager:
    """The autocast context for an :func:`effective_precision` value."""
    if precision == "fp32":
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=_DTYPES[precision])


def grad_scaler(precision: str, device: torch.device) -> torch.amp.GradScaler:
    """Loss scaling for fp16 (disabled, i.e. a pass-through, otherwise)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "fp16")
