"""What the shared trainer trains: a :class:`TrainingTask` (codec, separator LM, baselines, …)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn


@dataclass(frozen=True)
class EvalState:
    """Where training stands when the trainer asks a task to evaluate: the step just taken, the
    device the modules are on and the autocast precision the trainer uses."""

    step: int
    device: torch.device
    precision: str


class TrainingTask(ABC):
    """A trainable model with one or more optimizer groups stepped in order within a step.

    A GAN codec has groups ``("discriminator", "generator")``: the trainer computes the first
    group's losses, steps its optimizer, then computes the next group's losses, so no loss is
    computed against parameters that were updated after it was formed. ``state`` is a dict
    shared by the groups of one step (e.g. the generator's output reused by the discriminator).

    The trainer puts every module in ``train()`` mode and on its device *before* calling
    ``optimizer_groups()``, gives ``losses`` batches already on that device, calls it under
    autocast when mixed precision is on, and with gradient accumulation calls it once per
    micro-batch (each with its own ``state``). Under ``torchrun`` every rank runs the task on
    its own data shard and the trainer averages gradients over ranks, so a task never wraps
    its modules itself.

    Every ``trainer.eval_every`` steps (and at the last step) the trainer calls ``evaluate`` on
    rank 0 only, with every module in ``eval()`` mode, under ``torch.no_grad()`` and autocast,
    with torch's random state forked (what the evaluation draws leaves training's stream and
    resume untouched); the modules get their previous mode back afterwards.
    """

    @abstractmethod
    def modules(self) -> dict[str, nn.Module]:
        """Everything whose weights a checkpoint holds, by name."""

    @abstractmethod
    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        """Ordered ``{group: parameters}``; each group gets its own AdamW and scheduler. Groups
        must not share parameters; parameters with ``requires_grad=False`` are left out."""

    @abstractmethod
    def losses(self, group: str, batch: Any, state: dict[str, Any]) -> dict[str, Tensor]:
        """Weighted scalar loss terms for ``group``; the trainer back-propagates their sum and
        logs each term as ``<group>/<term>``. At a given step every rank must return the same term names."""

    def evaluate(self, state: EvalState) -> dict[str, float]:
        """Held-out scalars, logged as ``eval/<name>`` beside the step's training metrics; ``{}``
        (the default): the task has no evaluation."""
        return {}

    def metrics(self, group: str, state: dict[str, Any]) -> dict[str, Tensor]:
        """Scalars to log beside ``group``'s losses as ``<group>/<name>``, never optimised (e.g.
        codebook perplexity); called after each ``losses(group, batch, state)``. Default: none."""
        return {}

    def config_dict(self) -> dict[str, Any]:
        """The resolved configuration stored beside every checkpoint."""
        return {}

    def components(self) -> dict[str, Any]:
        """Which distribution provided each component, stored as config.json's ``components``
        (see tokensep_core.provenance); ``{}``: none recorded."""
        return {}
