"""What the shared trainer trains: a :class:`TrainingTask` (codec, separator LM, baselines, …)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from torch import Tensor, nn


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
