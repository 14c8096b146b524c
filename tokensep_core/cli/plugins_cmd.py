"""``tokensep plugins``: every component by kind with its provider, the commands, training tasks and
trainable baselines plugins registered; failed plugins; config schemas.

With ``--strict`` the command exits 1 when any plugin failed (import, registration or a name
clash), so a plugin's CI can run ``tokensep plugins --strict``."""

from __future__ import annotations

import argparse
import json
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schema", nargs=2, metavar=("KIND", "NAME"), help="print a component's config JSON schema")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 when any plugin failed to import or register")


def run(args: argparse.Namespace) -> int:
    from tokensep_core.interfaces import KINDS
    from tokensep_core.plugins import load_plugins

    loaded = load_plugins()
    if args.schema:
        kind, name = args.schema
        entry = loaded.registry.get(kind, name)
        print(json.dumps(entry.config_cls.model_json_schema(), indent=2))
        return 0
    for kind in KINDS:
        names = loaded.registry.names(kind)
        if not names:
            continue
        print(f"{kind}:")
        for name in names:
            entry = loaded.registry.get(kind, name)
            description = f"  {entry.description}" if entry.description else ""
            print(f"  {name:<20} {str(entry.provider):<28}{description}")
    for title, table in (
        ("command", loaded.commands),
        ("training task", loaded.training_tasks),
        ("trainable baseline", loaded.trainable_baselines),
        ("model", loaded.models),
    ):
        print(f"{title}s (hook):")
        for item in table:
            help_text = getattr(item, "help", "")
            print(f"  {item.key:<20} {str(table.provider(item.key)):<28}{'  ' + help_text if help_text else ''}".rstrip())
    if loaded.failures:
        print("failed plugins:")
        for failure in loaded.failures:
            print(f"  {failure.distribution}: {failure.reason}")
    if args.strict and loaded.failures:
        count = len(loaded.failures)
        print(f"tokensep: error: {count} plugin failure{'s' if count > 1 else ''} (--strict)", file=sys.stderr)
        return 1
    return 0
