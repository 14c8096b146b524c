"""A grid's results as numbers: per row, each metric's aggregate over songs and seeds with its
two-level bootstrap interval and the spread across seeds, the same for the row's
mismatched-reference control, its input dependence and verdict per stem
(tokensep_core.evaluation.controls), its training compute; and the grid's declared comparisons
(tokensep_core.evaluation.stats.paired_difference).

A row's scores are kept as cells ``{seed: {song: value}}`` per metric and stem. A row whose output
does not depend on the seed (a deterministic separator, run once) has the one seed ``None``, and
a comparison pairs it with every seed of the other row."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tokensep_core.bench.compute import add
from tokensep_core.evaluation import Evaluation
from tokensep_core.evaluation.controls import Scores, StemVerdict, by_reference
from tokensep_core.evaluation.evaluate import separation_cpu_share
from tokensep_core.evaluation.stats import Difference, Estimate, nanmean, paired_difference, pooled_estimate
from tokensep_core.metrics.aggregate import aggregate_tracks

MEAN = "mean"
"""Pseudo-stem: the mean over stems of a metric's aggregates (no interval)."""

Seed = int | None
"""A run's seed; None: the row's output does not depend on it."""
Cells = dict[Seed, dict[str, float]]
"""``{seed: {song: value}}`` of one metric and stem."""


@dataclass
class RowSummary:
    """One row's outcome: status, cost, compute and ``estimates[metric][stem]``."""

    name: str
    kind: str
    status: str
    error: str | None
    config: dict[str, Any]
    training: list[dict[str, Any]] = field(default_factory=list)
    """Each run's training summary (steps, minutes, wall and CPU seconds, …); empty when untrained."""
    codec_compute: dict[str, dict[str, float]] = field(default_factory=dict)
    """``{codec: {wall_seconds, cpu_seconds}}`` of the grid codecs the row uses."""
    real_time_factor: float = float("nan")
    cpu_share: float = float("nan")
    """CPU time over wall time times threads while it separated (:func:`~tokensep_core.evaluation.evaluate.separation_cpu_share`)."""
    peak_rss_mib: float = float("nan")
    machine: dict[str, Any] = field(default_factory=dict)
    """Where the evaluation ran (CPU, torch threads, device): resumed rows may come from other runs."""
    seeds: list[Seed] = field(default_factory=list)
    songs: list[str] = field(default_factory=list)
    scores: dict[str, dict[str, Cells]] = field(default_factory=dict)
    """``{metric: {stem: cells}}``: the per-song, per-seed scores behind ``estimates``."""
    mismatched_scores: dict[str, dict[str, Cells]] = field(default_factory=dict)
    """The same for the mismatched-reference control, keyed by the reference song (as the verdict pairs them)."""
    estimates: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    mismatched: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    """``estimates`` of the mismatched-reference control (empty with fewer than 2 songs)."""
    input_dependence: dict[str, float] = field(default_factory=dict)
    verdicts: dict[str, StemVerdict] = field(default_factory=dict)
    mismatched_offset: int | None = None
    """k of the control's pairing (song i against song i+k mod n) as its evaluation recorded it (1
    in results stored before it was); None when the row has no scores."""
    mixture_consistency: str | None = None
    """A generative row's ``mixture_consistency`` ("off": its output is its codec's own); None
    when the row has none or its results do not say."""

    @property
    def scored(self) -> bool:
        """Whether the row has scores: it is ok, or ``partial`` (some seeds finished, the others
        not run yet; its scores pool the finished seeds)."""
        return self.status in ("ok", "partial")

    @property
    def mismatched_name(self) -> str:
        """The system name of this row's mismatched-reference control."""
        return f"{self.name} (mismatched)"

    @property
    def compute(self) -> dict[str, dict[str, float]]:
        """``{"training": …, "codecs": …}``, each ``{wall_seconds, cpu_seconds}`` summed over runs or codecs."""
        return {"training": add(*self.training), "codecs": add(*self.codec_compute.values())}


