"""Drum kits for the drum stem of ``tokensep data midi``: a song's drums come from its soundfont's
GM kit, or from a recorded kit given as

- a SoundFont (``.sf2``/``.sf3``) holding a drum kit. A kit on bank 128 (a GM drum bank) plays on
  MIDI channel 10 as usual; a kit on bank 0 (AVL Drumkits: one preset, bank 0, program 0, GM note
  map) would be silent there, so its notes go to a melodic channel with that preset;
- a Hydrogen kit folder (``drumkit.xml`` + one-shots): the hits are placed by
  :mod:`~tokensep_core.data.hydrogen_render`, GM notes mapped onto its pieces by name
  (:mod:`~tokensep_core.data.gm_drums`).
"""

from __future__ import annotations

import functools
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf

from tokensep_core.data.gm_drums import gm_note_map, missing_core
from tokensep_core.data.hydrogen_kit import HydrogenKit, read_drumkit
from tokensep_core.data.hydrogen_render import render_hits
from tokensep_core.data.soundfont import fluidsynth_render
from tokensep_core.errors import TokensepError

SOUNDFONT_SUFFIXES = (".sf2", ".sf3")
DRUM_BANK = 128


@dataclass(frozen=True)
class SoundfontKit:
    """A SoundFont drum kit: its file, and the bank/preset its drum notes play on."""

    path: Path
    bank: int
    preset: int
    drum_presets: frozenset[int]  # presets on bank 128, where the song's own GM kit number is kept if present


@dataclass(frozen=True)
class SampleKit:
    """A Hydrogen kit and its GM note -> piece index map."""

    kit: HydrogenKit
    note_map: dict[int, int]


DrumKit = SoundfontKit | SampleKit


def soundfont_presets(path: Path) -> list[tuple[int, int]]:
    """``(bank, preset)`` of every preset in a SoundFont file (its ``pdta/phdr`` chunk)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise TokensepError(f"{path}: cannot read ({err.strerror or err})") from None
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        raise TokensepError(f"{path}: not a SoundFont file (no RIFF sfbk header)")
    position = 12
    while position + 12 <= len(data):
        chunk, size = data[position : position + 4], struct.unpack_from("<I", data, position + 4)[0]
        if chunk == b"LIST" and data[position + 8 : position + 12] == b"pdta":
            inner, end = position + 12, min(position + 8 + size, len(data))
            while inner + 8 <= end:
                name, length = data[inner : inner + 4], struct.unpack_from("<I", data, inner + 4)[0]
                if name == b"phdr":
                    count = length // 38 - 1  # the last record is the terminal "EOP"
                    records = [struct.unpack_from("<20sHH", data, inner + 8 + 38 * k) for k in range(max(count, 0))]
                    return [(bank, preset) for _, preset, bank in records]
                inner += 8 + length + (length & 1)
        position += 8 + size + (size & 1)
    raise TokensepError(f"{path}: damaged SoundFont (no preset headers)")


def _soundfont_kit(path: Path) -> SoundfontKit:
    presets = soundfont_presets(path)
    drums = sorted(preset for bank, preset in presets if bank == DRUM_BANK)
    if drums:
        return SoundfontKit(path, DRUM_BANK, drums[0], frozenset(drums))
    melodic = sorted(preset for bank, preset in presets if bank == 0)
    if not melodic:
        raise TokensepError(f"{path}: no preset on bank 0 or 128 to play drums with")
    return SoundfontKit(path, 0, melodic[0], frozenset())


def _sample_kit(path: Path) -> SampleKit | None:
    kit = read_drumkit(path)
    readable = []
    for instrument in kit.instruments:
        layers = tuple(layer for layer in instrument.layers if _readable(layer.file))
        if layers:
            readable.append(type(instrument)(instrument.name, instrument.gain, instrument.pan, instrument.mute_group, layers))
    if not readable:
        raise TokensepError(f"{path}: no usable samples (no instrument has a readable sample file)")
    kit = HydrogenKit(kit.name, kit.folder, kit.licence, tuple(readable))
    names = [instrument.name for instrument in kit.instruments]
    lacking = missing_core(names)
    if lacking:
        print(f"tokensep: warning: drum kit {path} skipped: no {' or '.join(lacking)} among {', '.join(names)}", file=sys.stderr)
        return None
    return SampleKit(kit, gm_note_map(names))


def _readable(file: Path) -> bool:
    try:
        return sf.info(str(file)).frames > 0
    except (sf.LibsndfileError, RuntimeError, ValueError):
        return False


@functools.lru_cache(maxsize=64)
def load_drum_kit(path: Path) -> DrumKit | None:
    """The kit at ``path`` (a SoundFont, or a Hydrogen kit folder or ``drumkit.xml``); None for a
    Hydrogen kit without a kick or a snare (a warning names it). Missing paths, unreadable files and
    kits without any readable sample raise :class:`TokensepError` naming the file."""
    if not path.exists():
        raise TokensepError(f"drum kit {path} not found")
    if path.suffix.lower() in SOUNDFONT_SUFFIXES:
        return _soundfont_kit(path)
    return _sample_kit(path)


def usable_drum_kits(paths: list[str | Path]) -> list[Path]:
    """The kits among ``paths`` (resolved) that can play a GM drum part; raises if none can."""
    kits = [Path(p).resolve() for p in paths]
    usable = [kit for kit in kits if load_drum_kit(kit) is not None]
    if kits and not usable:
        raise TokensepError(f"none of the drum kits has a kick and a snare ({', '.join(map(str, kits))})")
    return usable


def kit_label(kit: Path | None, soundfont: Path) -> str:
    """How a song's drum kit is named in the manifest: the kit's file or folder name, or the
    song's soundfont's name when its GM kit plays."""
    if kit is None:
        return soundfont.name
    return kit.parent.name if kit.name == "drumkit.xml" else kit.name


def render_drum_stem(
    parts: list[pretty_midi.Instrument], kit_path: Path | None, soundfont: Path, base: Path, n: int, sample_rate: int, program: str
) -> np.ndarray:
    """The drum parts (already cut to the excerpt) played by ``kit_path``, or by ``soundfont``'s GM
    kit when it is None -> stereo float32 ``[2, n]``."""
    kit = load_drum_kit(kit_path) if kit_path is not None else None
    if kit is None and kit_path is not None:
        raise TokensepError(f"drum kit {kit_path} has no kick or snare")
    if isinstance(kit, SampleKit):
        notes = [note for part in parts for note in part.notes]
        return render_hits(kit.kit, kit.note_map, notes, n, sample_rate)
    midi = pretty_midi.PrettyMIDI()
    midi.instruments = [_for_kit(part, kit) for part in parts]
    return fluidsynth_render(midi, base, n, sample_rate, program, kit.path if kit is not None else soundfont)


def _for_kit(part: pretty_midi.Instrument, kit: SoundfontKit | None) -> pretty_midi.Instrument:
    """A drum part routed to the kit's bank and preset (see the module doc)."""
    if kit is None:
        return part
    if kit.bank == DRUM_BANK:
        routed = pretty_midi.Instrument(part.program if part.program in kit.drum_presets else kit.preset, is_drum=True, name=part.name)
    else:
        routed = pretty_midi.Instrument(kit.preset, is_drum=False, name=part.name)
    routed.notes = list(part.notes)
    return routed
