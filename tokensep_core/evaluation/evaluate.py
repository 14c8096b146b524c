"""Evaluating a separator on test songs: separate each song, score each stem, measure the cost.

Every song is separated once per seed (once in all for deterministic separators) through
``separator.separate_song``; each requested metric scores each stem it applies to. A song's
score is the mean over its seeds; :meth:`Evaluation.summary` aggregates over songs with each
metric's convention (cSDR: median, the others: mean; tokensep_core.metrics.aggregate_tracks).
The cost is the real-time factor (separation wall time / audio duration, summed over songs)
and the peak resident memory of the process while separating. The controls (each song's estimates
against another song's references, input dependence, the verdict) come from the same estimates:
tokensep_core.evaluation.controls.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel
from torch import Tensor
from tqdm import tqdm

from tokensep_core.audio.io import write_audio
from tokensep_core.errors import ConfigError, TokensepError
from tokensep_core.evaluation.controls import (
    ControlResult,
    MismatchedControl,
    Scores,
    StemVerdict,
    by_reference,
    check_offset,
    input_dependence,
    mismatched_label,
    verdicts,
)
from tokensep_core.evaluation.machine import describe_machine
from tokensep_core.evaluation.plan import BuiltMetric
from tokensep_core.evaluation.resources import Usage
from tokensep_core.evaluation.stats import nanmean
from tokensep_core.interfaces import Separator, Song, StemDataset
from tokensep_core.metrics import aggregate_tracks
from tokensep_core.metrics.common import is_silent
from tokensep_core.tokens.health import histogram_health


@dataclass
class SongResult:
    """One song separated with one seed."""

    song: str
    seed: int
    audio_seconds: float
    separation_seconds: float
    peak_rss_mib: float
    peak_cuda_mib: float | None
    scores: Scores
    separation_cpu_seconds: float = math.nan
    """CPU time of this process while it separated (NaN in results stored before it was kept)."""


def _nan_for_none(song: Mapping[str, Any]) -> float:
    """A stored song's separation CPU seconds; NaN where they were not kept (absent, or NaN stored as null)."""
    value = song.get("separation_cpu_seconds")
    return math.nan if value is None else float(value)


def separation_cpu_share(songs: Iterable[SongResult], machine: Mapping[str, Any]) -> float:
    """CPU time over wall time times torch's threads, over the separations of ``songs``: about 1
    when every thread had a core to itself; well below 1 on a CPU run when it waited for a core
    another process held (its real-time factor then overstates). NaN where a separation's CPU
    time was not kept or the thread count is unknown."""
    songs = list(songs)
    threads = machine.get("threads")
    wall = sum(s.separation_seconds for s in songs)
    cpu = sum(s.separation_cpu_seconds for s in songs)
    if not songs or not threads or wall <= 0 or math.isnan(cpu):
        return math.nan
    return cpu / (wall * threads)


