"""Does a trained codec render pitch? Pure sines (and a song's stems) through encode -> decode.

A codec that separates well must at least resynthesise a tone at its own frequency, and give
different songs' stems different outputs. This prints, per input sine, the strongest output
frequency and the level in/out, and per stem of the first songs of a folder the codec oracle's
input dependence (how much the resynthesised stems differ between songs relative to how much
the stems do; ~0: one output for every song).

    python benchmarks/codec_tones.py CODEC_CONFIG CHECKPOINT [--songs DIR] [--n 6]

CODEC_CONFIG: a YAML file with a ``codec:`` section (e.g. benchmarks/separator_small/codec.yaml);
CHECKPOINT: a codec training checkpoint or run directory.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
from pathlib import Path

import soundfile as sf
import torch
import yaml

from tokensep_core.evaluation.controls import MismatchedControl, input_dependence
from tokensep_core.evaluation.machine import describe_machine, machine_line
from tokensep_core.plugins import load_registry
from tokensep_core.training.checkpoint import load_codec_checkpoint

FREQUENCIES = (55.0, 82.0, 110.0, 220.0, 440.0, 880.0, 1760.0)
STEMS = ("vocals", "drums", "bass", "other")


@torch.inference_mode()
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", type=Path)
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--songs", type=Path, default=None, help="a folder of song folders with STEM.wav files")
    parser.add_argument("--n", type=int, default=6, help="songs read from --songs (default 6)")
    args = parser.parse_args()
    folders: list[Path] = []
    if args.songs is not None:
        folders = sorted(p for p in args.songs.iterdir() if p.is_dir() and all((p / f"{s}.wav").is_file() for s in STEMS))[: args.n]
        if len(folders) < 2:
            raise SystemExit(f"--songs {args.songs}: needs at least 2 song folders with {', '.join(STEMS)}.wav (found {len(folders)})")
    codec = load_registry().build("codec", yaml.safe_load(args.config.read_text())["codec"])
    load_codec_checkpoint(codec, args.checkpoint)
    codec.eval()
    rate = codec.sample_rate
    print(f"command: python {' '.join(shlex.quote(a) for a in sys.argv)}")
    print(f"machine: {machine_line(describe_machine(torch.device('cpu')))}\n")
    print("| sine in (Hz) | strongest output (Hz) | rms in | rms out |\n|---|---|---|---|")
    t = torch.arange(2 * rate) / rate
    for frequency in FREQUENCIES:
        tone = 0.1 * torch.sin(2 * math.pi * frequency * t)
        out = codec.decode(codec.encode(tone.reshape(1, 1, -1).expand(1, codec.channels, -1)))[0, 0, : tone.shape[-1]]
        peak = float(torch.fft.rfft(out).abs().argmax()) * rate / out.shape[-1]
        print(f"| {frequency:g} | {peak:.0f} | {tone.pow(2).mean().sqrt():.3f} | {out.pow(2).mean().sqrt():.3f} |")
    if folders:
        print(f"\nCodec oracle input dependence over {len(folders)} songs of {args.songs} (first 3 s, first channel):\n")
        control = MismatchedControl(lambda *_: {})  # only its input-dependence spread is read
        for folder in folders:
            references, outputs = {}, {}
            for stem in STEMS:
                audio, song_rate = sf.read(str(folder / f"{stem}.wav"), always_2d=True, dtype="float32")
                if song_rate != rate:
                    raise SystemExit(f"{folder}: {song_rate} Hz, the codec runs at {rate} Hz")
                x = torch.from_numpy(audio[: 3 * rate, 0].copy())
                references[stem] = x.unsqueeze(0)
                outputs[stem] = codec.decode(codec.encode(x.reshape(1, 1, -1).expand(1, codec.channels, -1)))[0, :1, : x.shape[-1]]
            control.add(folder.name, references, outputs)
        control.finish()
        print("| stem | input dependence |\n|---|---|")
        for stem, value in input_dependence([control]).items():
            print(f"| {stem} | {value:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
