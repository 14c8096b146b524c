"""Codec evaluation (``tokensep eval codec``): the codec oracle (every stem encoded and decoded)
evaluated by the core evaluation (:func:`tokensep_core.evaluation.evaluate`) with its metrics and
aggregation rules, plus what only a codec has: bitrate, codebook health (ids used, dead entries,
perplexity, degenerate codebooks: tokensep_core.tokens.health) and encode/decode real-time factors,
per stem and over all stems.

Songs are first converted to the codec's sample rate (and channels, for a multi-channel codec),
so the codec is judged on the band it can represent.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from tokensep_codecs.inference import LoadedCodec, decode_long, encode_long, segment_frames
from tokensep_core.audio.channels import to_codec_items, unfold_channels
from tokensep_core.audio.io import convert
from tokensep_core.audio.length import fit_length
from tokensep_core.errors import ConfigError
from tokensep_core.evaluation import BuiltMetric, evaluate
from tokensep_core.evaluation.tables import (
    csv_text,
    evaluation_provenance,
    fmt,
    markdown_table,
    provenance_markdown,
    write_json,
    write_text,
)
from tokensep_core.interfaces import Codec, Song
from tokensep_core.metrics.aggregate import aggregate_tracks
from tokensep_core.separation.baselines import CodecOracle, CodecOracleConfig
from tokensep_core.tokens.health import (
    DEGENERATE_PERPLEXITY,
    code_histogram,
    codebook_perplexity,
    codebook_usage,
    describe_degenerate,
    histogram_health,
)

DEFAULT_METRICS: tuple[str, ...] = ("si_sdr", "mel_distance", "visqol")
ALL = "all"
"""Row label of the statistics over every stem."""


def bitrate_kbps(codec: Codec) -> float:
    """Bits per second of one audio channel: ``frame_rate × Σ_codebooks log2(codebook_size) / channels``."""
    return codec.frame_rate * codec.num_codebooks * math.log2(codec.codebook_size) / codec.channels / 1000


@dataclass
class StemResult:
    """One stem of one song."""

    song: str
    stem: str
    audio_seconds: float
    encode_seconds: float
    decode_seconds: float
    scores: dict[str, float]


@dataclass
class CodecEvaluation:
    """Everything ``evaluate_codec`` measured."""

    label: str
    codec: dict[str, Any]
    """Provenance (spec, checkpoint, weights checksum) and shape (rates, codebooks, bitrate)."""
    metrics: list[str]
    results: list[StemResult] = field(default_factory=list)
    histograms: dict[str, Tensor] = field(default_factory=dict)
    """``{stem: counts [K, V]}`` over every song."""
    issues: list[str] = field(default_factory=list)
    machine: dict[str, Any] = field(default_factory=dict)
    """Where the times were measured (the core evaluation's machine description)."""

    @property
    def stems(self) -> list[str]:
        return list(dict.fromkeys(r.stem for r in self.results))

    def histogram(self, stem: str) -> Tensor:
        """Counts ``[K, V]`` of one stem, or summed over every stem for :data:`ALL`."""
        return self.histograms[stem] if stem != ALL else torch.stack(list(self.histograms.values())).sum(0)

    def summary(self) -> dict[str, dict[str, float]]:
        """``{stem | "all": {metric (over songs, by the metric's rule: tokensep_core.metrics.aggregate),
        bitrate_kbps, usage, perplexity (means over codebooks), encode_rtf, decode_rtf}}``."""
        out = {}
        for stem in [*self.stems, ALL]:
            rows = [r for r in self.results if stem in (ALL, r.stem)]
            audio = sum(r.audio_seconds for r in rows)
            hist = self.histogram(stem)
            out[stem] = {
                **{m: aggregate_tracks(m, [r.scores.get(m, math.nan) for r in rows]) for m in self.metrics},
                "bitrate_kbps": self.codec["bitrate_kbps"],
                "usage": float(codebook_usage(hist).mean()),
                "perplexity": float(codebook_perplexity(hist).mean()),
                "encode_rtf": sum(r.encode_seconds for r in rows) / audio,
                "decode_rtf": sum(r.decode_seconds for r in rows) / audio,
            }
        return out

    def codebooks(self) -> list[dict[str, Any]]:
        """Health of each codebook over every stem: ``codebook, usage`` (fraction of ids used),
        ``perplexity, used, dead, degenerate`` (see tokensep_core.tokens.health)."""
        hist = self.histogram(ALL)
        return [
            {
                "codebook": h.codebook,
                "usage": h.used / hist.shape[1],
                "perplexity": h.perplexity,
                "used": h.used,
                "dead": h.dead,
                "degenerate": h.degenerate,
            }
            for h in histogram_health(hist)
        ]

    def degenerate_warning(self) -> str:
        """One line naming the degenerate codebooks over every stem, or '' when none is."""
        described = describe_degenerate(histogram_health(self.histogram(ALL)))
        if not described:
            return ""
        return (
            f"DEGENERATE CODES: {described} (perplexity < {DEGENERATE_PERPLEXITY:g}): "
            "these codebooks carry (almost) no information about the audio"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "codec": self.codec,
            "metrics": self.metrics,
            "summary": self.summary(),
            "codebooks": self.codebooks(),
            "degenerate_codebooks": [b["codebook"] for b in self.codebooks() if b["degenerate"]],
            "degenerate_warning": self.degenerate_warning() or None,
            "per_stem_codebooks": {
                stem: {"usage": codebook_usage(h).tolist(), "perplexity": codebook_perplexity(h).tolist()}
                for stem, h in self.histograms.items()
            },
            "results": [vars(r) for r in self.results],
            "issues": self.issues,
            "machine": self.machine,
        }


class MeasuredCodecOracle(CodecOracle):
    """The codec oracle, coding each stem in independent segments of whole code frames, timing
    its encode and decode and counting its codes per stem."""

    def __init__(self, codec: Codec, stems: Sequence[str], segment_seconds: float, device: torch.device) -> None:
        super().__init__(CodecOracleConfig(stems=tuple(stems), segment_seconds=segment_seconds, device=str(device)), codec)
        self.frames = segment_frames(codec, segment_seconds)
        self.results: list[StemResult] = []
        self.histograms: dict[str, Tensor] = {}
        self._song = ""

    def separate_song(self, song: Song) -> dict[str, Tensor]:
        self._song = song.name
        return super().separate_song(song)

    @torch.inference_mode()
    def reconstruct(self, wav: Tensor, sample_rate: int, stem: str = "") -> Tensor:
        """wav ``[C, T]`` -> codec round trip ``[C, T]``; records the stem's times and codes."""
        codec = self.codec
        items = to_codec_items(wav.unsqueeze(0).to(self.device, torch.float32), sample_rate, codec.sample_rate, codec.channels)
        codes, encode_seconds = _timed(encode_long, codec, items, self.frames)
        recon, decode_seconds = _timed(decode_long, codec, codes, self.frames)
        hist = code_histogram(codes, codec.codebook_size).cpu()
        self.histograms[stem] = self.histograms[stem] + hist if stem in self.histograms else hist
        self.results.append(StemResult(self._song, stem, items.shape[-1] / codec.sample_rate, encode_seconds, decode_seconds, {}))
        recon = recon[..., : items.shape[-1]].float()
        recon = unfold_channels(recon, wav.shape[0]) if codec.channels == 1 else recon
        return fit_length(convert(recon[0], codec.sample_rate, sample_rate, wav.shape[0]), wav.shape[-1]).to(wav.device, wav.dtype)


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    """(fn(*args), wall seconds), waiting for CUDA work to finish."""
    start = time.perf_counter()
    out = fn(*args)
    if isinstance(out, Tensor) and out.is_cuda:
        torch.cuda.synchronize(out.device)
    return out, time.perf_counter() - start


def at_codec_rate(songs: Iterable[Song], codec: Codec, stems: Sequence[str] | None, seconds: float | None) -> Iterator[Song]:
    """Each song (only ``stems``, the first ``seconds``) converted to the codec's rate, and to its
    channels unless the codec is mono (then every channel is coded as its own item)."""
    for song in songs:
        chosen = [s for s in (stems or song.stems) if s in song.stems]
        if not chosen:
            raise ConfigError(f"eval codec: song {song.name!r} has none of the stems {list(stems or [])} (it has {', '.join(song.stems)})")
        end = None if seconds is None else round(seconds * song.sample_rate)
        mixture = _at_rate(song.mixture[:, :end], song.sample_rate, codec)
        references = {s: _at_rate(song.stems[s][:, :end], song.sample_rate, codec) for s in chosen}
        yield Song(song.name, codec.sample_rate, mixture, references, song.metadata)


def _at_rate(wav: Tensor, sample_rate: int, codec: Codec) -> Tensor:
    """``[C, T]`` at ``sample_rate`` -> the codec's rate, and its channels unless it is mono."""
    return convert(wav.float(), sample_rate, codec.sample_rate, wav.shape[0] if codec.channels == 1 else codec.channels)


def evaluate_codec(
    loaded: LoadedCodec,
    songs: Iterable[Song],
    metrics: Sequence[BuiltMetric],
    stems: Sequence[str],
    seconds: float | None = None,
    segment_seconds: float = 30.0,
    label: str = "",
    total: int | None = None,
) -> CodecEvaluation:
    """Resynthesize ``stems`` of every song (``seconds``: only the first seconds of each song)
    and score them with the core :func:`~tokensep_core.evaluation.evaluate`; a metric that cannot
    score a stem gives NaN and a line in ``issues``."""
    codec = loaded.codec
    device = next(iter(codec.parameters()), torch.empty(0)).device
    oracle = MeasuredCodecOracle(codec, stems, segment_seconds, device)
    scored = evaluate(
        oracle, at_codec_rate(songs, codec, stems, seconds), metrics, label=label or loaded.spec.name, total=total, controls=False
    )
    if not oracle.results:
        raise ConfigError("eval codec: no songs to evaluate")
    by_song = scored.song_scores()
    for result in oracle.results:
        result.scores = by_song[result.song][result.stem]
    return CodecEvaluation(
        label=scored.separator,
        codec={
            **loaded.describe(),
            "sample_rate": codec.sample_rate,
            "channels": codec.channels,
            "frame_rate": codec.frame_rate,
            "num_codebooks": codec.num_codebooks,
            "codebook_size": codec.codebook_size,
            "bitrate_kbps": bitrate_kbps(codec),
        },
        metrics=[m.name for m in metrics],
        results=oracle.results,
        histograms=oracle.histograms,
        issues=scored.issues,
        machine=scored.machine,
    )


SUMMARY_COLUMNS: dict[str, tuple[str, int]] = {
    "si_sdr": ("SI-SDR (dB)", 2),
    "mel_distance": ("mel distance", 3),
    "visqol": ("ViSQOL", 3),
    "bitrate_kbps": ("kbps/channel", 2),
    "usage": ("codebook usage", 3),
    "perplexity": ("perplexity", 1),
    "encode_rtf": ("encode RTF", 4),
    "decode_rtf": ("decode RTF", 4),
}


def summary_rows(evaluation: CodecEvaluation) -> tuple[list[str], list[list[Any]]]:
    """Header ``stem, <metrics>, bitrate_kbps, usage, perplexity, encode_rtf, decode_rtf`` and
    one row per stem, then the ``all`` row."""
    summary = evaluation.summary()
    keys = list(next(iter(summary.values())))
    return ["stem", *keys], [[stem, *(values[k] for k in keys)] for stem, values in summary.items()]


def to_markdown(evaluation: CodecEvaluation, provenance: dict[str, Any] | None = None) -> str:
    """``summary.md``: the summary and codebook tables, then ``provenance``'s block
    (:func:`~tokensep_core.evaluation.tables.evaluation_provenance`) when given."""
    header, rows = summary_rows(evaluation)
    titles = [SUMMARY_COLUMNS.get(k, (k, 3)) for k in header[1:]]
    table = markdown_table(["stem", *(t for t, _ in titles)], [[r[0], *(fmt(v, d) for v, (_, d) in zip(r[1:], titles))] for r in rows])
    codec = evaluation.codec
    lines = [
        f"# Codec evaluation: {evaluation.label}",
        "",
        f"{codec['spec']['name']}: {codec['sample_rate']} Hz, {codec['frame_rate']:g} Hz frames, {codec['num_codebooks']} codebooks x {codec['codebook_size']}; "
        f"weights: {codec['checkpoint'] or 'untrained'}; {len({r.song for r in evaluation.results})} songs.",
        "",
        table,
        "Usage: fraction of a codebook's codes used; perplexity: exp(entropy) of its code histogram (both means over codebooks). "
        "RTF: wall time / audio duration.",
        "",
        "## Codebooks (every stem)",
        "",
        codebook_table(evaluation),
        f"Used: distinct ids of {codec['codebook_size']}; dead: ids never used; degenerate: perplexity < {DEGENERATE_PERPLEXITY:g} "
        "(less than one bit per frame).",
    ]
    warning = evaluation.degenerate_warning()
    if warning:
        lines[1:1] = ["", f"**WARNING: {warning}.**"]
    if evaluation.issues:
        lines += ["", f"{len(evaluation.issues)} score(s) not computed (see results.json)."]
    return "\n".join(lines) + "\n" + (provenance_markdown(provenance) if provenance else "")


def codebook_table(evaluation: CodecEvaluation) -> str:
    """Markdown table of :meth:`CodecEvaluation.codebooks`, a degenerate one marked ``DEGENERATE``."""
    rows = [
        [b["codebook"], b["used"], b["dead"], fmt(b["perplexity"], 2), "DEGENERATE" if b["degenerate"] else "ok"]
        for b in evaluation.codebooks()
    ]
    return markdown_table(["codebook", "ids used", "dead", "perplexity", "health"], rows)


def write_codec_evaluation(evaluation: CodecEvaluation, out_dir: str | Path, command: str = "") -> dict[str, Path]:
    """``results.json``, ``summary.csv``, ``summary.md``, ``scores.csv`` (per song and stem) and
    ``codebooks.csv`` in ``out_dir``, each written atomically; -> their paths by name.
    ``results.json`` and ``summary.md`` carry the evaluation's provenance (``command``: the command line)."""
    out = Path(out_dir)
    provenance = evaluation_provenance(command, evaluation.machine)
    header, rows = summary_rows(evaluation)
    score_rows = [
        [r.song, r.stem, *(r.scores[m] for m in evaluation.metrics), r.audio_seconds, r.encode_seconds, r.decode_seconds]
        for r in evaluation.results
    ]
    books = evaluation.codebooks()
    return {
        "results.json": write_json(out / "results.json", {**evaluation.to_dict(), **provenance}),
        "summary.csv": write_text(out / "summary.csv", csv_text(header, rows)),
        "summary.md": write_text(out / "summary.md", to_markdown(evaluation, provenance)),
        "scores.csv": write_text(
            out / "scores.csv",
            csv_text(["song", "stem", *evaluation.metrics, "audio_seconds", "encode_seconds", "decode_seconds"], score_rows),
        ),
        "codebooks.csv": write_text(out / "codebooks.csv", csv_text(list(books[0]), [list(b.values()) for b in books])),
    }
