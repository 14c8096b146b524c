"""A tiny real training task for the trainer tests: a two-group MLP regression with dropout,
and datasets whose items carry random noise drawn at read time."""

from __future__ import annotations

import time
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import Dataset, IterableDataset

from tokensep_core.training import TrainingTask

DIM = 4


class TinyRegression(TrainingTask):
    """Groups in order: ``trunk`` (Linear-Tanh-Dropout), then ``head`` (Linear + L2 term)."""

    def __init__(self, hidden: int = 16, dropout: float = 0.1, seed: int = 0, sleep: float = 0.0, record: bool = False) -> None:
        torch.manual_seed(seed)
        self.hidden, self.dropout, self.seed = hidden, dropout, seed
        self.trunk = nn.Sequential(nn.Linear(DIM, hidden), nn.Tanh(), nn.Dropout(dropout))
        self.head = nn.Linear(hidden, 1)
        self.sleep = sleep  # lets a test kill the process mid-run
        self.calls: list[tuple[str, float]] | None = [] if record else None

    def modules(self) -> dict[str, nn.Module]:
        return {"trunk": self.trunk, "head": self.head}

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"trunk": list(self.trunk.parameters()), "head": list(self.head.parameters())}

    def losses(self, group: str, batch: Any, state: dict[str, Any]) -> dict[str, Tensor]:
        if self.sleep:
            time.sleep(self.sleep)
        if self.calls is not None:
            self.calls.append((group, float(self.trunk[0].weight.detach().sum())))
        prediction = self.head(self.trunk(batch["x"])).squeeze(-1)
        terms = {"mse": F.mse_loss(prediction, batch["y"])}
        if group == "head":
            terms["l2"] = 1e-3 * self.head.weight.pow(2).sum()
        return terms

    def config_dict(self) -> dict[str, Any]:
        return {"hidden": self.hidden, "dropout": self.dropout, "seed": self.seed}


def _target(x: Tensor) -> Tensor:
    return torch.tanh(x @ torch.tensor([0.5, -1.0, 0.25, 0.75]))


class NoisyRegression(Dataset):
    """``size`` fixed inputs; the target gets fresh ``torch.randn`` noise at every read."""

    def __init__(self, size: int = 64, noise: float = 0.05) -> None:
        self.x = torch.randn(size, DIM, generator=torch.Generator().manual_seed(123))
        self.noise = noise

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        x = self.x[index]
        return {"x": x, "y": _target(x) + self.noise * torch.randn(())}


class NoisyRegressionStream(IterableDataset):
    """The same data as an iterable whose inputs are drawn at random on the fly."""

    def __init__(self, size: int = 64, noise: float = 0.05) -> None:
        self.size, self.noise = size, noise

    def __iter__(self):
        for _ in range(self.size):
            x = torch.randn(DIM)
            yield {"x": x, "y": _target(x) + self.noise * torch.randn(())}


def clean_mse(task: TinyRegression, dataset: NoisyRegression) -> float:
    """The task's mean squared error on the noise-free targets of every item (dropout off)."""
    with torch.no_grad():
        prediction = task.head(task.trunk.eval()(dataset.x)).squeeze(-1)
        return float(F.mse_loss(prediction, _target(dataset.x)))
