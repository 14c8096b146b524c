"""Fixtures of the codec tests."""

import math
from typing import Callable

import pytest
import torch


def _tone(seconds: float, sample_rate: int, channels: int = 1, batch: int = 1) -> torch.Tensor:
    """A fixed two-partial tone with a slow amplitude wobble, ``[batch, channels, T]``."""
    t = torch.arange(round(seconds * sample_rate)) / sample_rate
    base = 0.3 * torch.sin(2 * math.pi * 220 * t) + 0.15 * torch.sin(2 * math.pi * 660 * t + 0.5)
    base = base * (0.75 + 0.25 * torch.sin(2 * math.pi * 3 * t))
    chans = [base * (1.0 - 0.3 * c) for c in range(channels)]
    return torch.stack(chans).unsqueeze(0).repeat(batch, 1, 1)


@pytest.fixture
def tone() -> Callable[..., torch.Tensor]:
    return _tone


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny models run faster on one thread, and far faster when other jobs share the CPU."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)
