"""Tables that plugins fill through a hook (commands, training tasks, trainable baselines): each
entry keyed by name, in registration order, with the provider that registered it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, Protocol, TypeVar

from tokensep_core.errors import RegistryError
from tokensep_core.registry import Provider


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

    def snapshot(self) -> frozenset[str]:
        """The keys registered so far (see :meth:`rollback`)."""
        return frozenset(self._entries)

    def rollback(self, snapshot: frozenset[str]) -> None:
        """Drop everything registered after ``snapshot`` (a registration that failed midway)."""
        for key in set(self._entries) - snapshot:
            del self._entries[key], self._providers[key]

    def for_provider(self, provider: Provider) -> ProviderTable[T]:
        """A view whose ``add`` records ``provider``: what a plugin's hook receives."""
        return ProviderTable(self, provider)


class ProviderTable(Generic[T]):
    """A table as one provider sees it while registering: ``add(entry)``."""

    def __init__(self, table: Table[T], provider: Provider) -> None:
        self.table = table
        self.provider = provider

    def add(self, entry: T) -> None:
        self.table.add(entry, self.provider)
