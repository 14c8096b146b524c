"""Who registered what: a :class:`Provider` (a distribution and its version) and the
:class:`Clash` of a name claimed twice. No torch import: the command table uses them too."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    """Who registered a component: a distribution (or built-in package) and its version."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class Clash:
    """A name claimed under one kind by several providers, or by one while ``holder`` has it."""

    kind: str
    name: str
    claimants: tuple[Provider, ...]
    """The providers whose claim was refused, sorted by name."""
    holder: Provider | None = None
    """Who keeps the name (a built-in registered first); None: nobody does."""

    def __str__(self) -> str:
        if self.holder is not None:
            return f"{self.kind} {self.name!r} is provided by {self.holder}; the same name from {_joined(self.claimants)} is refused"
        return f"{self.kind} {self.name!r} is registered by {_joined(self.claimants)}; refused for all of them"


def _joined(providers: tuple[Provider, ...]) -> str:
    """``a 1.0 and b 2.0`` / ``a 1.0, b 2.0 and c 3.0``."""
    names = [str(p) for p in providers]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
