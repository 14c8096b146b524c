"""A plugin adds a CLI sub-command and a training task with no edit to core; command
registration failures and clashes are reported like component ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tokensep_core.cli.main import build_parser, main, registered_commands
from tokensep_core.plugins import AUTOLOAD_ENV, load_plugins

HELLO_PLUGIN = '''
"""A toy plugin: ``tokensep hello NAME --times N`` and ``tokensep train toy``."""

import argparse

import torch
from torch import nn

from tokensep_core.commands import Command
from tokensep_core.hookspecs import hookimpl
from tokensep_core.plugins import load_registry
from tokensep_core.training import TrainingTask
from tokensep_core.training.spec import TrainingTaskSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--times", type=int, default=1)


def run(args: argparse.Namespace) -> int:
    codecs = load_registry().names("codec")
    print(" ".join([f"hello {args.name}"] * args.times) + f"; {len(codecs)} codecs: {','.join(codecs)}")
    return 3 if args.name == "nobody" else 0


class Toy(TrainingTask):
    def __init__(self) -> None:
        self.weight = nn.Linear(2, 1)

    def modules(self):
        return {"model": self.weight}

    def optimizer_groups(self):
        return {"model": list(self.weight.parameters())}

    def losses(self, group, batch, state):
        return {"mse": (self.weight(batch[:, :2]).squeeze(-1) - batch[:, 2]).pow(2).mean()}


def build(sections, source):
    torch.manual_seed(0)
    return Toy(), torch.randn(32, 3)


@hookimpl
def tokensep_register_commands(commands):
    commands.add(Command("hello", "greet NAME, counting the registered codecs", add_arguments, run))


@hookimpl
def tokensep_register_training_tasks(tasks):
    tasks.add(TrainingTaskSpec("toy", "train the toy regression of tokensep-hello", build))
'''

PYPROJECT = """
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "tokensep-hello"
version = "0.3.0"

[project.entry-points.tokensep]
hello = "tokensep_hello"
"""


@pytest.fixture(scope="module")
def hello_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a pip install of the toy plugin tokensep-hello."""
    source = tmp_path_factory.mktemp("tokensep-hello")
    (source / "pyproject.toml").write_text(PYPROJECT)
    (source / "tokensep_hello").mkdir()
    (source / "tokensep_hello" / "__init__.py").write_text(HELLO_PLUGIN)
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture
def hello_installed(hello_site: Path, monkeypatch: pytest.MonkeyPatch):
    """The toy plugin importable and discoverable in this process."""
    monkeypatch.syspath_prepend(str(hello_site))
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    yield
    sys.modules.pop("tokensep_hello", None)


def tokensep(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != AUTOLOAD_ENV}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "tokensep_core.cli.main", *args], env=env, capture_output=True, text=True)


