"""The compute type of inference: float32, or bfloat16 LM weights under autocast.

bf16 weights halve the bytes each decode step reads (autocast alone re-casts fp32 weights every
step and is slower). On a CPU, plain ``F.linear`` with bf16 weights ran at about half the memory
bandwidth here; weights prepacked once for oneDNN (what inductor's freezing does) made each
linear layer 1.5–1.7× faster at batch 1 to 64 (benchmarks/SPEED.md, section 7), so the LM's
linear layers use packed copies for the duration of a block.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Literal

import torch
from torch import Tensor, nn

Dtype = Literal["float32", "bfloat16"]


@contextmanager
def inference_precision(lm: nn.Module, dtype: Dtype, device: torch.device) -> Iterator[None]:
    """Within the block the LM's weights are ``dtype``; with bfloat16 the block runs under
    autocast (encoder included) and, on a CPU, the LM's linear layers use prepacked weights."""
    low = dtype == "bfloat16"
    lm.to(torch.bfloat16 if low else torch.float32)
    with ExitStack() as stack:
        stack.enter_context(torch.autocast(device.type, dtype=torch.bfloat16, enabled=low))
        if low and device.type == "cpu":
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