@dataclass
class Evaluation:
    """Everything one evaluation measured; JSON round-trips through :meth:`to_dict`/:meth:`from_dict`."""

    separator: str
    metrics: list[dict[str, Any]]
    higher_is_better: dict[str, bool]
    songs: list[SongResult] = field(default_factory=list)
    issues: list[str] = field(default_factory=list)
    """One line per score that could not be computed (recorded as NaN)."""
    machine: dict[str, Any] = field(default_factory=dict)
    """Where the times were measured (:func:`~tokensep_core.evaluation.machine.describe_machine`)."""
    mismatched: list[ControlResult] = field(default_factory=list)
    """The mismatched-reference control: each song's estimates against the references of the song
    ``mismatched_offset`` places later (cyclically)."""
    mismatched_offset: int = 1
    """k of the control's pairing: song i against song (i+k) mod n (1 in results stored before it was recorded)."""
    input_dependence: dict[str, float] = field(default_factory=dict)
    """``{stem: figure}``: ~0 when the output ignores the input (tokensep_core.evaluation.controls)."""
    codes: dict[str, dict[str, list[dict[str, Any]]]] = field(default_factory=dict)
    """``{stem: {"generated" | "reference": [codebook health, …]}}`` for a separator that generates
    codec codes (:meth:`Separator.code_counts`): a generator that collapses uses far fewer ids
    than the reference stems' codes."""
    inference: dict[str, Any] | None = None
    """The separator's inference settings, for one that has them (a generative separator): e.g.
    whether its output is its codec's own or built from the mixture (``mixture_consistency``)."""

    def song_scores(self) -> dict[str, Scores]:
        """``{song: {stem: {metric: mean over seeds}}}``, songs in evaluation order."""
        return _mean_over_seeds((r.song, r.scores) for r in self.songs)

    def mismatched_scores(self) -> dict[str, Scores]:
        """:meth:`song_scores` of the mismatched-reference control, keyed by the song whose
        references were scored (controls.by_reference; empty with fewer than 2 songs)."""
        return _mean_over_seeds((song, scores) for song, _, scores in by_reference(self.mismatched))

    def values(self, mismatched: bool = False) -> dict[str, dict[str, list[float]]]:
        """``{stem: {metric: [per-song values]}}``: the samples behind :meth:`summary`."""
        out: dict[str, dict[str, list[float]]] = {}
        for scores in (self.mismatched_scores() if mismatched else self.song_scores()).values():
            for stem, by_metric in scores.items():
                for metric, value in by_metric.items():
                    out.setdefault(stem, {}).setdefault(metric, []).append(value)
        return out

    def summary(self, mismatched: bool = False) -> Scores:
        """``{stem: {metric: aggregate over songs}}``, of the control with ``mismatched``."""
        return {
            stem: {metric: aggregate_tracks(metric, values) for metric, values in by_metric.items()}
            for stem, by_metric in self.values(mismatched).items()
        }

    def verdicts(self) -> dict[str, StemVerdict]:
        """``{stem: verdict}``: does each stem beat the mismatched-reference control?"""
        return verdicts(self.song_scores(), self.mismatched_scores(), self.higher_is_better)

    @property
    def real_time_factor(self) -> float:
        """Separation wall time / audio duration over every separation."""
        audio = sum(r.audio_seconds for r in self.songs)
        return sum(r.separation_seconds for r in self.songs) / audio if audio else float("nan")

    @property
    def cpu_share(self) -> float:
        """:func:`separation_cpu_share` of every separation."""
        return separation_cpu_share(self.songs, self.machine)

    @property
    def peak_rss_mib(self) -> float:
        return max((r.peak_rss_mib for r in self.songs), default=float("nan"))

    @property
    def peak_cuda_mib(self) -> float | None:
        peaks = [r.peak_cuda_mib for r in self.songs if r.peak_cuda_mib is not None]
        return max(peaks) if peaks else None

    def mask_silent_references(self, silent: set[tuple[str, str]]) -> int:
        """Score as :func:`evaluate` does now a result stored before it skipped silent references:
        every score against a silent reference (``(song, stem)``), the song's own or the
        mismatched control's, becomes NaN with one issue line. -> the number of scores masked."""
        masked = 0
        pairs = [(r.song, r.song, r.scores) for r in self.songs]
        pairs += [(mismatched_label(r.song, r.reference_song), r.reference_song, r.scores) for r in self.mismatched]
        for label, reference_song, scores in pairs:
            for stem, by_metric in scores.items():
                if (reference_song, stem) in silent and not all(math.isnan(v) for v in by_metric.values()):
                    scores[stem] = {metric: float("nan") for metric in by_metric}
                    self.issues.append(f"{label} / {stem}: silent reference, not scored")
                    masked += 1
        return masked

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "summary": self.summary(),
            "real_time_factor": self.real_time_factor,
            "cpu_share": self.cpu_share,
            "peak_rss_mib": self.peak_rss_mib,
            "peak_cuda_mib": self.peak_cuda_mib,
            "mismatched_summary": self.summary(mismatched=True),
            "controls": {stem: verdict.to_dict() for stem, verdict in self.verdicts().items()},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Evaluation:
        return cls(
            separator=data["separator"],
            metrics=data["metrics"],
            higher_is_better=data["higher_is_better"],
            songs=[
                SongResult(**{**song, "scores": _nan_for_null(song["scores"]), "separation_cpu_seconds": _nan_for_none(song)})
                for song in data["songs"]
            ],
            issues=list(data.get("issues", [])),
            machine=dict(data.get("machine") or {}),
            mismatched=[ControlResult(**{**r, "scores": _nan_for_null(r["scores"])}) for r in data.get("mismatched", [])],
            mismatched_offset=int(data.get("mismatched_offset", 1)),
            input_dependence={stem: float("nan") if v is None else float(v) for stem, v in (data.get("input_dependence") or {}).items()},
            codes=dict(data.get("codes") or {}),
            inference=data.get("inference"),
        )


