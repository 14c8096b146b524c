"""Training tasks of the teacher networks: an L1 loss that reaches every parameter."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("tokensep_teachers", reason="plugin not installed: pip install -e plugins/tokensep-teachers")

from tokensep_teachers.bs_roformer import BSRoformerConfig
from tokensep_teachers.htdemucs import HTDemucsConfig
from tokensep_teachers.tasks import BSRoformerTask, HTDemucsTask

from .tiny import TINY_BS_ROFORMER, TINY_HTDEMUCS


@pytest.mark.parametrize(
    ("task_cls", "config"),
    [(HTDemucsTask, HTDemucsConfig(**TINY_HTDEMUCS)), (BSRoformerTask, BSRoformerConfig(**TINY_BS_ROFORMER))],
)
def test_l1_loss_backpropagates_and_a_step_lowers_it(task_cls, config) -> None:
    torch.manual_seed(0)
    task = task_cls(config)
    stems = torch.randn(1, 4, 2, 11025) * 0.1
    batch = {"mixture": stems.sum(1), "stems": stems}
    assert list(task.optimizer_groups()) == ["model"] and task.modules()["model"].training
    optimizer = torch.optim.Adam(task.optimizer_groups()["model"], lr=1e-3)
    first = task.losses("model", batch, {})["l1"]
    first.backward()
    # a few of HTDemucs' parameters (e.g. unused frequency embeddings) get no gradient by design
    grads = [p.grad for p in task.optimizer_groups()["model"]]
    assert sum(g is not None and bool(g.abs().sum() > 0) for g in grads) > 0.8 * len(grads)
    optimizer.step()
    optimizer.zero_grad()
    assert task.losses("model", batch, {})["l1"] < first
    assert task.config_dict()["stems"] == ["vocals", "drums", "bass", "other"]
