"""tokensep core: interfaces, registry, plugins, configuration and the orchestration around them."""

import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _source_tree_version() -> str:
    """The ``version`` of the pyproject.toml beside the package (a checkout run without installing
    it, as on a lent GPU machine); ``0.0.0+unknown`` when there is none."""
    try:
        text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    except OSError:
        return "0.0.0+unknown"
    found = re.search(r'^version\s*=\s*"([^"]+)"', text, flags=re.MULTILINE)
    return found.group(1) if found else "0.0.0+unknown"


try:
    __version__ = version("tokensep")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = _source_tree_version()

STEMS: tuple[str, ...] = ("vocals", "drums", "bass", "other")
"""The four stems of the MUSDB18 convention, in tokensep's default generation order."""
