"""Controls that tell whether a separator uses its input: the mismatched-reference control, the
input-dependence figure and the verdict. Computed from the separator's own outputs: no extra
separation.

**Mismatched-reference control.** Song i's estimates are scored against the references of song
(i+k) mod n, k the *offset* (default 1: the next song): a cyclic pairing of the n evaluated songs
in their order, each pair trimmed from the start to the shorter of the two songs. A separator that
reads the mixture scores better against its own song's references than against another song's;
one that ignores the mixture scores the same against both. It needs more than k songs: with k = 1
and fewer than 2 it is not computed, with k > 1 and n <= k it is a ConfigError. Set k to the number
of consecutive test songs that share a composition (excerpts of one piece), so that no song is
scored against another excerpt of its own music.

**Input dependence** of a stem, over the same cyclic pairs (i, j = (i+k) mod n) on equal-length
crops, with every channel and sample of a pair counted::

    D(x) = sum over pairs ||x_i - x_j||^2  /  sum over pairs (||x_i||^2 + ||x_j||^2)
    input dependence = D(estimates) / D(references)

``D`` is 0 for identical signals and 1 for uncorrelated ones whatever their loudness, so the
figure is ~0 when the output ignores the input (the same stem for every song) and ~1 when the
outputs differ between songs as much as the references do (the oracle: exactly 1). A figure near
1 alone does not show that the output follows the input (an input-independent random output also
differs from song to song): the verdict decides that.

**Verdict.** Per stem and metric, paired **by reference song**: for each song j, the score of
its own estimates against its references minus the score of song (j-k) mod n's estimates against
the same references (mismatched − matched for a lower-is-better metric, so positive is always
good), aggregated over songs by the metric's rule with a 95 % bootstrap interval
(:func:`tokensep_core.evaluation.stats.estimate`). Holding the reference fixed takes out how hard
each reference is to score (ViSQOL on a quiet or sparse bass line is high whatever it is compared
with), which otherwise dominates the spread; the mean is the same as pairing by estimate, and an
output that ignores its input gives exactly 0 for every song. The stem uses the mixture on that
metric when the interval lies above 0. A stem that does not on every judged metric with an
interval is reported as "does not use the mixture", naming the metrics.

**Judged metrics.** Every metric is judged, except where the caller names a *ceiling*: the best
output a separator of that kind can give (a token separator's is the codec oracle of its codec). A
metric on which the ceiling itself does not beat its own control cannot tell a separator from one
that ignores the mixture (a codec that does not keep the waveform's phase fails SI-SDR against
another song's stems as much as against its own), so it is left out of the verdict and named as
not judged (:meth:`StemVerdict.judged_by`).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace

from torch import Tensor

from tokensep_core.errors import ConfigError
from tokensep_core.evaluation.stats import Estimate, estimate

Scores = dict[str, dict[str, float]]
"""``{stem: {metric: value}}``."""

Scorer = Callable[[str, str, Tensor, Tensor], dict[str, float]]
"""``(label, stem, reference [C, T], estimate [C, T]) -> {metric: value}``; ``label`` names the
pair for error messages."""

MIN_SONGS = 2
USES = "uses the mixture"
DOES_NOT_USE = "does not use the mixture"


@dataclass
class ControlResult:
    """One song's estimates (separated with ``seed``) scored against ``reference_song``'s stems."""

    song: str
    seed: int
    reference_song: str
    scores: Scores


@dataclass
class _Seen:
    song: str
    references: dict[str, Tensor]
    estimates: dict[str, Tensor]


@dataclass
class _Spread:
    """The four sums of :func:`input_dependence` for one stem."""

    estimate_difference: float = 0.0
    estimate_energy: float = 0.0
    reference_difference: float = 0.0
    reference_energy: float = 0.0


def check_offset(offset: int, songs: int | None = None) -> None:
    """A one-line ConfigError unless ``offset`` is a whole number >= 1 and, given ``songs``, song
    i's partner (i + offset) mod songs is another song for every i (songs > offset); fewer than 2
    songs with offset 1 is no error (the control is then not computed)."""
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 1:
        raise ConfigError(f"mismatched_offset must be a whole number >= 1, got {offset!r}")
    if songs is not None and offset > 1 and songs <= offset:
        raise ConfigError(f"mismatched_offset {offset} needs at least {offset + 1} songs, got {songs}")


def mismatched_label(song: str, reference_song: str) -> str:
    """How a mismatched score's issues name it: ``song``'s estimates against ``reference_song``'s stems."""
    return f"{song} against {reference_song}'s references"


