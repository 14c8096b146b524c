"""Ids of the special tokens that follow the code ids in an LM's input vocabulary."""

from __future__ import annotations

from dataclasses import dataclass

from tokensep_core.errors import ConfigError


@dataclass(frozen=True)
class SpecialTokens:
    """``code_vocab + 0`` is padding; ``code_vocab + 1 + j`` starts stem ``stems[j]``.

    ``code_vocab`` is the pattern's number of code ids per stream (the LM's ``codebook_size``).
    """

    code_vocab: int
    stems: tuple[str, ...]

    @property
    def pad(self) -> int:
        return self.code_vocab

    def start(self, stem: str) -> int:
        """Id of the token that starts ``stem``'s steps."""
        if stem not in self.stems:
            raise ConfigError(f"unknown stem {stem!r}; known stems: {', '.join(self.stems)}")
        return self.code_vocab + 1 + self.stems.index(stem)

    def start_ids(self) -> dict[str, int]:
        """``{stem: start id}`` for every stem."""
        return {stem: self.start(stem) for stem in self.stems}

    @property
    def count(self) -> int:
        """Number of special ids."""
        return 1 + len(self.stems)

    @property
    def vocab_size(self) -> int:
        """Codes plus special ids: the smallest input vocabulary an LM needs."""
        return self.code_vocab + self.count
