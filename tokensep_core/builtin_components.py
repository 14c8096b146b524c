"""Registers the components that live in tokensep_core itself (patterns, track orders, metrics, …),
its training tasks (``tokensep train separator``, ``tokensep train mixture_decoder``) and the models
shipped in ``pretrained/``.

The components are imported inside the hook, so the command table (``tokensep --help``) loads this
module without torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokensep_core.commands import lazy
from tokensep_core.hookspecs import hookimpl
from tokensep_core.separation.models import NamedModel, shipped_models
from tokensep_core.tables import ProviderTable
from tokensep_core.training.spec import TrainingTaskSpec

if TYPE_CHECKING:
    from tokensep_core.registry import ProviderRegistry


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    from tokensep_core.data.musdb import MusdbDataset
    from tokensep_core.data.procedural import ProceduralRenderer
    from tokensep_core.data.soundfont import SoundfontRenderer
    from tokensep_core.data.stems_folder import StemsFolderDataset
    from tokensep_core.data.synthetic import SyntheticDataset
    from tokensep_core.metrics import METRICS
    from tokensep_core.separation.baselines import CodecOracle, MixtureCopy, Oracle, Silence
    from tokensep_core.separation.mask_decoder import SpectralMaskDecoder
    from tokensep_core.separation.separator import GenerativeSeparatorConfig, load_generative
    from tokensep_core.tokens.patterns import DelayPattern, FlattenPattern, ParallelPattern
    from tokensep_core.tokens.track_orders import IndependentOrder, InterleavedOrder, SequentialOrder

    registry.add("pattern", "flatten", FlattenPattern)
    registry.add("pattern", "delay", DelayPattern)
    registry.add("pattern", "parallel", ParallelPattern)
    registry.add("track_order", "sequential", SequentialOrder)
    registry.add("track_order", "independent", IndependentOrder)
    registry.add("track_order", "interleaved", InterleavedOrder)
    registry.add("separator", "mixture_copy", MixtureCopy)
    registry.add("separator", "silence", Silence)
    registry.add("separator", "oracle", Oracle)
    registry.add("separator", "codec_oracle", CodecOracle)
    registry.add("separator", "generative", load_generative, GenerativeSeparatorConfig)
    registry.add("renderer", "procedural", ProceduralRenderer)
    registry.add("renderer", "soundfont", SoundfontRenderer)
    registry.add("dataset", "musdb", MusdbDataset)
    registry.add("dataset", "stems_folder", StemsFolderDataset)
    registry.add("dataset", "synthetic", SyntheticDataset)
    registry.add("mixture_decoder", "spectral_mask", SpectralMaskDecoder)
    for name, metric in METRICS.items():
        registry.add("metric", name, metric)


@hookimpl
def tokensep_register_training_tasks(tasks: ProviderTable[TrainingTaskSpec]) -> None:
    tasks.add(
        TrainingTaskSpec(
            "separator",
            "train the generative separator (encoder + token LM) on a stems dataset",
            lazy("tokensep_core.separation.training", "build_separator_training"),
        )
    )
    tasks.add(
        TrainingTaskSpec(
            "mixture_decoder",
            "train a mixture decoder: split the full-band mixture guided by codec-coded true stems",
            lazy("tokensep_core.separation.decoder_training", "build_mixture_decoder_training"),
        )
    )


@hookimpl
def tokensep_register_models(models: ProviderTable[NamedModel]) -> None:
    for model in shipped_models():
        models.add(model)