def pairing_text(offset: int) -> str:
    """Whose references the mismatched control scores a song's estimates against, in words."""
    return "the next song's references" if offset == 1 else f"the references of the song {offset} places later"


def earlier_estimates(offset: int) -> str:
    """Whose estimates the verdict scores against a song's references besides its own, in words."""
    return "the previous song's estimates" if offset == 1 else f"the estimates of the song {offset} places earlier"


class MismatchedControl:
    """Songs fed in evaluation order (:meth:`add`), then :meth:`finish`: song i's estimates against
    song (i + ``offset``) mod n's references, each song once. A pair is scored as soon as its
    partner arrives (song i when song i + offset is added); :meth:`finish` scores the last
    ``offset`` songs against the first ``offset``. So only the stems of the first ``offset`` songs
    (the wrap-around partners) and of the last ``offset`` songs (those waiting for theirs) are kept,
    at most 2 * offset songs whatever n. ``results`` holds the mismatched scores in song order, one
    per song when n > offset (none with fewer than 2 songs and offset 1; with offset > 1 and
    n <= offset :meth:`finish` raises a ConfigError, :func:`check_offset`)."""

    def __init__(self, score: Scorer, seed: int = 0, offset: int = 1) -> None:
        check_offset(offset)
        self._score = score
        self._seed = seed
        self._offset = offset
        self._first: list[_Seen] = []
        """Songs 0 .. offset-1: the partners of the last ``offset`` songs."""
        self._last: deque[_Seen] = deque(maxlen=offset)
        """The ``offset`` songs added last, oldest first."""
        self._count = 0
        self._spread: dict[str, _Spread] = {}
        self.results: list[ControlResult] = []

    @property
    def offset(self) -> int:
        return self._offset

    def add(self, song: str, references: Mapping[str, Tensor], estimates: Mapping[str, Tensor]) -> None:
        """One song's references and estimates ``{stem: [C, T]}`` (stems both have)."""
        stems = [stem for stem in estimates if stem in references]
        current = _Seen(song, {s: references[s] for s in stems}, {s: estimates[s] for s in stems})
        if len(self._last) == self._offset:  # the oldest kept is song count - offset: its partner is this one
            self._pair(self._last[0], current)
        if len(self._first) < self._offset:
            self._first.append(current)
        self._last.append(current)
        self._count += 1

    def finish(self) -> None:
        """Close the cycle: song n-k+i (the i-th of the last k) against song i (the i-th of the
        first k), k the offset; a ConfigError when n <= k with k > 1 (:func:`check_offset`)."""
        check_offset(self._offset, self._count)
        if self._count > self._offset:
            for song, other in zip(self._last, self._first, strict=True):
                self._pair(song, other)
        self._first, self._last, self._count = [], deque(maxlen=self._offset), 0

    def _pair(self, song: _Seen, other: _Seen) -> None:
        scores: Scores = {}
        for stem in song.estimates:
            if stem not in other.references:
                continue
            length = min(song.estimates[stem].shape[-1], other.references[stem].shape[-1])
            estimate_crop, other_reference = song.estimates[stem][..., :length], other.references[stem][..., :length]
            scores[stem] = self._score(mismatched_label(song.song, other.song), stem, other_reference, estimate_crop)
            other_estimate, reference = other.estimates[stem][..., :length], song.references[stem][..., :length]
            spread = self._spread.setdefault(stem, _Spread())
            spread.estimate_difference += _energy(estimate_crop - other_estimate.to(estimate_crop))
            spread.estimate_energy += _energy(estimate_crop) + _energy(other_estimate)
            spread.reference_difference += _energy(reference - other_reference.to(reference))
            spread.reference_energy += _energy(reference) + _energy(other_reference)
        self.results.append(ControlResult(song.song, self._seed, other.song, scores))


def by_reference(results: Iterable[ControlResult]) -> Iterator[tuple[str, int, Scores]]:
    """``(reference song, seed, scores)`` of each mismatched result: the key under which the
    verdict pairs it with that song's matched scores (module docstring)."""
    return ((r.reference_song, r.seed, r.scores) for r in results)


def _energy(wav: Tensor) -> float:
    return float(wav.double().square().sum())


