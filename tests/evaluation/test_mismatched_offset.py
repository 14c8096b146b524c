"""The offset k of the mismatched-reference control: song i's estimates against song (i+k) mod n's
references, each song once, streaming with the first k and last k songs kept; n <= k is a one-line
ConfigError (k = 1 with fewer than 2 songs: no results, as before)."""

import gc
import json
import weakref

import pytest
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.evaluation import Evaluation, MetricSpec, build_metrics, evaluate, write_evaluation
from tokensep_core.evaluation.controls import MismatchedControl, input_dependence
from tokensep_core.interfaces import Song
from tokensep_core.plugins import load_registry
from tokensep_core.separation.baselines import Oracle

STEMS = ("vocals", "drums", "bass", "other")


def _identity_score(label: str, stem: str, reference: torch.Tensor, estimate: torch.Tensor) -> dict[str, float]:
    """Which tensors were compared: song j's reference holds j, song i's estimate 100 + i."""
    return {"reference": float(reference[0, 0]), "estimate": float(estimate[0, 0])}


def _feed(control: MismatchedControl, n: int) -> None:
    for i in range(n):
        control.add(f"s{i}", {"bass": torch.full((1, 4), float(i))}, {"bass": torch.full((1, 4), 100.0 + i)})
    control.finish()


def _pairs(control: MismatchedControl) -> list[tuple[int, int]]:
    """(song, reference song) of every result, checked against the tensors actually scored."""
    out = []
    for r in control.results:
        i, j = int(r.song[1:]), int(r.reference_song[1:])
        assert r.scores["bass"] == {"reference": float(j), "estimate": 100.0 + i}
        out.append((i, j))
    return out


@pytest.mark.parametrize("n", [2, 3, 5])
def test_offset_1_gives_the_pairs_of_before(n) -> None:
    control = MismatchedControl(_identity_score, seed=7)
    _feed(control, n)
    assert _pairs(control) == [(i, i + 1) for i in range(n - 1)] + [(n - 1, 0)]
    assert {r.seed for r in control.results} == {7}


@pytest.mark.parametrize("n", [0, 1])
def test_offset_1_with_fewer_than_2_songs_gives_no_results(n) -> None:
    control = MismatchedControl(_identity_score)
    _feed(control, n)
    assert control.results == [] and input_dependence([control]) == {}


def test_offset_3_with_12_songs_pairs_each_song_once_with_song_i_plus_3() -> None:
    control = MismatchedControl(_identity_score, offset=3)
    _feed(control, 12)
    assert _pairs(control) == [(i, (i + 3) % 12) for i in range(12)]


@pytest.mark.parametrize(("k", "n"), [(2, 3), (2, 4), (3, 4), (3, 5), (3, 6), (4, 7)])
def test_between_k_plus_1_and_2k_songs_every_song_is_scored_once_against_song_i_plus_k(k, n) -> None:
    """The wrap-around partners of the last k songs are among the first k, which here overlap the
    last k: still each song once, never against itself."""
    control = MismatchedControl(_identity_score, offset=k)
    _feed(control, n)
    assert _pairs(control) == [(i, (i + k) % n) for i in range(n)]


def test_only_the_first_k_and_the_last_k_songs_are_kept() -> None:
    """Streaming: with k = 3 and 12 songs, only songs 0-2 (wrap-around partners) and 9-11 (waiting
    for theirs) are alive before finish; none after."""
    control = MismatchedControl(_identity_score, offset=3)
    alive = []
    for i in range(12):
        reference, estimate = torch.full((1, 4), float(i)), torch.full((1, 4), 100.0 + i)
        alive.append(weakref.ref(reference))
        control.add(f"s{i}", {"bass": reference}, {"bass": estimate})
        del reference, estimate
        gc.collect()
        assert len([r for r in alive if r() is not None]) <= 6
    assert [i for i, r in enumerate(alive) if r() is not None] == [0, 1, 2, 9, 10, 11]
    control.finish()
    gc.collect()
    assert all(r() is None for r in alive) and len(control.results) == 12