@dataclass
class ComparisonSummary:
    """A declared comparison: ``differences[metric][stem]`` of ``a`` against ``b`` (positive: ``a``
    is better) over the songs and seed pairs both rows have; ``error`` says why there are none."""

    a: str
    b: str
    pairs: list[tuple[Seed, Seed]] = field(default_factory=list)
    differences: dict[str, dict[str, Difference]] = field(default_factory=dict)
    error: str | None = None


@dataclass
class GridSummary:
    rows: list[RowSummary]
    metrics: list[str]
    stems: list[str]
    higher_is_better: dict[str, bool]
    comparisons: list[ComparisonSummary] = field(default_factory=list)


def summarize(results: list[dict[str, Any]], comparisons: Iterable[tuple[str, str]] = ()) -> GridSummary:
    """Stored row results (``run_grid``'s, or one result of a whole row as stored before rows ran
    once per seed) -> estimates with bootstrap intervals over songs and seeds, and the
    ``(a, b)`` comparisons."""
    rows, metrics, stems, directions = [], [], [], {}
    for result in results:
        runs = result.get("runs", [result])
        row = RowSummary(
            result["row"],
            result["kind"],
            result["status"],
            result.get("error"),
            result["config"],
            [{**run["training"], "seed": run.get("seed")} for run in runs if run.get("training")],
            result.get("codec_compute") or {},
        )
        finished = [run for run in runs if run.get("status", "ok") == "ok"]
        if row.scored and finished and all(run.get("evaluation") for run in finished):
            evaluations = [Evaluation.from_dict(run["evaluation"]) for run in finished]
            _fill(row, evaluations, result.get("seed_dependent"))
            directions.update({m: up for e in evaluations for m, up in e.higher_is_better.items()})
            for spec in evaluations[0].metrics:
                if spec["name"] not in metrics:
                    metrics.append(spec["name"])
            for by_stem in row.scores.values():
                stems.extend(stem for stem in by_stem if stem not in stems)
        rows.append(row)
    judge_by_ceilings(rows)
    by_name = {row.name: row for row in rows}
    compared = [compare(by_name[a], by_name[b], directions) for a, b in comparisons]
    return GridSummary(rows, metrics, stems, directions, compared)


def _fill(row: RowSummary, evaluations: list[Evaluation], seed_dependent: bool | None) -> None:
    """Scores, estimates, controls and costs of a finished row from its runs' evaluations; a row
    stored without ``seed_dependent`` depends on the seed when it was evaluated with several."""
    if seed_dependent is None:
        seed_dependent = len({song.seed for e in evaluations for song in e.songs}) > 1
    matched = _cells(((s.song, s.seed, s.scores) for e in evaluations for s in e.songs), seed_dependent)
    mismatched = _cells((cell for e in evaluations for cell in by_reference(e.mismatched)), seed_dependent)
    row.seeds = sorted({seed for by_stem in matched.values() for cells in by_stem.values() for seed in cells}, key=_seed_order)
    row.songs = list(dict.fromkeys(s.song for e in evaluations for s in e.songs))
    row.scores, row.mismatched_scores = matched, mismatched
    row.estimates = _estimates(matched, row.seeds, row.songs)
    row.mismatched = _estimates(mismatched, row.seeds, row.songs)
    row.verdicts = _verdicts(matched, mismatched, row.seeds, row.songs, evaluations[0].higher_is_better)
    row.input_dependence = {
        stem: nanmean([e.input_dependence.get(stem, math.nan) for e in evaluations])
        for stem in dict.fromkeys(stem for e in evaluations for stem in e.input_dependence)
    }
    audio = sum(s.audio_seconds for e in evaluations for s in e.songs)
    row.real_time_factor = sum(s.separation_seconds for e in evaluations for s in e.songs) / audio if audio else math.nan
    row.peak_rss_mib = max((e.peak_rss_mib for e in evaluations), default=math.nan)
    row.machine = evaluations[0].machine
    row.cpu_share = separation_cpu_share((s for e in evaluations for s in e.songs), row.machine)
    row.mixture_consistency = _mixture_consistency(row, evaluations[0])
    row.mismatched_offset = evaluations[0].mismatched_offset  # the runs of a row share its config


