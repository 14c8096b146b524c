"""``tokensep data synth``, ``data midi`` and ``data corpus``: write a multitrack dataset (synthetic
songs; excerpts of MIDI compositions rendered with soundfonts; those of the issue-19 corpus's
Debian packages)."""

from __future__ import annotations

import argparse

from tokensep_core.data.corpus import build_corpus
from tokensep_core.data.midi_dataset import MidiSummary, write_midi_dataset
from tokensep_core.data.mixing import STEM_GAIN_RANGES_DB
from tokensep_core.data.sung_speech import VOWELS
from tokensep_core.data.vocal_production import VOCAL_PRODUCTIONS
from tokensep_core.data.writer import write_synthetic_dataset
from tokensep_core.plugins import load_registry


def add_synth_arguments(synth: argparse.ArgumentParser) -> None:
    synth.add_argument("out", metavar="OUT", help="output folder (OUT/{train,test}/SONG/{mixture,vocals,drums,bass,other}.wav)")
    synth.add_argument("--songs", type=int, default=100, help="number of songs (default 100)")
    synth.add_argument("--seconds", type=float, default=10.0, help="length of each song (default 10)")
    synth.add_argument("--sample-rate", type=int, default=44100, help="sample rate in Hz (default 44100)")
    synth.add_argument("--seed", type=int, default=0, help="dataset seed; the same seed gives the same songs (default 0)")
    synth.add_argument("--renderer", default="procedural", help="registered renderer: procedural (default), soundfont, ...")
    synth.add_argument("--test-fraction", type=float, default=0.2, help="share of songs in the test split (default 0.2)")
    synth.add_argument(
        "--workers", type=int, default=1, help="processes rendering songs in parallel (default 1); the songs do not depend on it"
    )
    synth.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_synth(args: argparse.Namespace) -> int:
    renderer = load_registry().build("renderer", args.renderer, source="--renderer")
    summary = write_synthetic_dataset(
        args.out,
        args.songs,
        args.seconds,
        args.sample_rate,
        args.seed,
        renderer,
        test_fraction=args.test_fraction,
        renderer_name=args.renderer,
        progress=not args.no_progress,
        workers=args.workers,
    )
    print(
        f"{args.out}: {summary.written} songs written, {summary.skipped} already there "
        f"(train {summary.splits['train']}, test {summary.splits['test']}; {args.seconds:g} s at {args.sample_rate} Hz, renderer {args.renderer})"
    )
    return 0


def _add_excerpt_arguments(parser: argparse.ArgumentParser, excerpts: int, test_help: str, audio_format: str) -> None:
    """The rendering flags ``data midi`` and ``data corpus`` share."""
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each excerpt (default 10)")
    parser.add_argument("--sample-rate", type=int, default=44100, help="sample rate in Hz (default 44100)")
    parser.add_argument("--excerpts", type=int, default=excerpts, help=f"excerpts per MIDI file at most (default {excerpts})")
    parser.add_argument("--test-fraction", type=float, default=0.1, help=f"{test_help} (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="dataset seed: excerpts, soundfonts, mixing (default 0)")
    parser.add_argument("--workers", type=int, default=1, help="processes rendering songs in parallel (default 1)")
    parser.add_argument(
        "--format",
        dest="audio_format",
        choices=("wav", "flac"),
        default=audio_format,
        help=f"song files: 32-bit float .wav, or 24-bit .flac at about 40 %% of the size (default {audio_format})",
    )
    parser.add_argument(
        "--vocal-production",
        choices=VOCAL_PRODUCTIONS,
        default="studio",
        help="the lead vocal as rendered (dry: every corpus built before 2026-11-28's twenty-fifth session), or through a "
        "studio chain drawn per song: high-pass, compression, a stereo room, sometimes an echo (default studio)",
    )
    parser.add_argument(
        "--sung-vowels",
        choices=VOWELS,
        default="held",
        help="a recorded voice holds each syllable's vowel through its note and glides legato notes into each other "
        "(held), or stretches the whole syllable over the note (stretched: every corpus built before 2026-11-28's "
        "twenty-sixth session) (default held)",
    )
    low, high = STEM_GAIN_RANGES_DB["vocals"]
    parser.add_argument(
        "--vocal-gain-db",
        type=float,
        nargs=2,
        metavar=("LOW", "HIGH"),
        default=(low, high),
        help="range each song's vocal gain is drawn from, in dB on unit-RMS stems (drums, bass and other keep theirs); "
        f"lower it for quieter voices: the songs, their other stems and the draws stay the same (default {low:g} {high:g})",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _excerpt_options(args: argparse.Namespace) -> dict:
    return dict(
        seconds=args.seconds,
        sample_rate=args.sample_rate,
        excerpts=args.excerpts,
        test_fraction=args.test_fraction,
        seed=args.seed,
        workers=args.workers,
        progress=not args.no_progress,
        audio_format=args.audio_format,
        vocal_production=args.vocal_production,
        sung_vowels=args.sung_vowels,
        vocal_gain_db=tuple(args.vocal_gain_db),
    )


def _print_midi_summary(args: argparse.Namespace, summary: MidiSummary) -> int:
    print(
        f"{args.out}: {summary.written} songs written, {summary.skipped} already there, from {summary.files} MIDI files "
        f"(train {summary.splits['train']}, test {summary.splits['test']}; {args.seconds:g} s at {args.sample_rate} Hz)"
    )
    return 0


def add_midi_arguments(midi: argparse.ArgumentParser) -> None:
    midi.add_argument("out", metavar="OUT", help="output folder (OUT/{train,test}/SONG/{mixture,vocals,drums,bass,other}.wav)")
    midi.add_argument("sources", metavar="SOURCE", nargs="+", help="MIDI files, or folders searched for *.mid / *.midi")
    midi.add_argument(
        "--soundfont",
        action="append",
        default=None,
        help="a .sf2/.sf3 soundfont (repeatable: each song draws one; default: the GM soundfont)",
    )
    midi.add_argument(
        "--drum-kit",
        dest="drum_kits",
        action="append",
        default=None,
        metavar="KIT",
        help="a recorded drum kit: a .sf2/.sf3 drum soundfont or a Hydrogen kit folder (repeatable: each song's drums draw "
        "one of them or the song soundfont's GM kit; default: the GM kit only)",
    )
    midi.add_argument(
        "--voice",
        dest="voices",
        action="append",
        default=None,
        metavar="DIR",
        help="a folder of recorded speech clips (repeatable: each song's lead is sung by one of them, its speech set to the "
        "notes, or by the synthetic singer; default: the synthetic singer only)",
    )
    _add_excerpt_arguments(midi, 4, "share of MIDI files whose excerpts form the test split", "wav")


def run_midi(args: argparse.Namespace) -> int:
    summary = write_midi_dataset(
        args.out, args.sources, soundfonts=args.soundfont, drum_kits=args.drum_kits, voices=args.voices, **_excerpt_options(args)
    )
    return _print_midi_summary(args, summary)


def add_corpus_arguments(corpus: argparse.ArgumentParser) -> None:
    corpus.add_argument("out", metavar="OUT", help="output folder (the data midi layout, plus OUT/licences/)")
    corpus.add_argument("--cache", default=None, help="where packages are downloaded and unpacked (default: .OUT-sources beside OUT)")
    _add_excerpt_arguments(corpus, 8, "share of MIDI files held out as test songs", "flac")


def run_corpus(args: argparse.Namespace) -> int:
    return _print_midi_summary(args, build_corpus(args.out, cache=args.cache, **_excerpt_options(args)))
