"""The import graph keeps its layers: library code never imports the CLI, and the core never
names a plugin's module (plugins register themselves through hooks)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "tokensep_core"
LIBRARY_PACKAGES = [CORE, ROOT / "tokensep_codecs", ROOT / "tokensep_encoders", ROOT / "tokensep_lms"] + sorted(
    p for p in (ROOT / "plugins").glob("*/tokensep_*") if p.is_dir()
)
PLUGIN_MODULES = ("tokensep_teachers", "tokensep_transient", "tokensep_example")


def imported_modules(path: Path) -> set[str]:
    """Modules a source file imports (``import a.b``, ``from a.b import c`` gives a.b and a.b.c)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_library_code_never_imports_the_cli() -> None:
    assert len(LIBRARY_PACKAGES) >= 6, LIBRARY_PACKAGES
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            m for m in imported_modules(path) if m == "tokensep_core.cli" or m.startswith("tokensep_core.cli.")
        )
        for package in LIBRARY_PACKAGES
        for path in package.rglob("*.py")
        if CORE / "cli" not in path.parents
    }
    assert {path: modules for path, modules in offenders.items() if modules} == {}


def test_the_cli_check_sees_cli_imports(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import os\nfrom tokensep_core.cli import train_cmd\nfrom tokensep_core.cli.main import main\n")
    assert {"tokensep_core.cli.train_cmd", "tokensep_core.cli.main"} <= imported_modules(source)


def test_core_never_names_a_plugin_module() -> None:
    named = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in CORE.rglob("*.py")
        for name in PLUGIN_MODULES
        if name in path.read_text() or name.replace("_", "-") in path.read_text()
    ]
    assert named == []
