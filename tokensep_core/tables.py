"""Tables that plugins fill through a hook (commands, training tasks, trainable baselines): each
entry keyed by name, in registration order, with the provider that registered it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from tokensep_core.errors import RegistryError
from tokensep_core.providers import Clash, Provider


class Keyed(Protocol):
    @property
    def key(self) -> str: ...


T = TypeVar("T", bound=Keyed)


class Table(Generic[T]):
    """Entries of one sort (``what``: "command", "training task", …) by their ``key``."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, T] = {}
        self._providers: dict[str, Provider] = {}

    def add(self, entry: T, provider: Provider) -> None:
        """Add ``entry``; a key registered before is refused naming both providers."""
        key = entry.key
        if key in self._entries:
            raise RegistryError(f"{self.what} {key!r} registered twice: by {self._providers[key]} and by {provider}")
        self._entries[key] = entry
        self._providers[key] = provider

    def get(self, key: str) -> T | None:
        return self._entries.get(key)

    def provider(self, key: str) -> Provider:
        return self._providers[key]

    def __contains__(self, key: str) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[T]:
        """Entries in registration order."""
        return iter(list(self._entries.values()))

    def settle_order(self, entry: T) -> int:
        """Entries with a lower value are added first when claims are settled (e.g. command groups
        before their sub-commands)."""
        return 0

    def settle(self, claims: list[tuple[T, Provider]]) -> list[tuple[Provider, str]]:
        """Add claimed entries by the clash rule the component registry follows: a key held already
        (a built-in, settled first) stays with its holder, and a key that several providers claim is
        refused for all of them; the rest of each provider's entries are added. An entry the table
        itself refuses (:meth:`add` raises) is refused alone. -> (provider, reason) per refusal."""
        by_key: dict[str, list[tuple[T, Provider]]] = {}
        for entry, provider in claims:
            by_key.setdefault(entry.key, []).append((entry, provider))
        refused: list[tuple[Provider, str]] = []
        accepted: list[tuple[T, Provider]] = []
        for key, claimed in by_key.items():
            if key not in self._entries and len(claimed) == 1:
                accepted.append(claimed[0])
                continue
            claimants = tuple(sorted({p for _, p in claimed}, key=lambda p: (p.name, p.version)))
            holder = self._providers.get(key)
            clash = Clash(self.what, key, claimants, holder)
            refused += [(provider, f"name clash: {clash}") for provider in claimants]
        for entry, provider in sorted(accepted, key=lambda item: self.settle_order(item[0])):
            try:
                self.add(entry, provider)
            except RegistryError as err:
                refused.append((provider, f"{self.what} refused: {err}"))
        return refused

    def for_provider(self, provider: Provider) -> ProviderTable[T]:
        """A view that collects ``provider``'s claims: what a plugin's hook receives."""
        return ProviderTable(self, provider)


class ProviderTable(Generic[T]):
    """A table as one provider sees it while registering: ``add(entry)`` claims ``entry``; the
    claims are settled with every other plugin's (:meth:`Table.settle`) once all have registered."""

    def __init__(self, table: Table[T], provider: Provider) -> None:
        self.table = table
        self.provider = provider
        self.claims: list[tuple[T, Provider]] = []

    def add(self, entry: T) -> None:
        if any(claimed.key == entry.key for claimed, _ in self.claims):
            raise RegistryError(f"{self.provider.name}: {self.table.what} {entry.key!r} registered twice by the same plugin")
        self.claims.append((entry, self.provider))
