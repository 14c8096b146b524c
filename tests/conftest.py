"""Shared fixtures: the repository root, the shared data folder beside it, a tiny separator
trained for a few steps on synthetic songs, and :func:`load_script` for the scripts under
benchmarks/."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from tokensep_core.separation.training import build_separator_training
from tokensep_core.training import TrainerConfig, train

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
REAL_TRACK = SHARED_DATA / "real" / "The Easton Ellises - Falcon 69"


def load_script(relative: str, name: str | None = None) -> ModuleType:
    """A script of the repository (e.g. ``benchmarks/speed.py``, not a package module) imported as
    the module ``name`` (default: ``script_`` and its file's stem), registered in ``sys.modules``."""
    path = REPO_ROOT / relative
    spec = importlib.util.spec_from_file_location(name or f"script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_track() -> Path:
    """The real MUSDB18 excerpt shipped in ../shared/data (skip when it is absent)."""
    if not (REAL_TRACK / "mixture.wav").exists():
        pytest.skip(f"real track not found at {REAL_TRACK}")
    return REAL_TRACK


TINY_SECTIONS = {
    "model": {
        "codec": {"name": "debug"},
        "encoder": {"name": "debug"},
        "lm": {"name": "llama", "params": {"preset": "tiny"}},
    },
    "data": {"name": "synthetic", "params": {"songs": 4, "seconds": 2.0, "sample_rate": 16000, "seed": 3}},
    "augment": {"seconds": 0.5, "examples_per_epoch": 32},
    "inference": {"segment_seconds": 0.5, "batch_size": 8},
}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[float]]:
    """(run directory, logged losses) of 12 training steps."""
    run_dir = tmp_path_factory.mktemp("separator_run")
    task, examples = build_separator_training(dict(TINY_SECTIONS), "tiny.yaml")
    config = TrainerConfig(steps=12, batch_size=4, lr=3e-3, warmup_steps=1, checkpoint_every=0, log_every=1)
    train(task, config, run_dir, examples)
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    column = lines[0].split(",").index("model/ce")
    return run_dir, [float(line.split(",")[column]) for line in lines[1:]]


@pytest.fixture
def example_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """plugins/tokensep-example discoverable in this process through its real entry point (a
    dist-info on sys.path), without installing it into the environment; -> its distribution name."""
    source = REPO_ROOT / "plugins" / "tokensep-example"
    info = tmp_path / "tokensep_example-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tokensep-example\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[tokensep]\nexample = tokensep_example.plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(source))
    monkeypatch.delenv("TOKENSEP_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    return "tokensep-example"


def install_fake_distribution(site: Path, dist: str, module: str, source: str, version: str = "1.0") -> None:
    """Write ``module.py`` and a ``dist-info`` declaring it as a ``tokensep`` entry point into ``site``."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[tokensep]\n{module} = {module}\n")


@pytest.fixture
def fake_distribution() -> Callable[..., None]:
    """``fake_distribution(site, dist, module, source, version="1.0")``: a fake installed plugin."""
    return install_fake_distribution


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A site folder on sys.path for fake plugin distributions (see ``fake_distribution``), with
    entry-point autoloading on; the modules imported from it are forgotten afterwards."""
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("TOKENSEP_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    yield tmp_path
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]
