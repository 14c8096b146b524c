"""The controls of a separator evaluation: mismatched-reference scores, input dependence and the
verdict, on separators whose answer is known (constant output, oracle, mixture copy)."""

import json

import pytest
import torch

from tokensep_core.evaluation import Evaluation, MetricSpec, build_metrics, evaluate, write_evaluation
from tokensep_core.evaluation.controls import DOES_NOT_USE, USES, MismatchedControl, by_reference, verdicts
from tokensep_core.interfaces import Separator, Song
from tokensep_core.metrics import SISDR
from tokensep_core.plugins import load_registry

STEMS = ("vocals", "drums", "bass", "other")


class ConstantSeparator(Separator):
    """The same stems (seeded noise) for every mixture: a separator that ignores its input."""

    stems = STEMS

    def separate(self, wav: torch.Tensor, sample_rate: int) -> dict[str, torch.Tensor]:
        gen = torch.Generator().manual_seed(0)
        return {stem: 0.1 * torch.randn(wav.shape, generator=gen) for stem in self.stems}


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def songs(registry) -> list[Song]:
    params = {"songs": 8, "seconds": 1.0, "sample_rate": 8000, "split": "test", "test_fraction": 0.5, "seed": 3}
    dataset = registry.build("dataset", {"name": "synthetic", "params": params})
    return [dataset[i] for i in range(len(dataset))]


@pytest.fixture(scope="module")
def metrics(registry):
    return build_metrics(registry, [MetricSpec(name="si_sdr"), MetricSpec(name="usdr")])


def test_a_separator_that_ignores_its_input_is_flagged(songs, metrics) -> None:
    evaluation = evaluate(ConstantSeparator(), songs, metrics)
    assert len(songs) == 4 and len(evaluation.mismatched) == 4
    for stem, verdict in evaluation.verdicts().items():
        assert verdict.uses_mixture is False and verdict.text.startswith(DOES_NOT_USE), stem
        # the cyclic pairing makes the mean difference of a constant output exactly 0
        assert verdict.differences["si_sdr"].value == pytest.approx(0.0, abs=1e-9)
        assert evaluation.input_dependence[stem] == pytest.approx(0.0, abs=1e-12)


def test_a_constant_output_differs_by_exactly_0_on_every_song(songs, metrics) -> None:
    """Paired by reference song, the matched and mismatched scores of an output that ignores its
    input are the same number for every song, not only on average."""
    evaluation = evaluate(ConstantSeparator(), songs, metrics)
    matched, mismatched = evaluation.song_scores(), evaluation.mismatched_scores()
    assert sorted(mismatched) == sorted(matched)
    for song in matched:
        assert mismatched[song]["bass"]["si_sdr"] == pytest.approx(matched[song]["bass"]["si_sdr"], abs=1e-9)


def test_pairing_by_reference_takes_out_how_hard_each_reference_is() -> None:
    """A score that is mostly the reference's difficulty (its level here) plus a little closeness
    of the estimate: paired by reference the estimate's closeness decides; paired by the estimate's
    song the references' spread swamps it."""
    gen = torch.Generator().manual_seed(5)

    def score(label: str, stem: str, reference: torch.Tensor, estimate: torch.Tensor) -> dict[str, float]:
        return {"s": float(reference.abs().mean() - 0.1 * (estimate - reference).abs().mean())}

    control, matched = MismatchedControl(score), {}
    for i in range(12):
        reference = (0.2 + 3.0 * torch.rand(1, generator=gen)) * torch.randn(1, 400, generator=gen)
        estimate = reference + 0.05 * torch.randn(1, 400, generator=gen)
        matched[f"s{i}"] = {"bass": score("", "bass", reference, estimate)}
        control.add(f"s{i}", {"bass": reference}, {"bass": estimate})
    control.finish()
    paired = verdicts(matched, {song: scores for song, _, scores in by_reference(control.results)}, {"s": True})
    assert paired["bass"].text == USES
    by_estimate = verdicts(matched, {r.song: r.scores for r in control.results}, {"s": True})
    assert by_estimate["bass"].differences["s"].value == pytest.approx(paired["bass"].differences["s"].value)
    assert by_estimate["bass"].text == f"{DOES_NOT_USE} (s)"


def test_the_oracle_uses_the_mixture_and_depends_on_its_input(registry, songs, metrics) -> None:
    evaluation = evaluate(registry.build("separator", "oracle"), songs, metrics)
    verdicts = evaluation.verdicts()
    assert list(verdicts) == list(STEMS)
    for stem, verdict in verdicts.items():
        assert verdict.uses_mixture is True and verdict.text == USES, stem
        assert evaluation.input_dependence[stem] == pytest.approx(1.0)


