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

@hookimpl
def tokensep_register_components(registry):
    raise RuntimeError("boom")
"""


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A site directory on sys.path holding fake plugin distributions."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    yield tmp_path
    for name in list(sys.modules):
        if name.startswith("tsfake_"):
            del sys.modules[name]


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
    assert "registered twice" in failures["tsfake-dup"] and "tokensep" in failures["tsfake-dup"]
    assert "boom" in failures["tsfake-hook"]
    assert loaded.registry.get("codec", "good").provider.name == "tsfake-good"
    assert loaded.registry.get("codec", "debug").provider.name == "tokensep"
    assert "dup_first" not in loaded.registry.names("codec"), "a failed registration must be rolled back"


def test_autoload_can_be_disabled_by_environment(site: Path, fake_distribution, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_distribution(site, "tsfake-good2", "tsfake_good2", GOOD)
    assert "good" in load_plugins().registry.names("codec")
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    loaded = load_plugins()
    assert "good" not in loaded.registry.names("codec")
    assert "debug" in loaded.registry.names("codec")
