"""Registers tokensep_codecs' components, its commands (``tokenize``, ``eval codec``) and its
training task (``train codec``).

Components are imported inside their hook and commands and the training task are imported when
called, so listing the commands (``tokensep --help``) imports neither dac nor torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokensep_core.commands import Command, lazy
from tokensep_core.hookspecs import hookimpl
from tokensep_core.tables import ProviderTable
from tokensep_core.training.spec import TrainingTaskSpec

if TYPE_CHECKING:
    from tokensep_core.registry import ProviderRegistry


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    from tokensep_codecs.dac_codec import DACCodec
    from tokensep_codecs.debug import DebugCodec
    from tokensep_codecs.encodec_codec import EncodecCodec
    from tokensep_codecs.hcodec import HCodec

    registry.add("codec", "debug", DebugCodec)
    registry.add("codec", "hcodec", HCodec)
    registry.add("codec", "dac", DACCodec)
    registry.add("codec", "encodec", EncodecCodec)


@hookimpl
def tokensep_register_commands(commands: ProviderTable[Command]) -> None:
    commands.add(
        Command(
            "tokenize",
            "encode every stem and mixture of a dataset once and store the codes in shards",
            lazy("tokensep_codecs.tokenize_cmd", "add_arguments"),
            lazy("tokensep_codecs.tokenize_cmd", "run"),
        )
    )
    commands.add(
        Command(
            "codec",
            "evaluate a codec: resynthesis SI-SDR, mel distance, ViSQOL, bitrate, codebook usage, speed",
            lazy("tokensep_codecs.eval_cmd", "add_arguments"),
            lazy("tokensep_codecs.eval_cmd", "run"),
            parent="eval",
        )
    )


@hookimpl
def tokensep_register_training_tasks(tasks: ProviderTable[TrainingTaskSpec]) -> None:
    tasks.add(
        TrainingTaskSpec(
            "codec",
            "train a codec (hcodec, dac, encodec) on the stems of a dataset",
            lazy("tokensep_codecs.training", "build_codec_training"),
        )
    )
