"""``tokensep eval WHAT ...``: evaluation commands, one module per thing evaluated.

A module listed in :data:`EVAL_COMMAND_MODULES` provides ``add_parser(subparsers)`` that adds
its sub-command (e.g. ``separator``) to the ``eval`` group and sets ``func(args) -> int``.
"""

from __future__ import annotations

import argparse
import importlib

EVAL_COMMAND_MODULES: tuple[str, ...] = ("tokensep_core.cli.eval_separator_cmd", "tokensep_codecs.eval_cmd")
"""Modules each adding one ``tokensep eval <what>`` sub-command."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("eval", help="evaluate a model on test songs (metrics, real-time factor, memory)")
    what = parser.add_subparsers(dest="eval_command", metavar="WHAT")
    parser.set_defaults(func=lambda args: _usage(parser))
    for module_name in EVAL_COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(what)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2
