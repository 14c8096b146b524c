"""Registers the teacher separators with tokensep (entry point group ``tokensep``), the
training tasks that let ``tokensep bench`` train their networks as baselines, and the named model
``htdemucs`` for ``tokensep separate -n htdemucs`` (weights from ``TOKENSEP_HTDEMUCS_CHECKPOINT``).

The separators are imported inside the hooks: listing the commands (``tokensep --help``) loads
this module without torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokensep_core.hookspecs import hookimpl
from tokensep_teachers.named import HTDEMUCS_MODEL

if TYPE_CHECKING:
    from tokensep_core.registry import ProviderRegistry
    from tokensep_core.separation.models import NamedModel
    from tokensep_core.tables import ProviderTable
    from tokensep_core.training.spec import TrainableBaseline


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    from tokensep_teachers.bs_roformer import BSRoformerSeparator
    from tokensep_teachers.htdemucs import HTDemucsSeparator

    registry.add("separator", "htdemucs", HTDemucsSeparator)
    registry.add("separator", "bs_roformer", BSRoformerSeparator)


@hookimpl
def tokensep_register_bench_baselines(baselines: ProviderTable[TrainableBaseline]) -> None:
    from tokensep_core.training.spec import TrainableBaseline
    from tokensep_teachers.tasks import BSRoformerTask, HTDemucsTask

    baselines.add(TrainableBaseline("htdemucs", HTDemucsTask))
    baselines.add(TrainableBaseline("bs_roformer", BSRoformerTask))


@hookimpl
def tokensep_register_models(models: ProviderTable[NamedModel]) -> None:
    models.add(HTDEMUCS_MODEL)
