"""Pairing of two rows' scores in a comparison: by song and by seed where both rows depend on
the seed, and every seed of one row against a row whose output does not depend on it."""

import pytest

from tokensep_core.bench.summary import RowSummary, compare, seed_pairs


def _row(name: str, cells: dict, status: str = "ok") -> RowSummary:
    """A finished row with si_sdr scores ``{seed: {song: value}}`` on vocals."""
    row = RowSummary(name, "generative", status, None, {})
    row.seeds = list(cells)
    row.songs = list(dict.fromkeys(song for by_song in cells.values() for song in by_song))
    row.scores = {"si_sdr": {"vocals": cells}}
    return row


def test_seeds_pair_with_the_same_seed_or_with_every_seed() -> None:
    seeded, other, fixed = _row("a", {0: {}, 1: {}, 2: {}}), _row("b", {1: {}, 2: {}, 3: {}}), _row("c", {None: {}})
    assert seed_pairs(seeded, other) == [(1, 1), (2, 2)]
    assert seed_pairs(seeded, fixed) == [(0, None), (1, None), (2, None)]
    assert seed_pairs(fixed, seeded) == [(None, 0), (None, 1), (None, 2)]
    assert seed_pairs(fixed, fixed) == [(None, None)]


def test_a_seed_independent_row_is_paired_with_every_seed() -> None:
    trained = _row("trained", {0: {"s1": 2.0, "s2": 5.0}, 1: {"s1": 4.0, "s2": 3.0, "s3": 9.0}})
    floor = _row("floor", {None: {"s1": 3.0, "s2": 3.0}})
    [difference] = compare(trained, floor, {"si_sdr": True}).differences["si_sdr"].values()
    # songs both rows have (s1, s2), both seeds: differences -1, 2, 1, 0
    assert (difference.value, difference.wins, difference.pairs) == (pytest.approx(0.5), 2, 4)


def test_a_comparison_with_a_failed_row_says_so() -> None:
    comparison = compare(_row("a", {0: {"s1": 1.0}}), _row("b", {}, status="failed"), {})
    assert comparison.error == "not computed: row b has no result" and comparison.differences == {}
