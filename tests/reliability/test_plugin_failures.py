"""Broken plugins are reported by distribution name and take nothing else down.

tests/core/test_plugins.py covers a plugin that raises on import, registers a duplicate name,
or raises inside its hook. Here: components that violate their interface (refused at
registration where the contract check can see it, otherwise when built), and what
``tokensep plugins`` and the rest of tokensep do meanwhile.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tokensep_core.cli.main import main
from tokensep_core.errors import RegistryError
from tokensep_core.plugins import load_plugins

NOT_A_CODEC = """
from tokensep_core.config import ComponentConfig
from tokensep_core.hookspecs import hookimpl

class Almost:
    '''Has encode/decode but does not implement the Codec interface.'''
    class Config(ComponentConfig):
        pass
    def encode(self, wav): return wav
    def decode(self, codes): return codes

@hookimpl
def tokensep_register_components(registry):
    registry.add("codec", "almost", Almost)
"""

FACTORIES = """
from tokensep_core.config import ComponentConfig
from tokensep_core.hookspecs import hookimpl
from tokensep_codecs.debug import DebugCodec, DebugCodecConfig

class Empty(ComponentConfig):
    pass

def make_string(config):
    '''A factory function: registration cannot see what it builds.'''
    return "not a codec"
make_string.Config = Empty

class Forgetful(DebugCodec):
    '''A Codec subclass that never sets the attributes the interface declares.'''
    def __init__(self, config):
        super().__init__(config)
        del self.sample_rate, self.frame_rate

def make_good(config):
    return DebugCodec(config)
make_good.Config = DebugCodecConfig

@hookimpl
def tokensep_register_components(registry):
    registry.add("codec", "string_factory", make_string)
    registry.add("codec", "forgetful", Forgetful)
    registry.add("codec", "function_factory", make_good)
"""

IMPORT_FAILS = "import tokensep_this_module_does_not_exist\n"


def test_a_class_that_is_not_a_codec_is_refused_at_registration(site: Path, fake_distribution) -> None:
    fake_distribution(site, "tsrel-almost", "tsrel_almost", NOT_A_CODEC, "2.0")
    loaded = load_plugins()
    failures = {f.distribution: f.reason for f in loaded.failures}
    assert "tsrel-almost" in failures and "Almost does not implement Codec" in failures["tsrel-almost"]
    assert "almost" not in loaded.registry.names("codec")
    assert loaded.registry.build("codec", "debug").sample_rate == 16000, "the core keeps working"


def test_built_objects_that_violate_the_interface_are_refused_naming_the_distribution(site: Path, fake_distribution) -> None:
    fake_distribution(site, "tsrel-factories", "tsrel_factories", FACTORIES, "2.0")
    fake_distribution(site, "tsrel-broken", "tsrel_broken", IMPORT_FAILS, "2.0")
    loaded = load_plugins()
    assert [f.distribution for f in loaded.failures] == ["tsrel-broken"]
    registry = loaded.registry
    with pytest.raises(RegistryError, match=r"^tsrel-factories: codec 'string_factory': built a str, which does not implement Codec$"):
        registry.build("codec", "string_factory")
    with pytest.raises(
        RegistryError,
        match=r"^tsrel-factories: codec 'forgetful': built Forgetful without the Codec attribute\(s\) sample_rate, frame_rate$",
    ):
        registry.build("codec", "forgetful")
    codec = registry.build("codec", "function_factory")  # a well-behaved factory function passes
    assert codec.encode(torch.zeros(1, 1, 640)).shape[:2] == (1, codec.num_codebooks)
    assert registry.get("codec", "function_factory").provider.name == "tsrel-factories"


def test_plugins_command_lists_failures_by_distribution_and_exits_zero(
    site: Path, fake_distribution, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_distribution(site, "tsrel-broken2", "tsrel_broken2", IMPORT_FAILS, "2.0")
    fake_distribution(site, "tsrel-almost2", "tsrel_almost2", NOT_A_CODEC, "2.0")
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    failed = out[out.index("failed plugins:") :].splitlines()[1:]
    assert any(line.strip().startswith("tsrel-broken2: import of 'tsrel_broken2' failed: ModuleNotFoundError") for line in failed)
    assert any(line.strip().startswith("tsrel-almost2: registration failed") for line in failed)
    assert "debug" in out and "llama" in out, "built-in components are still listed"


CLASHES_WITH_BUILTIN = """
from tokensep_core.hookspecs import hookimpl
from tokensep_codecs.debug import DebugCodec

@hookimpl
def tokensep_register_components(registry):
    registry.add("codec", "debug", DebugCodec)
"""


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        (IMPORT_FAILS, "import of 'tsrel_strict' failed: ModuleNotFoundError"),
        (NOT_A_CODEC, "registration failed: RegistryError: tsrel-strict: codec 'almost': Almost does not implement Codec"),
        (CLASHES_WITH_BUILTIN, "name clash: codec 'debug' is provided by tokensep"),
    ],
)
def test_strict_plugins_command_exits_1_on_any_failure(
    site: Path, fake_distribution, capsys: pytest.CaptureFixture[str], source: str, reason: str
) -> None:
    assert main(["plugins", "--strict"]) == 0, "no failure: --strict exits 0"
    capsys.readouterr()
    fake_distribution(site, "tsrel-strict", "tsrel_strict", source, "2.0")
    assert main(["plugins"]) == 0, "without --strict failures are listed, the exit status stays 0"
    assert main(["plugins", "--strict"]) == 1
    captured = capsys.readouterr()
    failed = captured.out[captured.out.rindex("failed plugins:") :].splitlines()[1:]
    assert [line.strip() for line in failed if line.strip().startswith("tsrel-strict: ")][0].startswith(f"tsrel-strict: {reason}")
    assert captured.err.strip() == "tokensep: error: 1 plugin failure (--strict)"
