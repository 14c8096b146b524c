"""Playing a drum part with a Hydrogen kit's one-shots: each hit places its piece's sample at the
hit's sample position, the layer picked by velocity and the sample scaled by velocity (as Hydrogen
does) x the layer's and the instrument's gains, panned by the instrument's channel gains. Samples
are resampled to the output rate (with the layer's pitch offset) and made stereo. A hit cuts off
the sound of an earlier hit in the same mute group (an open hi-hat closed by the pedal), with a
short fade.
"""

from __future__ import annotations

import functools
from fractions import Fraction
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile as sf
from scipy.signal import resample_poly

from tokensep_core.data.hydrogen_kit import HydrogenKit, pick_layer
from tokensep_core.errors import TokensepError

CHOKE_FADE_SECONDS = 0.005


@functools.lru_cache(maxsize=1024)
def layer_audio(file: Path, pitch: float, sample_rate: int) -> np.ndarray:
    """A one-shot at ``sample_rate``, raised by ``pitch`` semitones -> float32 ``[2, m]`` (mono
    doubled, channels beyond two dropped)."""
    try:
        data, rate = sf.read(str(file), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        raise TokensepError(f"{file}: not a readable drum sample ({err})") from None
    audio = data.T[:2] if data.shape[1] >= 2 else np.repeat(data.T, 2, axis=0)
    ratio = Fraction(sample_rate / (rate * 2 ** (pitch / 12))).limit_denominator(1000)
    if ratio != 1:
        audio = resample_poly(audio, ratio.numerator, ratio.denominator, axis=1)
    return np.ascontiguousarray(audio, dtype=np.float32)


def render_hits(kit: HydrogenKit, note_map: dict[int, int], notes: list[pretty_midi.Note], n: int, sample_rate: int) -> np.ndarray:
    """GM drum ``notes`` (start in seconds from 0) played by ``kit``, pieces chosen by
    ``note_map`` (GM note -> index into ``kit.instruments``; unmapped notes are not played)
    -> float32 ``[2, n]``."""
    out = np.zeros((2, n), np.float32)
    hits = sorted((round(note.start * sample_rate), note_map[note.pitch], note.velocity / 127) for note in notes if note.pitch in note_map)
    fade = max(1, round(CHOKE_FADE_SECONDS * sample_rate))
    for i, (start, piece, velocity) in enumerate(hits):
        if not 0 <= start < n:
            continue
        instrument = kit.instruments[piece]
        layer = pick_layer(instrument, velocity)
        audio = layer_audio(layer.file, layer.pitch, sample_rate)
        length = min(audio.shape[1], n - start)
        envelope = np.ones(length, np.float32)
        if instrument.mute_group >= 0:
            choke = next((s for s, p, _ in hits[i + 1 :] if s > start and kit.instruments[p].mute_group == instrument.mute_group), None)
            if choke is not None and choke - start < length:
                cut = choke - start
                envelope[cut:] = 0.0
                envelope[cut : cut + fade] = np.linspace(1.0, 0.0, fade, dtype=np.float32)[: max(0, length - cut)]
        gain = np.asarray(instrument.pan, np.float32)[:, None] * np.float32(velocity * layer.gain * instrument.gain)
        out[:, start : start + length] += audio[:, :length] * envelope * gain
    return out
