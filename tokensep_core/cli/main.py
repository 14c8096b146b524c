"""``tokensep`` entry point: the sub-commands plugins registered, one-line errors, exit codes.

A command line naming one of tokensep's own commands first (``tokensep separate …``) is parsed
without loading plugins, and the parser declares the arguments of the commands the line names
only: help and usage errors come before any torch import (the command's ``run`` imports what it
needs). ``tokensep --help`` and plugin or group commands load every plugin's commands and
training tasks to list them (:func:`~tokensep_core.plugins.load_commands`: no component is
registered, so no codec, LM or teacher module is imported).
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tokensep_core import __version__
from tokensep_core.cli import train_cmd
from tokensep_core.cli.builtin_commands import COMMANDS
from tokensep_core.commands import Command
from tokensep_core.errors import TokensepError

if TYPE_CHECKING:
    from tokensep_core.plugins import LoadedCommands


def registered_commands(loaded: LoadedCommands) -> list[Command]:
    """Every registered command, then ``train NAME`` for every registered training task."""
    return [*loaded.commands, *train_cmd.task_commands(loaded.training_tasks)]


def core_command_named(argv: Sequence[str]) -> bool:
    """Whether the command line starts with one of tokensep's own commands that is not a group
    (``separate``, ``plugins``, …): a plugin cannot take such a name, so these commands alone
    parse it (no plugin imported)."""
    return bool(argv) and any(c.name == argv[0] and c.parent is None and not c.is_group for c in COMMANDS)


def build_parser(commands: Iterable[Command], argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``tokensep`` parser; a group's sub-commands come after the group itself. Given the
    command line ``argv``, only the commands it names get their arguments declared (the others
    are listed, with their help line, but their modules are not imported)."""
    named = None if argv is None else set(argv)
    parser = argparse.ArgumentParser(
        prog="tokensep", description="Generative music source separation with codec tokens and language models."
    )
    parser.add_argument("--version", action="version", version=f"tokensep {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}
    for command in commands:
        if command.parent is None:
            sub = subparsers.add_parser(command.name, help=command.help)
        elif command.parent in groups:
            sub = groups[command.parent].add_parser(command.name, help=command.help)
        else:
            continue  # its group is not registered (e.g. a training task while no 'train' group)
        if command.add_arguments is not None and (named is None or {command.name, command.parent or command.name} <= named):
            command.add_arguments(sub)
        if command.is_group:
            groups[command.name] = sub.add_subparsers(dest=f"{command.name}_command", metavar="COMMAND")
            sub.set_defaults(func=lambda args, sub=sub: _usage(sub))
        else:
            sub.set_defaults(func=command.run)
        sub.set_defaults(command_parser=sub)
    return parser


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so that the same clean-up runs (no temporary files left)."""


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While the block runs, SIGTERM raises :class:`Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe whose reading end is closed (poll reports an error on it)."""
    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows) or no real stdout
        return False


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if core_command_named(argv):
        commands: list[Command] = list(COMMANDS)
    else:
        from tokensep_core.plugins import load_commands

        commands = registered_commands(load_commands())
    parser = build_parser(commands, argv)
    args, extras = parser.parse_known_args(argv)
    if extras:  # reported by the sub-command's parser, so its usage is the one shown
        getattr(args, "command_parser", parser).error(f"unrecognized arguments: {' '.join(extras)}")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with sigterm_as_interrupt():
            code = int(args.func(args) or 0)
            sys.stdout.flush()  # a reader that left shows here, not in the interpreter's exit
            return code
    except BrokenPipeError:
        if not _stdout_reader_gone():  # another pipe (e.g. ffmpeg's): a real error
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nothing left to flush at exit
        return 141  # 128 + SIGPIPE, as a shell reports `tokensep … | head` cut short
    except TokensepError as err:
        print(f"tokensep: error: {err}", file=sys.stderr)
        return 1
    except Terminated:
        print("tokensep: terminated", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("tokensep: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
