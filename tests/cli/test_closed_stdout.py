"""`tokensep … | head`: when the reader of stdout leaves, tokensep stops with the shell's SIGPIPE
status (141) and no traceback; a broken pipe that is not stdout stays an error."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokensep_core.cli import main as cli_main

REPO = Path(__file__).resolve().parents[2]


def test_a_reader_that_leaves_ends_the_command_quietly_with_141():
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tokensep_core.cli.main", "plugins"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    process.stdout.close()  # before the command has imported anything, let alone printed
    _, err = process.communicate(timeout=120)
    assert process.returncode == 141, err
    assert b"Traceback" not in err and b"BrokenPipeError" not in err, err


def test_the_closed_reader_is_told_apart_from_an_open_one(monkeypatch: pytest.MonkeyPatch):
    read_end, write_end = os.pipe()
    with os.fdopen(write_end, "w") as stdout:
        monkeypatch.setattr(sys, "stdout", stdout)
        assert not cli_main._stdout_reader_gone()
        os.close(read_end)
        assert cli_main._stdout_reader_gone()


def test_a_broken_pipe_elsewhere_is_not_swallowed(monkeypatch: pytest.MonkeyPatch):
    def broken(args: argparse.Namespace) -> int:
        raise BrokenPipeError("ffmpeg's stdin")

    def parser(commands, argv) -> argparse.ArgumentParser:  # one command, which writes to a pipe that broke
        found = argparse.ArgumentParser()
        found.add_argument("command")
        found.set_defaults(func=broken)
        return found

    monkeypatch.setattr(cli_main, "build_parser", parser)
    with pytest.raises(BrokenPipeError):  # stdout (pytest's capture) is fine
        cli_main.main(["plugins"])
