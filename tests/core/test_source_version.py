"""The version a source tree reports when tokensep runs from it without being installed (as on a
lent GPU machine), so that exported models record it instead of ``unknown``."""

import tomllib
from pathlib import Path

import tokensep_core
from tokensep_core.plugins import load_registry
from tokensep_core.provenance import component_record

PYPROJECT = Path(tokensep_core.__file__).resolve().parents[1] / "pyproject.toml"


def test_the_source_tree_version_is_pyprojects_and_the_installed_one() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["version"]
    assert tokensep_core._source_tree_version() == declared == tokensep_core.__version__


def test_builtin_components_record_that_version() -> None:
    record = component_record(load_registry(), {"codec": "hcodec", "lm": "llama"})
    assert {entry["version"] for entry in record.values()} == {tokensep_core.__version__}
    assert {entry["provider"] for entry in record.values()} == {"tokensep"}
