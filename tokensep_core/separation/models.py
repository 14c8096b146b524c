"""Named separator models: ``tokensep separate -n NAME`` (and :func:`resolve_model`) take a name as
well as a checkpoint directory.

The models shipped in the repository's ``pretrained/`` folder are registered by name (the folder
name); a plugin registers more with the hook ``tokensep_register_models``, e.g. a model whose
checkpoint directory comes from its own configuration or an environment variable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tokensep_core.errors import ConfigError
from tokensep_core.tables import Table

PRETRAINED = Path(__file__).resolve().parents[2] / "pretrained"
"""The shipped models: ``pretrained/`` beside the ``tokensep_core`` package."""
DEFAULT_MODEL = "separator-small"
"""The model ``tokensep separate`` uses without ``-n``."""


@dataclass(frozen=True)
class NamedModel:
    """A generative separator checkpoint known by ``name``; ``checkpoint()`` gives its directory
    (it may read a config file or the environment, and raise a one-line ConfigError when unset)."""

    name: str
    help: str
    checkpoint: Callable[[], Path]

    @property
    def key(self) -> str:
        return self.name


def shipped_models(folder: Path = PRETRAINED) -> list[NamedModel]:
    """One model per checkpoint folder (a folder holding ``config.json``) in ``folder``, sorted."""
    if not folder.is_dir():
        return []
    found = sorted(p for p in folder.iterdir() if (p / "config.json").is_file())
    return [NamedModel(p.name, f"shipped in {folder.name}/", lambda p=p: p) for p in found]


def resolve_model(name: str, models: Table[NamedModel]) -> tuple[Path, str]:
    """``name``: an existing checkpoint directory, or a registered model's name ->
    (checkpoint directory, the name outputs are filed under). An unknown name is an error listing
    the known ones."""
    path = Path(name).expanduser()
    if path.exists():
        resolved = path.resolve()
        label = resolved.parent.parent.name if resolved.name.startswith("step_") else resolved.name
        return path, label
    model = models.get(name)
    if model is None:
        known = ", ".join(m.name for m in models) or "none"
        raise ConfigError(f"-n {name!r}: no such model or checkpoint directory; known models: {known}")
    return Path(model.checkpoint()), model.name
