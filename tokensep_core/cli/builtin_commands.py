"""Registers tokensep's own sub-commands, through the same hook as a plugin's.

``tokensep --help`` lists them in this order, then the commands of the other plugins; the
``train`` group gets one sub-command per registered training task (see train_cmd.py).

A command's functions are named by module and imported when called, so this table (and a parser
built for one command) imports no other command's module and no torch: ``tokensep separate
--help`` answers at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tokensep_core.cli import train_cmd
from tokensep_core.commands import Command, lazy
from tokensep_core.hookspecs import hookimpl
from tokensep_core.tables import ProviderTable


def _lazy(module: str, function: str) -> Callable[..., Any]:
    """``tokensep_core.cli.<module>.<function>``, imported at its first call."""
    return lazy(f"tokensep_core.cli.{module}", function)


def _functions(module: str, add_arguments: str = "add_arguments", run: str = "run") -> tuple[Callable[..., Any], Callable[..., Any]]:
    """(add_arguments, run) of a command module, each imported when called."""
    return _lazy(module, add_arguments), _lazy(module, run)


COMMANDS: tuple[Command, ...] = (
    Command(
        "demo",
        "separate held-out synthetic songs; score them beside mixture copy and the mismatched-reference control",
        *_functions("demo_cmd"),
    ),
    Command("plugins", "list registered components and plugin failures", *_functions("plugins_cmd")),
    Command("separate", "separate songs into stems with a trained model", *_functions("separate_cmd")),
    Command("export", "export a checkpoint's weights and config as a self-contained model directory", *_functions("export_cmd")),
    Command("data", "make and inspect datasets"),
    Command(
        "synth",
        "write synthetic songs with stems in the MUSDB18-HQ layout",
        *_functions("data_cmd", "add_synth_arguments", "run_synth"),
        parent="data",
    ),
    Command(
        "midi",
        "render excerpts of MIDI compositions into songs with stems (MUSDB18-HQ layout), stems by General MIDI program",
        *_functions("data_cmd", "add_midi_arguments", "run_midi"),
        parent="data",
    ),
    Command(
        "corpus",
        "build the real-music training corpus from Debian packages (MIDI compositions x soundfonts; docs/data.md)",
        *_functions("data_cmd", "add_corpus_arguments", "run_corpus"),
        parent="data",
    ),
    Command(
        "music",
        "cut real mixed music without stems (game soundtracks from Debian packages) into excerpts for codec training",
        *_functions("music_cmd"),
        parent="data",
    ),
    Command(train_cmd.GROUP, "train a model with the shared trainer (resumes an existing run directory)"),
    Command(
        "pseudolabel",
        "separate unlabeled mixtures with a teacher into a stems folder dataset",
        *_functions("pseudolabel_cmd"),
    ),
    Command("eval", "evaluate a model on test songs (metrics, real-time factor, memory)"),
    Command(
        "separator",
        "evaluate a separator on a dataset's test songs",
        *_functions("eval_separator_cmd"),
        parent="eval",
    ),
    Command(
        "conditioning",
        "measure how much a separator checkpoint's LM reads the mixture (held-out CE: true, null, shuffled condition)",
        *_functions("eval_conditioning_cmd"),
        parent="eval",
    ),
    Command("bench", "train and evaluate a grid of separators; tables, plots and an HTML report", *_functions("bench_cmd")),
)


@hookimpl
def tokensep_register_commands(commands: ProviderTable[Command]) -> None:
    for command in COMMANDS:
        commands.add(command)