def test_a_plugin_command_runs_end_to_end(hello_site: Path) -> None:
    codecs = load_plugins().registry.names("codec")
    result = tokensep(hello_site, "hello", "world", "--times", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == f"hello world hello world; {len(codecs)} codecs: {','.join(codecs)}"


def test_a_plugin_command_is_listed_after_the_builtin_ones(hello_installed, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["hello", "nobody"]) == 3, "the command's exit code is tokensep's"
    assert capsys.readouterr().out.startswith("hello nobody; ")
    with pytest.raises(SystemExit):
        main(["--help"])
    listing = capsys.readouterr().out
    assert "greet NAME, counting the registered codecs" in listing
    assert listing.index("bench") < listing.index("tokenize") < listing.index("hello"), "built-in commands first, then plugins'"


def test_without_the_plugin_the_command_is_unknown(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    with pytest.raises(SystemExit) as exit_info:
        main(["hello", "world"])
    assert exit_info.value.code == 2 and "invalid choice: 'hello'" in capsys.readouterr().err


def test_a_plugin_training_task_is_a_train_command(hello_site: Path, hello_installed, tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "train the toy regression of tokensep-hello" in capsys.readouterr().out
    config = tmp_path / "toy.yaml"
    config.write_text("trainer: {steps: 2, batch_size: 4, checkpoint_every: 0, device: cpu}\n")
    result = tokensep(hello_site, "train", "toy", str(config), "--run-dir", str(tmp_path / "run"))
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == f"step 2: checkpoint {tmp_path / 'run' / 'checkpoints' / 'step_00000002'}"
    assert (tmp_path / "run" / "checkpoints" / "step_00000002" / "model.safetensors").is_file()


RAISES_IN_COMMANDS = """
from tokensep_core.commands import Command
from tokensep_core.hookspecs import hookimpl
from tokensep_codecs.debug import DebugCodec

class Fine(DebugCodec):
    '''A codec that registers fine.'''

@hookimpl
def tokensep_register_components(registry):
    registry.add("codec", "tsfake_fine", Fine)

@hookimpl
def tokensep_register_commands(commands):
    commands.add(Command("half", "registered before the failure", lambda parser: None, lambda args: 0))
    raise RuntimeError("no commands today")
"""

CLASHES = """
from tokensep_core.commands import Command
from tokensep_core.hookspecs import hookimpl

@hookimpl
def tokensep_register_commands(commands):
    commands.add(Command("solo", "a command of its own", lambda parser: None, lambda args: 0))
    commands.add(Command("codec", "clashes with tokensep's 'eval codec'", lambda parser: None, lambda args: 0, parent="eval"))
"""

ORPHAN = """
from tokensep_core.commands import Command
from tokensep_core.hookspecs import hookimpl

@hookimpl
def tokensep_register_commands(commands):
    commands.add(Command("thing", "under a group nobody registered", lambda parser: None, lambda args: 0, parent="nogroup"))
"""

GOOD = """
from tokensep_core.commands import Command
from tokensep_core.hookspecs import hookimpl

@hookimpl
def tokensep_register_commands(commands):
    commands.add(Command("wave", "waves", lambda parser: parser.add_argument("--hand"), lambda args: 7, parent="data"))
"""


def test_command_registration_failures_are_reported_and_the_rest_works(site: Path, fake_distribution) -> None:
    fake_distribution(site, "tscmd-raises", "tscmd_raises", RAISES_IN_COMMANDS)
    fake_distribution(site, "tscmd-clash", "tscmd_clash", CLASHES)
    fake_distribution(site, "tscmd-orphan", "tscmd_orphan", ORPHAN)
    fake_distribution(site, "tscmd-good", "tscmd_good", GOOD)
    loaded = load_plugins()
    failures = {f.distribution: f.reason for f in loaded.failures}
    assert failures["tscmd-raises"] == "command registration failed: RuntimeError: no commands today"
    holder = loaded.commands.provider("eval codec")
    assert str(holder).startswith("tokensep ")
    assert failures["tscmd-clash"] == (
        f"name clash: command 'eval codec' is provided by {holder}; the same name from tscmd-clash 1.0 is refused"
    )
    assert failures["tscmd-orphan"].startswith("command refused: tscmd-orphan: command 'nogroup thing': no command group")
    keys = {command.key for command in loaded.commands}
    assert "half" not in keys, "a hook that raised keeps nothing"
    assert "solo" in keys, "a clash refuses only the clashing name; the rest of the plugin stays"
    assert "tsfake_fine" in loaded.registry.names("codec"), "its components still load"
    parser = build_parser(registered_commands(loaded))
    args = parser.parse_args(["data", "wave", "--hand", "left"])
    assert args.func(args) == 7 and args.hand == "left"
    args = parser.parse_args(["eval", "codec", "untrained", "--codec-spec", "{}"])
    assert args.func.__module__ == "tokensep_codecs.eval_cmd", "the clashing command did not replace the first"


TWIN = """
from tokensep_core.commands import Command
from tokensep_core.hookspecs import hookimpl

@hookimpl
def tokensep_register_commands(commands):
    commands.add(Command("twin", "claimed by two plugins", lambda parser: None, lambda args: 0))
    commands.add(Command("{own}", "this plugin's own", lambda parser: None, lambda args: 0))
"""


@pytest.mark.parametrize("names", [("tscmd-aaa", "tscmd-zzz"), ("tscmd-zzz", "tscmd-aaa")])
def test_a_command_two_plugins_claim_is_refused_for_both_whatever_their_names(site: Path, fake_distribution, names) -> None:
    """The clash rule of components holds for commands: neither plugin gets the name, both keep the
    rest, and the outcome does not depend on which entry point sorts first."""
    first, second = names
    fake_distribution(site, first, first.replace("-", "_"), TWIN.replace("{own}", "own_" + first[-3:]))
    fake_distribution(site, second, second.replace("-", "_"), TWIN.replace("{own}", "own_" + second[-3:]))
    loaded = load_plugins()
    keys = {command.key for command in loaded.commands}
    assert "twin" not in keys and {"own_aaa", "own_zzz"} <= keys
    reasons = {f.distribution: f.reason for f in loaded.failures if f.distribution.startswith("tscmd-")}
    expected = "name clash: command 'twin' is registered by tscmd-aaa 1.0 and tscmd-zzz 1.0; refused for all of them"
    assert reasons == {"tscmd-aaa": expected, "tscmd-zzz": expected}
