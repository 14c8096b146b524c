"""Learning-rate schedule: linear warm-up, then cosine/linear/no decay to a floor."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class WarmupDecay:
    """``LambdaLR`` multiplier at optimizer step ``s`` (0-based) so that lr(s) = base_lr * self(s).

    Warm-up: ``(s + 1) / warmup_steps`` for ``s < warmup_steps``; then the decay goes from 1 to
    ``min_ratio`` over the remaining steps and stays there. A dataclass (not a closure) so its
    fields are saved in the scheduler's ``state_dict``.
    """

    steps: int
    warmup_steps: int
    decay: str
    min_ratio: float

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        if self.decay == "none":
            return 1.0
        span = max(1, self.steps - 1 - self.warmup_steps)
        progress = min(1.0, (step - self.warmup_steps) / span)
        if self.decay == "cosine":
            shape = 0.5 * (1.0 + math.cos(math.pi * progress))
        elif self.decay == "linear":
            shape = 1.0 - progress
        else:
            raise ValueError(f"unknown decay {self.decay!r}")
        return self.min_ratio + (1.0 - self.min_ratio) * shape
