"""Registers tokensep's own sub-commands, through the same hook as a plugin's.

``tokensep --help`` lists them in this order, then the commands of the other plugins; the
``train`` group gets one sub-command per registered training task (see train_cmd.py).
"""

from tokensep_core.cli import (
    bench_cmd,
    data_cmd,
    demo_cmd,
    eval_conditioning_cmd,
    eval_separator_cmd,
    export_cmd,
    plugins_cmd,
    pseudolabel_cmd,
    separate_cmd,
    train_cmd,
)
from tokensep_core.commands import Command
from tokensep_core.hookspecs import hookimpl
from tokensep_core.tables import ProviderTable

COMMANDS: tuple[Command, ...] = (
    Command(
        "demo",
        "separate held-out synthetic songs; score them beside mixture copy and the mismatched-reference control",
        demo_cmd.add_arguments,
        demo_cmd.run,
    ),
    Command("plugins", "list registered components and plugin failures", plugins_cmd.add_arguments, plugins_cmd.run),
    Command("separate", "separate songs into stems with a trained model", separate_cmd.add_arguments, separate_cmd.run),
    Command(
        "export", "export a checkpoint's weights and config as a self-contained model directory", export_cmd.add_arguments, export_cmd.run
    ),
    Command("data", "make and inspect datasets"),
    Command(
        "synth",
        "write synthetic songs with stems in the MUSDB18-HQ layout",
        data_cmd.add_synth_arguments,
        data_cmd.run_synth,
        parent="data",
    ),
    Command(train_cmd.GROUP, "train a model with the shared trainer (resumes an existing run directory)"),
    Command(
        "pseudolabel",
        "separate unlabeled mixtures with a teacher into a stems folder dataset",
        pseudolabel_cmd.add_arguments,
        pseudolabel_cmd.run,
    ),
    Command("eval", "evaluate a model on test songs (metrics, real-time factor, memory)"),
    Command(
        "separator",
        "evaluate a separator on a dataset's test songs",
        eval_separator_cmd.add_arguments,
        eval_separator_cmd.run,
        parent="eval",
    ),
    Command(
        "conditioning",
        "measure how much a separator checkpoint's LM reads the mixture (held-out CE: true, null, shuffled condition)",
        eval_conditioning_cmd.add_arguments,
        eval_conditioning_cmd.run,
        parent="eval",
    ),
    Command("bench", "train and evaluate a grid of separators; tables, plots and an HTML report", bench_cmd.add_arguments, bench_cmd.run),
)


@hookimpl
def tokensep_register_commands(commands: ProviderTable[Command]) -> None:
    for command in COMMANDS:
        commands.add(command)