def input_dependence(controls: Iterable[MismatchedControl]) -> dict[str, float]:
    """``{stem: D(estimates) / D(references)}`` over every pair the controls saw (module
    docstring); NaN for a stem without a pair or whose references are all equal."""
    total: dict[str, _Spread] = {}
    for control in controls:
        for stem, spread in control._spread.items():
            summed = total.setdefault(stem, _Spread())
            for name in vars(summed):
                setattr(summed, name, getattr(summed, name) + getattr(spread, name))
    out = {}
    for stem, s in total.items():
        # silence everywhere is the same output for every song: D = 0
        estimates = s.estimate_difference / s.estimate_energy if s.estimate_energy > 0 else 0.0
        references = s.reference_difference / s.reference_energy if s.reference_energy > 0 else 0.0
        out[stem] = estimates / references if references > 0 else float("nan")
    return out


@dataclass(frozen=True)
class StemVerdict:
    """One stem's verdict: per metric, the oriented matched − mismatched difference over songs;
    ``not_judged`` metrics (those its ``ceiling`` fails) do not count."""

    differences: dict[str, Estimate] = field(default_factory=dict)
    songs: int = 0
    not_judged: tuple[str, ...] = ()
    ceiling: str | None = None

    @property
    def passing(self) -> list[str]:
        """Metrics with an interval that lies above 0."""
        return [m for m, e in self.differences.items() if not math.isnan(e.low) and e.low > 0]

    @property
    def failing(self) -> list[str]:
        """Judged metrics with an interval that does not lie above 0."""
        return [m for m, e in self.differences.items() if m not in self.not_judged and not math.isnan(e.low) and e.low <= 0]

    @property
    def uses_mixture(self) -> bool | None:
        """True when every judged metric with an interval beats the control; None when none has one."""
        if all(math.isnan(e.low) for m, e in self.differences.items() if m not in self.not_judged):
            return None
        return not self.failing

    def judged_by(self, ceiling: str, ceiling_verdict: StemVerdict) -> StemVerdict:
        """This verdict judged only on the metrics ``ceiling`` (a row name) beats its control on."""
        not_judged = tuple(m for m in self.differences if m not in ceiling_verdict.passing)
        return replace(self, not_judged=not_judged, ceiling=ceiling)

    @property
    def text(self) -> str:
        if self.songs < MIN_SONGS:
            return f"not computed: the control needs at least {MIN_SONGS} songs"
        if self.uses_mixture is None:
            if self.ceiling is not None:
                return f"not computed: its ceiling, {self.ceiling}, beats its control on no metric"
            return "not computed: no metric scored two songs against both references"
        text = USES if self.uses_mixture else f"{DOES_NOT_USE} ({', '.join(self.failing)})"
        if self.not_judged:
            text += f"; not judged: {', '.join(self.not_judged)} ({self.ceiling} does not beat its control there)"
        return text

    def to_dict(self) -> dict[str, object]:
        return {
            "verdict": self.text,
            "uses_mixture": self.uses_mixture,
            "songs": self.songs,
            "ceiling": self.ceiling,
            "not_judged": list(self.not_judged),
            "differences": {m: vars(e) for m, e in self.differences.items()},
        }


def verdicts(
    matched: Mapping[str, Scores], mismatched: Mapping[str, Scores], higher_is_better: Mapping[str, bool]
) -> dict[str, StemVerdict]:
    """Per-song ``{song: {stem: {metric: value}}}`` of the separator and of its control, the
    control keyed by the song whose references it was scored against (:func:`by_reference`) ->
    ``{stem: verdict}`` for every stem the separator scored, in order."""
    songs = len(matched)
    differences: dict[str, dict[str, list[float]]] = {}
    for song, by_stem in matched.items():
        for stem, by_metric in by_stem.items():
            for metric, value in by_metric.items():
                control = mismatched.get(song, {}).get(stem, {}).get(metric, float("nan"))
                sign = 1.0 if higher_is_better.get(metric, True) else -1.0
                difference = sign * (value - control) if not (math.isnan(value) or math.isnan(control)) else float("nan")
                differences.setdefault(stem, {}).setdefault(metric, []).append(difference)
    return {
        stem: StemVerdict({metric: estimate(metric, values) for metric, values in by_metric.items()}, songs)
        for stem, by_metric in differences.items()
    }
