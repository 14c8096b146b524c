"""Evaluating separators: per-song scores equal the metrics applied directly, aggregation rules,
seeds, written stems, tables, cost figures."""

import csv
import json
import math

import pytest
import soundfile as sf
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.evaluation import Evaluation, MetricSpec, build_metrics, evaluate, select_metrics, write_evaluation
from tokensep_core.evaluation.evaluate import SongResult
from tokensep_core.evaluation.tables import write_json
from tokensep_core.interfaces import Song
from tokensep_core.metrics import SISDR, USDR
from tokensep_core.plugins import load_registry
from tokensep_core.separation.baselines import MixtureCopy

STEMS = ("vocals", "drums", "bass", "other")


def _songs(count: int = 3, samples: int = 4000) -> list[Song]:
    gen = torch.Generator().manual_seed(1)
    songs = []
    for i in range(count):
        stems = {name: (0.05 + 0.05 * j) * torch.randn(2, samples, generator=gen) for j, name in enumerate(STEMS)}
        songs.append(Song(f"song {i}", 8000, sum(stems.values()), stems))
    return songs


@pytest.fixture(scope="module")
def registry():
    return load_registry()


def test_scores_are_the_metrics_of_each_stem_and_stems_are_written(registry, tmp_path) -> None:
    songs = _songs()
    metrics = build_metrics(registry, [MetricSpec(name="si_sdr"), MetricSpec(name="usdr", stems=["bass"])])
    evaluation = evaluate(MixtureCopy(MixtureCopy.Config()), songs, metrics, stems_dir=tmp_path / "stems", label="copy")
    assert [r.song for r in evaluation.songs] == ["song 0", "song 1", "song 2"]
    for song, result in zip(songs, evaluation.songs):
        assert set(result.scores) == set(STEMS)
        assert set(result.scores["bass"]) == {"si_sdr", "usdr"} and set(result.scores["vocals"]) == {"si_sdr"}
        expected = SISDR(SISDR.Config())(song.stems["drums"], song.mixture, 8000)
        assert result.scores["drums"]["si_sdr"] == pytest.approx(expected)
        assert result.scores["bass"]["usdr"] == pytest.approx(USDR(USDR.Config())(song.stems["bass"], song.mixture, 8000))
        assert result.audio_seconds == pytest.approx(0.5) and result.separation_seconds >= 0 and result.peak_rss_mib > 0
    summary = evaluation.summary()
    per_song = [r.scores["other"]["si_sdr"] for r in evaluation.songs]
    assert summary["other"]["si_sdr"] == pytest.approx(sum(per_song) / 3)
    written, rate = sf.read(tmp_path / "stems" / "song 1" / "vocals.wav", dtype="float32")
    assert rate == 8000 and torch.allclose(torch.from_numpy(written.T), songs[1].mixture, atol=1e-6)


def test_csdr_aggregates_by_median_the_others_by_mean(tmp_path) -> None:
    evaluation = Evaluation("x", [{"name": "csdr"}, {"name": "si_sdr"}], {"csdr": True, "si_sdr": True})
    for i, value in enumerate([1.0, 2.0, 10.0]):
        evaluation.songs.append(SongResult(f"s{i}", 0, 1.0, 0.5, 100.0, None, {"bass": {"csdr": value, "si_sdr": value}}))
    summary = evaluation.summary()
    assert summary["bass"]["csdr"] == 2.0 and summary["bass"]["si_sdr"] == pytest.approx(13 / 3)
    assert evaluation.real_time_factor == pytest.approx(0.5)
    restored = Evaluation.from_dict(json.loads(json.dumps(evaluation.to_dict())))
    assert restored.summary() == summary
    # no CPU time kept (a result stored before it was): strict JSON stores NaN as null, read back as NaN
    path = write_json(tmp_path / "evaluation.json", evaluation.to_dict())
    strict = Evaluation.from_dict(json.loads(path.read_text()))
    assert math.isnan(strict.songs[0].separation_cpu_seconds) and math.isnan(strict.cpu_share)


def test_seed_scores_are_averaged_per_song_before_aggregating() -> None:
    evaluation = Evaluation("x", [{"name": "si_sdr"}], {"si_sdr": True})
    for seed, value in ((0, 1.0), (1, 3.0)):
        evaluation.songs.append(SongResult("a", seed, 1.0, 1.0, 1.0, None, {"bass": {"si_sdr": value}}))
    evaluation.songs.append(SongResult("b", 0, 1.0, 1.0, 1.0, None, {"bass": {"si_sdr": float("nan")}}))
    assert evaluation.values()["bass"]["si_sdr"][0] == 2.0
    assert evaluation.summary()["bass"]["si_sdr"] == 2.0  # a NaN song is skipped


def test_deterministic_separators_run_once_whatever_the_seeds(registry) -> None:
    metrics = build_metrics(registry, [MetricSpec(name="si_sdr")])
    evaluation = evaluate(MixtureCopy(MixtureCopy.Config()), _songs(1), metrics, seeds=[3, 4, 5])
    assert [r.seed for r in evaluation.songs] == [3]


