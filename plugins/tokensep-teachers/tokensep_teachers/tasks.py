"""Training the teacher networks with tokensep's trainer: L1 on the stem waveforms.

A batch is a mapping ``{"mixture": [B, C, T], "stems": [B, S, C, T]}`` at the network's
``sample_rate``, with stems in the config's ``stems`` order (what the default collation of
``{"mixture": [C, T], "stems": [S, C, T]}`` items gives).
"""

from __future__ import annotations

from typing import Any, ClassVar

import torch.nn.functional as F
from torch import Tensor, nn

from tokensep_core.errors import ConfigError
from tokensep_core.training.task import TrainingTask
from tokensep_teachers.base import NetworkSeparator, TeacherConfig
from tokensep_teachers.bs_roformer import BSRoformerSeparator
from tokensep_teachers.htdemucs import HTDemucsSeparator


class WaveformL1Task(TrainingTask):
    """One optimizer group, ``model``: mean absolute error between estimated and true stems.

    The trained ``model`` weights, saved as safetensors, are the separator's ``checkpoint``.
    """

    separator_cls: ClassVar[type[NetworkSeparator]]

    def __init__(self, config: TeacherConfig) -> None:
        self.separator = self.separator_cls(config)
        self.network = self.separator.network.train()

    def modules(self) -> dict[str, nn.Module]:
        return {"model": self.network}

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"model": list(self.network.parameters())}

    def losses(self, group: str, batch: Any, state: dict[str, Any]) -> dict[str, Tensor]:
        del group, state
        mixture, stems = batch["mixture"], batch["stems"]
        if stems.shape[1] != len(self.separator.stems):
            raise ConfigError(f"training batch has {stems.shape[1]} stems, the network outputs {len(self.separator.stems)}")
        estimate = self.separator.forward_batch(mixture)
        return {"l1": F.l1_loss(estimate, stems)}

    def config_dict(self) -> dict[str, Any]:
        return self.separator.config.model_dump(mode="json")


class HTDemucsTask(WaveformL1Task):
    """Trains :class:`HTDemucsSeparator`'s network."""

    separator_cls = HTDemucsSeparator


class BSRoformerTask(WaveformL1Task):
    """Trains :class:`BSRoformerSeparator`'s network."""

    separator_cls = BSRoformerSeparator
