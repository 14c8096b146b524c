"""Named separator models: ``tokensep separate -n NAME`` (and :func:`resolve_model`) take a name as
well as a checkpoint directory.

The models shipped in the repository's ``pretrained/`` folder are registered by name (the folder
name); a plugin registers more with the hook ``tokensep_register_models``, e.g. a model whose
checkpoint directory comes from its own configuration or an environment variable, or a model that
is not a generative checkpoint at all (``build(device)`` gives any
:class:`~tokensep_core.interfaces.Separator`, e.g. a plugin's htdemucs teacher).
No torch is imported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tokensep_core.errors import ConfigError
from tokensep_core.tables import Table

if TYPE_CHECKING:
    from tokensep_core.interfaces import Separator

PRETRAINED = Path(__file__).resolve().parents[2] / "pretrained"
"""The shipped models: ``pretrained/`` beside the ``tokensep_core`` package."""
DEFAULT_MODEL = "separator-small"
"""The model ``tokensep separate`` uses without ``-n``."""


@dataclass(frozen=True)
class NamedModel:
    """A separator known by ``name``: either a generative separator checkpoint, whose directory
    ``checkpoint()`` gives, or any :class:`Separator` that ``build(device)`` makes. Either may read
    a config file or the environment, and raise a one-line ConfigError when unset. Exactly one of
    the two is given."""

    name: str
    help: str
    checkpoint: Callable[[], Path] | None = None
    build: Callable[[str], Separator] | None = None

    def __post_init__(self) -> None:
        if (self.checkpoint is None) == (self.build is None):
            raise ConfigError(f"model {self.name!r}: give exactly one of checkpoint and build")

    @property
    def key(self) -> str:
        return self.name


def shipped_models(folder: Path = PRETRAINED) -> list[NamedModel]:
    """One model per checkpoint folder (a folder holding ``config.json``) in ``folder``, sorted."""
    if not folder.is_dir():
        return []
    found = sorted(p for p in folder.iterdir() if (p / "config.json").is_file())
    return [NamedModel(p.name, f"shipped in {folder.name}/", lambda p=p: p) for p in found]


def find_model(name: str, models: Table[NamedModel]) -> NamedModel:
    """``name``: an existing checkpoint directory (-> a NamedModel of it, named after the run or
    folder), or a registered model's name. An unknown name is an error listing the known ones."""
    path = Path(name).expanduser()
    if path.exists():
        resolved = path.resolve()
        label = resolved.parent.parent.name if resolved.name.startswith("step_") else resolved.name
        return NamedModel(label, str(path), lambda: path)
    model = models.get(name)
    if model is None:
        known = ", ".join(m.name for m in models) or "none"
        raise ConfigError(f"-n {name!r}: no such model or checkpoint directory; known models: {known}")
    return model


def resolve_model(name: str, models: Table[NamedModel]) -> tuple[Path, str]:
    """``name``: an existing checkpoint directory, or the name of a registered checkpoint model ->
    (checkpoint directory, the name outputs are filed under); see :func:`find_model`. A model
    that is built rather than loaded from a checkpoint is an error."""
    model = find_model(name, models)
    if model.checkpoint is None:
        raise ConfigError(f"-n {name!r}: not a generative separator checkpoint (the model is built by its plugin)")
    return Path(model.checkpoint()), model.name