def _inference_settings(separator: Separator) -> dict[str, Any] | None:
    """A generative separator's inference settings as JSON; None for a separator without them."""
    inference = getattr(separator, "inference", None)
    return inference.model_dump(mode="json") if isinstance(inference, BaseModel) else None


def _nan_for_null(scores: dict[str, dict[str, float | None]]) -> Scores:
    """Scores read back from JSON, where NaN was stored as null."""
    return {stem: {m: float("nan") if v is None else float(v) for m, v in by_metric.items()} for stem, by_metric in scores.items()}


def _mean_over_seeds(results: Iterable[tuple[str, Scores]]) -> dict[str, Scores]:
    """``(song, scores)`` of every seed -> ``{song: {stem: {metric: mean over seeds}}}``, in order."""
    grouped: dict[str, dict[str, dict[str, list[float]]]] = {}
    for name, scores in results:
        song = grouped.setdefault(name, {})
        for stem, values in scores.items():
            for metric, value in values.items():
                song.setdefault(stem, {}).setdefault(metric, []).append(value)
    return {
        song: {stem: {metric: nanmean(values) for metric, values in by_metric.items()} for stem, by_metric in stems.items()}
        for song, stems in grouped.items()
    }


def select_songs(dataset: StemDataset, limit: int | None = None) -> Iterable[Song]:
    """The first ``limit`` songs of ``dataset`` (all when None), loaded one at a time."""
    count = len(dataset) if limit is None else min(limit, len(dataset))
    if count == 0:
        raise ConfigError("evaluation: the test set has no songs")
    return (dataset[i] for i in range(count))


