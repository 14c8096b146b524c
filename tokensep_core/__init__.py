"""tokensep core: interfaces, registry, plugins, configuration and the orchestration around them."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tokensep")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

STEMS: tuple[str, ...] = ("vocals", "drums", "bass", "other")
"""The four stems of the MUSDB18 convention, in tokensep's default generation order."""
