"""``tokensep plugins``: every component by kind with its provider; failed plugins; config schemas."""

from __future__ import annotations

import argparse
import json

from tokensep_core.interfaces import KINDS
from tokensep_core.plugins import load_plugins


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--schema", nargs=2, metavar=("KIND", "NAME"), help="print a component's config JSON schema")


def run(args: argparse.Namespace) -> int:
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
    if loaded.failures:
        print("failed plugins:")
        for failure in loaded.failures:
            print(f"  {failure.distribution}: {failure.reason}")
    return 0