def reseed(separator: Separator, seed: int) -> None:
    """Seed the global generators and the separator's own sampler (:meth:`Separator.set_seed`)."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    separator.set_seed(seed)


def evaluate(
    separator: Separator,
    songs: Iterable[Song],
    metrics: Sequence[BuiltMetric],
    seeds: Sequence[int] = (0,),
    stems_dir: str | Path | None = None,
    label: str = "",
    total: int | None = None,
    controls: bool = True,
    mismatched_offset: int = 1,
) -> Evaluation:
    """Separate and score every song, and each seed's estimates against the references of the
    song ``mismatched_offset`` places later, cyclically (the controls); with ``stems_dir`` the
    estimates of the first seed are written to ``stems_dir/SONG/STEM.wav`` (32-bit float,
    atomically). The controls keep at most 2 * ``mismatched_offset`` songs' stems per seed in
    memory and score every stem a second time; ``controls=False`` skips them. An offset the songs
    cannot take (``total`` or the songs given <= offset, offset > 1) is a ConfigError, before
    anything is separated when ``total`` tells."""
    if not seeds:
        raise ConfigError("evaluation: seeds must not be empty")
    if controls:
        check_offset(mismatched_offset, total)
    seeds = list(seeds) if separator.stochastic else list(seeds[:1])
    evaluation = Evaluation(
        separator=label or type(separator).__name__,
        metrics=[m.spec.model_dump(mode="json") for m in metrics],
        higher_is_better={m.name: m.metric.higher_is_better for m in metrics},
        machine=describe_machine(getattr(separator, "device", None)),
        inference=_inference_settings(separator),
        mismatched_offset=mismatched_offset,
    )
    mismatched: list[MismatchedControl] = []
    counts: dict[str, dict[str, Tensor]] = {"generated": {}, "reference": {}}
    for song in tqdm(songs, desc="evaluate", unit="song", total=total, leave=False):
        stems = [stem for stem in separator.stems if stem in song.stems]
        if not stems:
            raise ConfigError(f"evaluation: song {song.name!r} has none of the separator's stems {list(separator.stems)}")
        for index, seed in enumerate(seeds):
            reseed(separator, seed)
            with Usage() as usage:
                estimates = separator.separate_song(song)
            if controls and index == 0:
                _add_counts(counts, separator.code_counts(song))
            if stems_dir is not None and index == 0:
                for stem in stems:
                    write_audio(
                        Path(stems_dir) / _safe_name(song.name) / f"{stem}.wav",
                        estimates[stem],
                        song.sample_rate,
                        subtype="FLOAT",
                        clip="none",
                    )
            score = partial(_score, sample_rate=song.sample_rate, metrics=metrics, issues=evaluation.issues)
            scores = {stem: score(song.name, stem, song.stems[stem], estimates[stem]) for stem in stems}
            if controls:
                if len(mismatched) <= index:  # one control per seed, fed the songs in order
                    mismatched.append(MismatchedControl(score, seed, mismatched_offset))
                mismatched[index].add(song.name, song.stems, {stem: estimates[stem] for stem in stems})
            evaluation.songs.append(
                SongResult(
                    song.name,
                    seed,
                    song.mixture.shape[-1] / song.sample_rate,
                    usage.seconds,
                    usage.peak_rss_mib,
                    usage.peak_cuda_mib,
                    scores,
                    usage.cpu_seconds,
                )
            )
    for control in mismatched:
        control.finish()
        evaluation.mismatched.extend(control.results)
    evaluation.input_dependence = input_dependence(mismatched)
    evaluation.codes = {
        stem: {which: [h.to_dict() for h in histogram_health(counts[which][stem])] for which in counts if stem in counts[which]}
        for stem in counts["generated"]
    }
    return evaluation


def _add_counts(total: dict[str, dict[str, Tensor]], counts: tuple[dict[str, Tensor], dict[str, Tensor]] | None) -> None:
    """Add one song's (generated, reference) id counts ``{stem: [K, V]}`` to ``total``."""
    if counts is None:
        return
    for which, by_stem in zip(("generated", "reference"), counts):
        for stem, hist in by_stem.items():
            total[which][stem] = total[which][stem] + hist if stem in total[which] else hist


def _score(
    label: str,
    stem: str,
    reference: torch.Tensor,
    estimate: torch.Tensor,
    *,
    sample_rate: int,
    metrics: Sequence[BuiltMetric],
    issues: list[str],
) -> dict[str, float]:
    """Every applicable metric on one stem ``[C, T]``; a metric that cannot score it gives NaN and
    an issue naming ``label``. A silent reference (the stem is absent from the song) is not scored:
    every metric NaN and one issue."""
    scores = {}
    applicable = [built for built in metrics if built.applies_to(stem)]
    if applicable and is_silent(reference):
        issues.append(f"{label} / {stem}: silent reference, not scored")
        return {built.name: float("nan") for built in applicable}
    for built in applicable:
        try:
            scores[built.name] = float(built.metric(reference, estimate.to(reference.device, reference.dtype), sample_rate))
        except TokensepError as err:
            scores[built.name] = float("nan")
            issues.append(f"{label} / {stem} / {built.name}: {err}")
    return scores


def _safe_name(name: str) -> str:
    """A song name usable as one folder name."""
    return re.sub(r"[/\\\0]", "_", name).strip(". ") or "song"