def _codec_source(row: RowSummary) -> str | None:
    """Where a token row's codec comes from (its ``codec_checkpoint``, or the separator checkpoint
    it loads), and a codec-oracle row's ``checkpoint``; None for any other row."""
    config = row.config
    if row.kind == "generative":
        return config["training"]["model"].get("codec_checkpoint")
    if row.kind == "checkpoint":
        return config.get("checkpoint")
    separator = config.get("separator") or {}
    if separator.get("name") in ("generative", "codec_oracle"):
        return (separator.get("params") or {}).get("checkpoint")
    return None


def _mixture_consistency(row: RowSummary, evaluation: Evaluation) -> str | None:
    """The row's evaluated ``mixture_consistency``: as its evaluation recorded it, or, for results
    stored before evaluations recorded it, a generative row's training config (default off)."""
    if evaluation.inference is not None:
        return evaluation.inference.get("mixture_consistency")
    if row.kind == "generative":
        return (row.config["training"].get("inference") or {}).get("mixture_consistency", "off")
    return None


def _is_codec_oracle(row: RowSummary) -> bool:
    """A codec-oracle row whose output is the codec's own (not the mixture split by it)."""
    separator = row.config.get("separator") or {}
    params = separator.get("params") or {}
    return row.kind == "separator" and separator.get("name") == "codec_oracle" and params.get("mixture_consistency", "off") == "off"


def judge_by_ceilings(rows: list[RowSummary]) -> None:
    """Judge each token row whose output is its codec's own (``mixture_consistency`` off) only on
    the metrics its ceiling passes: the finished codec-oracle row of the same codec source
    (tokensep_core.evaluation.controls, "Judged metrics"). Other rows, a row built from the
    mixture (mask, shift, decoder: the codec oracle does not bound it) and rows without a ceiling
    in the grid keep every metric."""
    ceilings: dict[str, RowSummary] = {}
    for row in rows:
        source = _codec_source(row)
        if _is_codec_oracle(row) and row.scored and row.verdicts and source is not None:
            ceilings.setdefault(source, row)
    for row in rows:
        ceiling = ceilings.get(_codec_source(row) or "")
        if ceiling is None or _is_codec_oracle(row) or row.mixture_consistency != "off":
            continue
        row.verdicts = {
            stem: verdict.judged_by(ceiling.name, ceiling.verdicts[stem]) if stem in ceiling.verdicts else verdict
            for stem, verdict in row.verdicts.items()
        }


def _seed_order(seed: Seed) -> tuple[bool, int]:
    return (seed is not None, seed or 0)


def _cells(results: Iterable[tuple[str, int, Scores]], seed_dependent: bool) -> dict[str, dict[str, Cells]]:
    """``(song, seed, {stem: {metric: value}})`` -> ``{metric: {stem: {seed: {song: value}}}}``,
    every seed as None when the output does not depend on it."""
    out: dict[str, dict[str, Cells]] = {}
    for song, seed, scores in results:
        for stem, by_metric in scores.items():
            for metric, value in by_metric.items():
                out.setdefault(metric, {}).setdefault(stem, {}).setdefault(seed if seed_dependent else None, {})[song] = value
    return out


def matrix(cells: Cells, seeds: Sequence[Seed], songs: Sequence[str]) -> np.ndarray:
    """Cells -> ``[len(seeds), len(songs)]`` (NaN where there is no score)."""
    return np.array([[cells.get(seed, {}).get(song, math.nan) for song in songs] for seed in seeds], dtype=np.float64).reshape(
        len(seeds), len(songs)
    )


def _estimates(scores: dict[str, dict[str, Cells]], seeds: list[Seed], songs: list[str]) -> dict[str, dict[str, Estimate]]:
    """``{metric: {stem: cells}}`` -> ``{metric: {stem (and MEAN): estimate}}``; MEAN's seed
    spread is that of the per-seed means over stems."""
    out: dict[str, dict[str, Estimate]] = {}
    for metric, by_stem in scores.items():
        estimates = {stem: pooled_estimate(metric, matrix(cells, seeds, songs)) for stem, cells in by_stem.items()}
        per_seed = [
            nanmean([aggregate_tracks(metric, cells.get(seed, {}).values()) for cells in by_stem.values()])
            for seed in seeds
            if any(seed in cells for cells in by_stem.values())
        ]
        spread = [v for v in per_seed if not math.isnan(v)]
        estimates[MEAN] = Estimate(
            nanmean([e.value for e in estimates.values()]),
            math.nan,
            math.nan,
            0,
            len(spread),
            min(spread, default=math.nan),
            max(spread, default=math.nan),
        )
        out[metric] = estimates
    return out