@pytest.mark.parametrize(("k", "n"), [(3, 3), (3, 1), (2, 2), (2, 0)])
def test_n_at_most_k_is_a_one_line_config_error(k, n) -> None:
    control = MismatchedControl(_identity_score, offset=k)
    with pytest.raises(ConfigError) as raised:
        _feed(control, n)
    assert str(raised.value) == f"mismatched_offset {k} needs at least {k + 1} songs, got {n}"
    assert control.results == [] and input_dependence([control]) == {}


@pytest.mark.parametrize("offset", [0, -1, 1.5, True])
def test_an_offset_below_1_or_not_whole_is_refused(offset) -> None:
    with pytest.raises(ConfigError, match="mismatched_offset must be a whole number >= 1"):
        MismatchedControl(_identity_score, offset=offset)


def test_input_dependence_is_summed_over_the_offset_pairs() -> None:
    """k = 2, n = 4: pairs (0,2), (1,3), (2,0), (3,1). References 1, 2, 3, 5: D = 2·(4 + 9) / 2·39 =
    1/3; estimates 1, 1, 2, 1: D = 2·(1 + 0) / 2·7 = 1/7; the figure 3/7 (offset 1 would give
    (2/14) / (22/78) = 39/77)."""
    references, estimates = [1.0, 2.0, 3.0, 5.0], [1.0, 1.0, 2.0, 1.0]

    def dependence(offset: int) -> float:
        control = MismatchedControl(_identity_score, offset=offset)
        for i, (r, e) in enumerate(zip(references, estimates)):
            control.add(f"s{i}", {"bass": torch.tensor([[r]])}, {"bass": torch.tensor([[e]])})
        control.finish()
        return input_dependence([control])["bass"]

    assert dependence(2) == pytest.approx(3 / 7)
    assert dependence(1) == pytest.approx(39 / 77)


class _Counting(Oracle):
    """The oracle baseline, counting separations."""

    def __init__(self) -> None:
        super().__init__(Oracle.Config(stems=STEMS))
        self.calls = 0

    def separate_song(self, song: Song) -> dict[str, torch.Tensor]:
        self.calls += 1
        return super().separate_song(song)


@pytest.fixture(scope="module")
def songs() -> list[Song]:
    gen = torch.Generator().manual_seed(1)
    out = []
    for i in range(5):
        stems = {stem: torch.randn(1, 800, generator=gen) for stem in STEMS}
        out.append(Song(f"s{i}", 8000, sum(stems.values()), stems))
    return out


@pytest.fixture(scope="module")
def metrics():
    return build_metrics(load_registry(), [MetricSpec(name="si_sdr")])


def test_evaluate_passes_the_offset_and_records_it(songs, metrics, tmp_path) -> None:
    evaluation = evaluate(_Counting(), songs, metrics, mismatched_offset=3)
    assert [(r.song, r.reference_song) for r in evaluation.mismatched] == [(f"s{i}", f"s{(i + 3) % 5}") for i in range(5)]
    assert evaluation.mismatched_offset == 3
    paths = write_evaluation(evaluation, tmp_path)
    data = json.loads(paths["results.json"].read_text())
    assert data["mismatched_offset"] == 3 and Evaluation.from_dict(data).mismatched_offset == 3
    assert "song i against song i+3 mod n" in paths["summary.md"].read_text()
    del data["mismatched_offset"]  # a result stored before the offset was recorded
    assert Evaluation.from_dict(data).mismatched_offset == 1


def test_evaluate_refuses_an_offset_the_songs_cannot_take_before_separating(songs, metrics) -> None:
    separator = _Counting()
    with pytest.raises(ConfigError, match=r"^mismatched_offset 5 needs at least 6 songs, got 5$"):
        evaluate(separator, songs, metrics, mismatched_offset=5, total=len(songs))
    assert separator.calls == 0
    with pytest.raises(ConfigError, match=r"^mismatched_offset 5 needs at least 6 songs, got 5$"):
        evaluate(separator, iter(songs), metrics, mismatched_offset=5)  # no total: found at the end
    without = evaluate(_Counting(), songs, metrics, mismatched_offset=5, controls=False)
    assert without.mismatched == []
