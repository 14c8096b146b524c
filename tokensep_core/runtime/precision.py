"""Numeric precision, one vocabulary for training and inference: ``float32``, ``bfloat16``, ``float16``.

Training autocasts to the precision where the device supports it (fp16 with a GradScaler).
Inference runs the LM's weights in the precision under autocast: bf16 weights halve the bytes
each decode step reads (autocast alone re-casts fp32 weights every step and is slower). On a
CPU, plain ``F.linear`` with bf16 weights ran at about half the memory bandwidth here; weights
prepacked once for oneDNN (what inductor's freezing does) made each linear layer 1.5–1.7× faster
at batch 1 to 64 (benchmarks/SPEED.md, section 7), so the LM's linear layers use packed copies
for the duration of a block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, nullcontext
from functools import partial
from typing import Annotated, Any

import torch
from pydantic import BeforeValidator
from torch import Tensor, nn

from tokensep_core.runtime.precision_names import Precision

TORCH_DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
"""The torch dtype of each :data:`Precision`."""

_OLD_NAMES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}
"""Spellings of training configs written before the names were unified (e.g. pretrained/*/config.json)."""


def _new_name(value: Any) -> Any:
    return _OLD_NAMES.get(value, value) if isinstance(value, str) else value


PrecisionField = Annotated[Precision, BeforeValidator(_new_name)]
"""A config field of type :data:`Precision` that also reads the old names fp32, bf16, fp16."""


def effective_precision(requested: Precision, device: torch.device) -> Precision:
    """``requested`` if ``device`` can train under autocast to it, else ``float32``.

    CPU autocasts bfloat16 but not float16 (no fp16 GradScaler path worth using there); CUDA
    needs hardware bf16 support for bfloat16; MPS autocasts float16 (and bfloat16 on recent torch)."""
    if requested == "float32" or not torch.amp.is_autocast_available(device.type):
        return "float32"
    if device.type == "cpu":
        return "bfloat16" if requested == "bfloat16" else "float32"
    if device.type == "cuda" and requested == "bfloat16" and not torch.cuda.is_bf16_supported():
        return "float32"
    return requested


def autocast(precision: Precision, device: torch.device) -> AbstractContextManager:
    """The training autocast context for an :func:`effective_precision` value."""
    if precision == "float32":
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=TORCH_DTYPES[precision])


def grad_scaler(precision: Precision, device: torch.device) -> torch.amp.GradScaler:
    """Loss scaling for float16 training (disabled, i.e. a pass-through, otherwise)."""
    return torch.amp.GradScaler(device.type, enabled=precision == "float16")


@contextmanager
def inference_precision(lm: nn.Module, dtype: Precision, device: torch.device) -> Iterator[None]:
    """Within the block the LM's weights are ``dtype``; below float32 the block runs under
    autocast (encoder included) and, with bfloat16 on a CPU, the LM's linear layers use prepacked weights."""
    low = dtype != "float32"
    lm.to(TORCH_DTYPES[dtype])
    with ExitStack() as stack:
        stack.enter_context(torch.autocast(device.type, dtype=TORCH_DTYPES[dtype], enabled=low))
        if dtype == "bfloat16" and device.type == "cpu":
            stack.enter_context(packed_linears(lm))
        yield


def _can_pack() -> bool:
    try:
        return torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    except (AttributeError, RuntimeError):
        return False


@contextmanager
def packed_linears(module: nn.Module) -> Iterator[int]:
    """Within the block every bf16 ``nn.Linear`` of ``module`` on the CPU computes with a weight
    packed for oneDNN (inference only: no gradients reach the weights). Yields how many layers
    were packed (0 where oneDNN has no bf16 support); their own ``forward`` is back afterwards."""
    patched: list[nn.Linear] = []
    try:
        if _can_pack():
            for linear in module.modules():
                weight = linear.weight if isinstance(linear, nn.Linear) else None
                if weight is not None and weight.dtype == torch.bfloat16 and weight.device.type == "cpu":
                    packed = torch.ops.mkldnn._reorder_linear_weight(
                        weight.detach(), 1
                    )  # tuned for batch 1; fastest at every batch measured
                    bias = linear.bias.detach().to(torch.bfloat16) if linear.bias is not None else None
                    linear.forward = partial(_packed_forward, packed, bias)
                    patched.append(linear)
        yield len(patched)
    finally:
        for linear in patched:
            del linear.forward


def _packed_forward(weight: Tensor, bias: Tensor | None, x: Tensor) -> Tensor:
    """x ``[..., in]`` -> ``[..., out]`` in bfloat16, as autocast's linear would return."""
    return torch.ops.mkldnn._linear_pointwise(x.to(torch.bfloat16), weight, bias, "none", [], "")