def _verdicts(
    matched: dict[str, dict[str, Cells]],
    mismatched: dict[str, dict[str, Cells]],
    seeds: list[Seed],
    songs: list[str],
    higher_is_better: dict[str, bool],
) -> dict[str, StemVerdict]:
    """Per stem: each metric's oriented matched − mismatched difference, aggregated over songs and
    seeds by the metric's rule with its interval (the controls' verdict, pooled over seeds)."""
    differences: dict[str, dict[str, Estimate]] = {}
    for metric, by_stem in matched.items():
        sign = 1.0 if higher_is_better.get(metric, True) else -1.0
        for stem, cells in by_stem.items():
            control = mismatched.get(metric, {}).get(stem, {})
            with np.errstate(invalid="ignore"):  # inf - inf: no defined difference
                paired = sign * (matrix(cells, seeds, songs) - matrix(control, seeds, songs))
            differences.setdefault(stem, {})[metric] = pooled_estimate(metric, paired)
    return {stem: StemVerdict(by_metric, len(songs)) for stem, by_metric in differences.items()}


def seed_pairs(a: RowSummary, b: RowSummary) -> list[tuple[Seed, Seed]]:
    """Which of ``a``'s seeds meets which of ``b``'s: the same seed where both depend on it, every
    seed of one where the other does not."""
    if None in a.seeds or None in b.seeds:
        return [(sa, sb) for sa in a.seeds for sb in b.seeds]
    return [(seed, seed) for seed in a.seeds if seed in b.seeds]


def compare(a: RowSummary, b: RowSummary, higher_is_better: dict[str, bool]) -> ComparisonSummary:
    """The paired differences of ``a`` against ``b`` per metric and stem both scored, over the
    songs both have (in ``a``'s order) and :func:`seed_pairs`."""
    comparison = ComparisonSummary(a.name, b.name)
    failed = [row.name for row in (a, b) if not row.scored]
    if failed:
        comparison.error = f"not computed: row {failed[0]} has no result"
        return comparison
    comparison.pairs = seed_pairs(a, b)
    songs = [song for song in a.songs if song in b.songs]
    if not comparison.pairs or not songs:
        comparison.error = "not computed: the rows share no seed" if songs else "not computed: the rows share no song"
        return comparison
    for metric, by_stem in a.scores.items():
        for stem, cells in by_stem.items():
            other = b.scores.get(metric, {}).get(stem)
            if other is None:
                continue
            scores_a = np.array([matrix(cells, [sa], songs)[0] for sa, _ in comparison.pairs])
            scores_b = np.array([matrix(other, [sb], songs)[0] for _, sb in comparison.pairs])
            comparison.differences.setdefault(metric, {})[stem] = paired_difference(scores_a, scores_b, higher_is_better.get(metric, True))
    return comparison


FAILS_CONTROL = "fails: "
"""How :func:`own_controls` begins when a row fails its own control."""


def own_controls(summary: GridSummary, names: Sequence[str], metric: str, stem: str) -> str:
    """Whether each named row beats its own mismatched control on ``metric`` and ``stem`` (the
    controls table's interval lies above 0): ``both pass``, ``fails: ROW[, ROW]``, or ``–`` when a
    row has no such control (too few songs, or the row is not in the grid)."""
    by_name = {r.name: r for r in summary.rows}
    failing = []
    for name in names:
        row = by_name.get(name)
        verdict = row.verdicts.get(stem) if row is not None else None
        difference = verdict.differences.get(metric) if verdict is not None else None
        if difference is None or math.isnan(difference.low):
            return "–"
        if difference.low <= 0:
            failing.append(name)
    return FAILS_CONTROL + ", ".join(failing) if failing else "both pass"
