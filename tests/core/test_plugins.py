import sys
from pathlib import Path

import pytest

from tokensep_core.plugins import AUTOLOAD_ENV, load_plugins

GOOD = """
from tokensep_core.hookspecs import hookimpl
from tokensep_codecs.debug import DebugCodec

class GoodCodec(DebugCodec):
    '''A codec from a well-behaved plugin.'''

@hookimpl
def tokensep_register_components(registry):
    registry.add("codec", "good", GoodCodec)
"""

RAISES_ON_IMPORT = """
raise ImportError("needs libfoo, which is not installed")
"""

DUPLICATE = """
from tokensep_core.hookspecs import hookimpl
from tokensep_codecs.debug import DebugCodec

class Other(DebugCodec):
    '''Another codec.'''

@hookimpl
def tokensep_register_components(registry):
    registry.add("codec", "dup_first", Other)
    registry.add("codec", "debug", Other)  # clashes with the built-in
"""

RAISES_IN_HOOK = """
from tokensep_core.hookspecs import hookimpl

from tokensep_codecs.debug import DebugCodec

class Partial(DebugCodec):
    '''Registered before the hook fails.'''

@hookimpl
def tokensep_register_components(registry):
    registry.add("codec", "partial", Partial)
    raise RuntimeError("boom")
"""

CLASH = """
from tokensep_core.hookspecs import hookimpl
from tokensep_codecs.debug import DebugCodec
from tokensep_encoders.debug import DebugEncoder

class Codec_TAG(DebugCodec):
    '''A codec of plugin TAG.'''

class Encoder_TAG(DebugEncoder):
    '''An encoder of plugin TAG.'''

@hookimpl
def tokensep_register_components(registry):
    registry.add("codec", "shared", Codec_TAG)  # the other plugin registers this name too
    registry.add("encoder", "shared", Encoder_TAG)  # and this one, under another kind
    registry.add("codec", "own_TAG", Codec_TAG)
    registry.add("codec", "debug", Codec_TAG)  # a built-in's name
"""


def test_builtin_components_are_registered_by_tokensep() -> None:
    registry = load_plugins(autoload=False).registry
    for kind in ("codec", "encoder", "lm"):
        assert registry.get(kind, "debug").provider.name == "tokensep"


def test_broken_plugins_are_reported_and_the_rest_load(site: Path, fake_distribution) -> None:
    fake_distribution(site, "tsfake-good", "tsfake_good", GOOD)
    fake_distribution(site, "tsfake-broken", "tsfake_broken", RAISES_ON_IMPORT)
    fake_distribution(site, "tsfake-dup", "tsfake_dup", DUPLICATE)
    fake_distribution(site, "tsfake-hook", "tsfake_hook", RAISES_IN_HOOK)
    loaded = load_plugins()
    failures = {f.distribution: f.reason for f in loaded.failures}
    assert "needs libfoo" in failures["tsfake-broken"]
    builtin = f"tokensep {loaded.providers['tokensep_codecs.plugin'].version}"
    assert failures["tsfake-dup"] == f"name clash: codec 'debug' is provided by {builtin}; the same name from tsfake-dup 1.0 is refused"
    assert "boom" in failures["tsfake-hook"]
    assert loaded.registry.get("codec", "good").provider.name == "tsfake-good"
    assert loaded.registry.get("codec", "debug").provider.name == "tokensep", "a built-in keeps its name"
    assert loaded.registry.get("codec", "dup_first").provider.name == "tsfake-dup", "the rest of a clashing plugin stays"
    assert "partial" not in loaded.registry.names("codec"), "a hook that raises registers nothing"


def _clash_outcome(site: Path, fake_distribution, module_a: str, module_b: str) -> tuple[dict, list]:
    """``{(kind, name): provider}`` and the failures, with plugins a and b installed as entry points
    named ``module_a`` and ``module_b`` (the order plugins load in follows these names)."""
    site.mkdir()
    fake_distribution(site, "tsfake-a", module_a, CLASH.replace("TAG", "a"))
    fake_distribution(site, "tsfake-b", module_b, CLASH.replace("TAG", "b"))
    sys.path.insert(0, str(site))
    try:
        loaded = load_plugins()
    finally:
        sys.path.remove(str(site))
    registry = {(e.kind, e.name): e.provider.name for e in loaded.registry.entries() if e.name in ("debug", "shared", "own_a", "own_b")}
    return registry, [(f.distribution, f.reason) for f in loaded.failures]


def test_a_name_two_plugins_register_is_refused_for_both_whatever_the_load_order(site: Path, fake_distribution) -> None:
    a_first = _clash_outcome(site / "a_first", fake_distribution, "tsfake_clash1", "tsfake_clash2")
    b_first = _clash_outcome(site / "b_first", fake_distribution, "tsfake_clash4", "tsfake_clash3")
    assert a_first == b_first
    registry, failures = a_first
    assert registry == {
        ("codec", "debug"): "tokensep",
        ("codec", "own_a"): "tsfake-a",
        ("codec", "own_b"): "tsfake-b",
        ("encoder", "debug"): "tokensep",
        ("lm", "debug"): "tokensep",
    }
    builtin = f"tokensep {load_plugins(autoload=False).providers['tokensep_codecs.plugin'].version}"
    held = f"name clash: codec 'debug' is provided by {builtin}; the same name from tsfake-a 1.0 and tsfake-b 1.0 is refused"
    shared = "is registered by tsfake-a 1.0 and tsfake-b 1.0; refused for all of them"
    assert failures == [
        ("tsfake-a", held),
        ("tsfake-a", f"name clash: codec 'shared' {shared}"),
        ("tsfake-a", f"name clash: encoder 'shared' {shared}"),
        ("tsfake-b", held),
        ("tsfake-b", f"name clash: codec 'shared' {shared}"),
        ("tsfake-b", f"name clash: encoder 'shared' {shared}"),
    ]


def test_autoload_can_be_disabled_by_environment(site: Path, fake_distribution, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distribution(site, "tsfake-good2", "tsfake_good2", GOOD)
    assert "good" in load_plugins().registry.names("codec")
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    loaded = load_plugins()
    assert "good" not in loaded.registry.names("codec")
    assert "debug" in loaded.registry.names("codec")