def test_mixture_copy_beats_the_control_on_si_sdr_but_not_always_on_usdr(registry, songs, metrics) -> None:
    """The mixture contains each song's own stem, so SI-SDR prefers the matched pair on every stem.
    The uSDR of a whole mixture against a stem is set mostly by how loud the mixture is beside
    that stem, so swapping in another song's mixture (louder or quieter) moves it by more than
    containing the stem gains: on these 4 songs its interval reaches below 0 on drums, bass and
    other, and the verdict names uSDR there."""
    evaluation = evaluate(registry.build("separator", "mixture_copy"), songs, metrics)
    verdicts = evaluation.verdicts()
    for stem, verdict in verdicts.items():
        assert verdict.differences["si_sdr"].low > 0 and "si_sdr" not in verdict.failing, stem
        assert 0.5 < evaluation.input_dependence[stem] < 1.5, stem
    assert {stem: v.text for stem, v in verdicts.items()} == {
        "vocals": USES,
        "drums": f"{DOES_NOT_USE} (usdr)",
        "bass": f"{DOES_NOT_USE} (usdr)",
        "other": f"{DOES_NOT_USE} (usdr)",
    }


def test_song_i_is_scored_against_song_i_plus_1_trimmed_to_the_shorter(registry, metrics) -> None:
    gen = torch.Generator().manual_seed(4)
    songs = []
    for i, samples in enumerate((3000, 2000, 2500)):
        stems = {stem: torch.randn(1, samples, generator=gen) for stem in STEMS}
        songs.append(Song(f"s{i}", 8000, sum(stems.values()), stems))
    evaluation = evaluate(registry.build("separator", "oracle"), songs, metrics)
    assert [(r.song, r.reference_song) for r in evaluation.mismatched] == [("s0", "s1"), ("s1", "s2"), ("s2", "s0")]
    sisdr = SISDR(SISDR.Config())
    expected = sisdr(songs[1].stems["bass"][..., :2000], songs[0].stems["bass"][..., :2000], 8000)
    assert evaluation.mismatched[0].scores["bass"]["si_sdr"] == pytest.approx(expected)
    expected = sisdr(songs[0].stems["drums"][..., :2500], songs[2].stems["drums"][..., :2500], 8000)
    assert evaluation.mismatched[2].scores["drums"]["si_sdr"] == pytest.approx(expected)


def test_one_song_says_the_control_is_not_computed(songs, metrics, tmp_path) -> None:
    evaluation = evaluate(ConstantSeparator(), songs[:1], metrics)
    assert evaluation.mismatched == [] and evaluation.input_dependence == {}
    verdict = evaluation.verdicts()["bass"]
    assert verdict.uses_mixture is None and verdict.text == "not computed: the control needs at least 2 songs"
    markdown = write_evaluation(evaluation, tmp_path)["summary.md"].read_text()
    assert "Not computed: the mismatched-reference control needs at least 2 songs (got 1)." in markdown
    without = evaluate(ConstantSeparator(), songs[:2], metrics, controls=False)
    assert without.mismatched == [] and without.input_dependence == {}
    assert "Not computed: this evaluation ran without controls." in write_evaluation(without, tmp_path)["summary.md"].read_text()


def test_a_lower_is_better_metric_is_oriented() -> None:
    matched = {f"s{i}": {"bass": {"mel": 1.0 + 0.1 * i}} for i in range(5)}
    mismatched = {f"s{i}": {"bass": {"mel": 2.0 + 0.1 * i}} for i in range(5)}
    assert verdicts(matched, mismatched, {"mel": False})["bass"].text == USES
    assert verdicts(matched, mismatched, {"mel": True})["bass"].text == f"{DOES_NOT_USE} (mel)"
    assert verdicts(matched, mismatched, {"mel": False})["bass"].differences["mel"].value == pytest.approx(1.0)


def test_controls_reach_the_tables_and_survive_json(songs, metrics, tmp_path) -> None:
    evaluation = evaluate(ConstantSeparator(), songs, metrics, label="constant")
    paths = write_evaluation(evaluation, tmp_path)
    markdown = paths["summary.md"].read_text()
    assert "## Controls" in markdown
    assert "| vocals | " in markdown.split("## Controls")[1] and "| 0.000 | does not use the mixture (si_sdr, usdr) |" in markdown
    controls = paths["controls.csv"].read_text().splitlines()
    assert controls[0] == "stem,metric,matched,mismatched,difference,ci_low,ci_high,songs,input_dependence,verdict"
    assert len(controls) == 1 + 4 * 2
    data = json.loads(paths["results.json"].read_text())
    assert data["controls"]["bass"]["uses_mixture"] is False and len(data["mismatched"]) == 4
    restored = Evaluation.from_dict(data)
    assert data["inference"] is None and restored.inference is None, "a separator without inference settings records none"
    assert restored.mismatched_scores() == evaluation.mismatched_scores()
    assert restored.input_dependence == evaluation.input_dependence
    assert {s: v.text for s, v in restored.verdicts().items()} == {s: v.text for s, v in evaluation.verdicts().items()}