def test_metric_selection_and_default_plan() -> None:
    plan = select_metrics(None)
    assert [m.name for m in plan] == ["si_sdr", "usdr", "csdr", "visqol", "onset_f", "attack_error"]
    assert plan[4].stems == ["drums"]
    with_nisqa = select_metrics(None, nisqa_weights="w.tar")
    assert with_nisqa[-1].name == "nisqa" and with_nisqa[-1].stems == ["vocals"] and with_nisqa[-1].params == {"weights": "w.tar"}
    assert [m.stems for m in select_metrics(["onset_f", "si_sdr"])] == [["drums"], None]
    assert "dnsmos" not in [m.name for m in plan]  # opt-in: ~0.5 s per 9 s window
    assert select_metrics(["dnsmos"]) == [MetricSpec(name="dnsmos", stems=["vocals"])]
    assert select_metrics([MetricSpec(name="dnsmos", params={"output": "sig"}, stems=None)])[0].stems is None
    with pytest.raises(ConfigError, match="--nisqa-weights"):
        select_metrics(["nisqa"])


def test_tables_hold_every_score(registry, tmp_path) -> None:
    metrics = build_metrics(registry, [MetricSpec(name="si_sdr"), MetricSpec(name="usdr")])
    evaluation = evaluate(MixtureCopy(MixtureCopy.Config()), _songs(2), metrics)
    paths = write_evaluation(evaluation, tmp_path)
    rows = list(csv.DictReader(paths["scores.csv"].open()))
    assert len(rows) == 2 * 4 * 2 and {r["metric"] for r in rows} == {"si_sdr", "usdr"}
    summary = list(csv.DictReader(paths["summary.csv"].open()))
    assert [r["stem"] for r in summary] == list(STEMS)
    assert float(summary[0]["si_sdr"]) == pytest.approx(evaluation.summary()["vocals"]["si_sdr"])
    markdown = paths["summary.md"].read_text()
    assert "| vocals |" in markdown and "Real-time factor" in markdown
    assert evaluation.machine["threads"] == torch.get_num_threads() and evaluation.machine["device"] == "cpu"
    assert f"torch {torch.__version__}, {torch.get_num_threads()} thread" in markdown and "device cpu" in markdown
    data = json.loads(paths["results.json"].read_text())
    assert Evaluation.from_dict(data).machine == evaluation.machine
    assert math.isclose(data["summary"]["bass"]["usdr"], evaluation.summary()["bass"]["usdr"])


def test_a_silent_reference_is_not_scored_in_the_song_or_the_mismatched_control(registry) -> None:
    songs = _songs(3)
    silent = songs[1]
    silent.stems["bass"] = torch.zeros_like(silent.stems["bass"])
    metrics = build_metrics(registry, [MetricSpec(name="si_sdr"), MetricSpec(name="mel_distance")])
    evaluation = evaluate(MixtureCopy(MixtureCopy.Config()), songs, metrics, label="copy")
    by_song = {r.song: r.scores for r in evaluation.songs}
    assert all(math.isnan(v) for v in by_song["song 1"]["bass"].values())
    assert all(math.isfinite(v) for v in by_song["song 0"]["bass"].values())  # the other songs are scored
    assert all(math.isfinite(v) for v in by_song["song 1"]["drums"].values())  # and the song's other stems
    # song 0's estimates are scored against song 1's (silent) bass in the control: not scored either
    control = {r.song: r for r in evaluation.mismatched}
    assert control["song 0"].reference_song == "song 1"
    assert all(math.isnan(v) for v in control["song 0"].scores["bass"].values())
    assert all(math.isfinite(v) for v in control["song 1"].scores["bass"].values())
    assert evaluation.issues == [
        "song 1 / bass: silent reference, not scored",
        "song 0 against song 1's references / bass: silent reference, not scored",
    ]
    # the summary skips the silent song: the mean of the two scored ones
    scored = [by_song[s]["bass"]["si_sdr"] for s in ("song 0", "song 2")]
    assert evaluation.summary()["bass"]["si_sdr"] == pytest.approx(sum(scored) / 2)


def test_a_reference_below_minus_90_dbfs_is_silent_one_above_is_not() -> None:
    from tokensep_core.metrics.common import is_silent

    noise = torch.randn(2, 48000, generator=torch.Generator().manual_seed(0))
    noise = noise / noise.square().mean().sqrt()  # RMS 1 (0 dBFS)
    assert is_silent(torch.zeros(2, 100)) and is_silent(torch.zeros(1, 0)) and is_silent(noise * 10 ** (-91 / 20))
    assert not is_silent(noise * 10 ** (-89 / 20))


def test_masking_a_stored_result_gives_what_evaluate_gives_now(registry) -> None:
    songs = _songs(3)
    songs[2].stems["vocals"] = torch.zeros_like(songs[2].stems["vocals"])
    metrics = build_metrics(registry, [MetricSpec(name="si_sdr")])
    now = evaluate(MixtureCopy(MixtureCopy.Config()), songs, metrics)
    stored = Evaluation.from_dict(json.loads(json.dumps(now.to_dict())))
    # as stored before: every score computed, the silent ones included
    stored.issues = []
    for result in stored.songs + stored.mismatched:
        for by_metric in result.scores.values():
            by_metric["si_sdr"] = -100.0 if math.isnan(by_metric["si_sdr"]) else by_metric["si_sdr"]
    assert stored.mask_silent_references({("song 2", "vocals")}) == 2
    assert stored.mask_silent_references({("song 2", "vocals")}) == 0  # once only
    assert stored.issues == now.issues
    assert json.dumps(stored.to_dict()) == json.dumps(now.to_dict())
