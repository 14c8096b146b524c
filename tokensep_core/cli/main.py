"""``tokensep`` entry point: sub-commands, one-line errors, exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence

from tokensep_core import __version__
from tokensep_core.errors import TokensepError

COMMAND_MODULES: tuple[str, ...] = (
    "tokensep_core.cli.demo_cmd",
    "tokensep_core.cli.plugins_cmd",
    "tokensep_core.cli.separate_cmd",
    "tokensep_core.cli.export_cmd",
    "tokensep_core.cli.data_cmd",
    "tokensep_core.cli.train_cmd",
    "tokensep_core.cli.pseudolabel_cmd",
    "tokensep_core.cli.eval_cmd",
    "tokensep_core.cli.bench_cmd",
    "tokensep_codecs.tokenize_cmd",
)
"""Each module provides ``add_parser(subparsers)``, which sets ``func(args) -> int`` as a default."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tokensep", description="Generative music source separation with codec tokens and language models."
    )
    parser.add_argument("--version", action="version", version=f"tokensep {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def _quiet_third_party_deprecations() -> None:
    """descript-audio-codec triggers torch deprecation warnings at import; users cannot act on them."""
    for pattern in (".*torch.nn.utils.weight_norm.*", ".*torch.jit.script.*"):
        warnings.filterwarnings("ignore", message=pattern, category=FutureWarning)


def main(argv: Sequence[str] | None = None) -> int:
    _quiet_third_party_deprecations()
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except TokensepError as err:
        print(f"tokensep: error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tokensep: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
