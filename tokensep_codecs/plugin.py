"""Registers tokensep_codecs' components, its commands (``tokenize``, ``eval codec``) and its
training task (``train codec``)."""

from tokensep_codecs import eval_cmd, tokenize_cmd
from tokensep_codecs.dac_codec import DACCodec
from tokensep_codecs.debug import DebugCodec
from tokensep_codecs.encodec_codec import EncodecCodec
from tokensep_codecs.hcodec import HCodec
from tokensep_codecs.training import build_codec_training
from tokensep_core.commands import Command
from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry
from tokensep_core.tables import ProviderTable
from tokensep_core.training.spec import TrainingTaskSpec


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
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
            tokenize_cmd.add_arguments,
            tokenize_cmd.run,
        )
    )
    commands.add(
        Command(
            "codec",
            "evaluate a codec: resynthesis SI-SDR, mel distance, ViSQOL, bitrate, codebook usage, speed",
            eval_cmd.add_arguments,
            eval_cmd.run,
            parent="eval",
        )
    )


@hookimpl
def tokensep_register_training_tasks(tasks: ProviderTable[TrainingTaskSpec]) -> None:
    tasks.add(TrainingTaskSpec("codec", "train a codec (hcodec, dac, encodec) on the stems of a dataset", build_codec_training))
