"""The learning-rate schedule: warm-up then cosine/linear/no decay to the floor."""

import math

import pytest

from tokensep_core.training.schedule import WarmupDecay


def test_warmup_is_linear_up_to_the_peak():
    schedule = WarmupDecay(steps=100, warmup_steps=4, decay="cosine", min_ratio=0.1)
    assert [schedule(s) for s in range(4)] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert schedule(4) == pytest.approx(1.0)


@pytest.mark.parametrize("decay", ["cosine", "linear"])
def test_decay_reaches_the_floor_on_the_last_step_and_stays(decay):
    schedule = WarmupDecay(steps=11, warmup_steps=1, decay=decay, min_ratio=0.2)
    values = [schedule(s) for s in range(1, 11)]
    assert values[0] == pytest.approx(1.0) and values[-1] == pytest.approx(0.2)
    assert all(a >= b for a, b in zip(values, values[1:]))
    assert schedule(50) == pytest.approx(0.2)


def test_cosine_and_linear_midpoints():
    cosine = WarmupDecay(steps=21, warmup_steps=0, decay="cosine", min_ratio=0.0)
    linear = WarmupDecay(steps=21, warmup_steps=0, decay="linear", min_ratio=0.0)
    assert cosine(10) == pytest.approx(0.5) and linear(10) == pytest.approx(0.5)
    assert cosine(5) == pytest.approx(0.5 * (1 + math.cos(math.pi / 4)))
    assert linear(5) == pytest.approx(0.75)


def test_no_decay_holds_the_peak():
    schedule = WarmupDecay(steps=10, warmup_steps=2, decay="none", min_ratio=0.0)
    assert [schedule(s) for s in range(10)] == pytest.approx([0.5] + [1.0] * 9)
