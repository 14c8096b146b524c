"""Recorded speech sung to the lead line of ``data midi``: voiced units cut from the clips, each
note's pitch imposed (checked with an autocorrelation tracker of the test's own), units placed
from note onset to note end, the per-song voice draw, resume and the errors for bad voices."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

from tokensep_core.cli.main import main
from tokensep_core.data import midi_dataset, speech_units, sung_speech
from tokensep_core.data.score import Note
from tokensep_core.data.voice_sources import decode_clip, usable_voices
from tokensep_core.errors import TokensepError

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="the fluidsynth program is not installed (scripts/setup.sh installs it)"
)
SR = 16000

# synthetic "speech": words of a harmonic source with a wandering pitch through moving formant
# resonances, pauses between words
FORMANTS = ((700, 1200, 2600), (400, 2000, 2800), (300, 900, 2300), (600, 1000, 2500))


def _resonator(x: np.ndarray, freq: float, bandwidth: float, rate: int) -> np.ndarray:
    r = np.exp(-np.pi * bandwidth / rate)
    a = [1.0, -2 * r * np.cos(2 * np.pi * freq / rate), r * r]
    return lfilter([1 - r], a, x)


def word(rng: np.random.Generator, rate: int, seconds: float, f0: float) -> np.ndarray:
    """One word ``[T]``: pitch wandering around ``f0``, two vowels with a formant move between."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    pitch = f0 * 2 ** (0.15 * np.sin(2 * np.pi * rng.uniform(1, 3) * t) - 0.2 * t / seconds)
    phase = 2 * np.pi * np.cumsum(pitch) / rate
    source = sum(np.sin(k * phase) / k for k in range(1, int(rate / 2 / (f0 * 1.3))))
    first, second = rng.choice(len(FORMANTS), 2, replace=False)
    out = np.zeros(n)
    half = n // 2
    for a, b, vowel in ((0, half, first), (half, n, second)):
        for freq, gain in zip(FORMANTS[vowel], (1.0, 0.5, 0.25)):
            out[a:b] += gain * _resonator(source[a:b], freq, 100, rate)
    dip = 1 - 0.9 * np.exp(-(((t - seconds / 2) / 0.02) ** 2))  # a syllable boundary mid-word
    envelope = np.minimum(1.0, np.minimum(t, seconds - t) / 0.02) * dip
    return out * envelope


def speech_clip(path: Path, rng: np.random.Generator, rate: int = 22050, words: int = 3, f0: float = 140.0) -> Path:
    """Write ``words`` words with 0.2-s pauses to ``path`` -> the path."""
    pause = np.zeros(int(0.2 * rate))
    pieces = [pause]
    for _ in range(words):
        pieces += [word(rng, rate, rng.uniform(0.35, 0.6), f0 * rng.uniform(0.9, 1.1)), pause]
    audio = np.concatenate(pieces) + 1e-4 * rng.standard_normal(sum(map(len, pieces)))
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), (0.5 * audio / np.abs(audio).max()).astype(np.float32), rate)
    return path


def _voice(folder: Path, clips: int = 3, rate: int = 22050, f0: float = 140.0) -> Path:
    rng = np.random.default_rng(7)
    for k in range(clips):
        speech_clip(folder / f"sub{k % 2}" / f"clip{k}.wav", rng, rate=rate, f0=f0)
    return folder


def _track(audio: np.ndarray, rate: int, centre: float, width: float = 0.04) -> float:
    """Pitch (Hz) of ``audio`` around ``centre`` s: the strongest normalised autocorrelation lag
    between 2 and 12.5 ms, refined by a parabola; 0 for a silent frame."""
    a = int((centre - width / 2) * rate)
    frame = audio[a : a + int(width * rate)] * np.hanning(int(width * rate))
    if np.abs(frame).max() < 1e-4:
        return 0.0
    corr = np.correlate(frame, frame, "full")[len(frame) - 1 :]
    corr = corr / corr[0]
    lo, hi = int(rate / 500), int(rate / 80)
    lag = lo + int(np.argmax(corr[lo:hi]))
    y0, y1, y2 = corr[lag - 1], corr[lag], corr[lag + 1]
    shift = 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2)
    return rate / (lag + shift)


def _cents(audio: np.ndarray, note: Note, semitones: int = 0) -> float:
    """Median error (cents) of the tracked pitch over the note's middle (after its glide and
    before its fade), against the note moved by ``semitones``."""
    target = 440.0 * 2 ** ((note.pitch + semitones - 69) / 12)
    times = np.arange(note.start + 0.12, note.start + note.duration - 0.06, 0.01)
    tracked = np.array([_track(audio, SR, t) for t in times])
    assert (tracked > 0).all(), note
    return float(np.median(1200 * np.log2(tracked / target)))


def _notes() -> list[Note]:
    """A line in the fixture speaker's register (no octave shift), rests between phrases."""
    pitches = [52, 55, 57, 59, 55, 50, 57, 60]
    starts = [0.1, 0.6, 1.1, 1.6, 2.4, 2.9, 3.6, 4.1]
    return [Note(s, 0.45, p, 0.5 + 0.05 * k) for k, (s, p) in enumerate(zip(starts, pitches))]


def test_units_are_the_voiced_words_not_the_pauses(tmp_path):
    path = speech_clip(tmp_path / "a.wav", np.random.default_rng(0), words=3)
    audio, rate = decode_clip(path)
    units = speech_units.voiced_units(audio, rate)
    loud = np.abs(audio) > 0.01
    words = np.flatnonzero(np.diff(np.concatenate([[0], loud, [0]])))  # edges of the loud stretches
    assert len(units) >= 3
    for unit in units:
        assert unit.end - unit.start >= speech_units.MIN_UNIT and 100 < unit.f0 < 200
        middle = int((unit.start + unit.end) / 2 * rate)
        assert loud[middle - 50 : middle + 50].any(), unit  # inside a word, not a pause
    assert units[0].start >= words[0] / rate - speech_units.LEAD_IN - 0.02  # nothing from the leading pause
    assert units[-1].end <= words[-1] / rate + 0.02


@pytest.mark.parametrize("vowels", sung_speech.VOWELS)
def test_each_note_is_sung_at_its_pitch(tmp_path, vowels):
    clips = sorted(_voice(tmp_path / "voice").rglob("*.wav"))
    notes = _notes()
    out = sung_speech.sing(notes, clips, 5 * SR, SR, np.random.default_rng(3), vowels)
    errors = [_cents(out.astype(float), note) for note in notes]
    assert max(abs(e) for e in errors) < 30, errors
    assert np.array_equal(out, sung_speech.sing(notes, clips, 5 * SR, SR, np.random.default_rng(3), vowels))  # deterministic


def _unit(rate: int = SR) -> tuple[np.ndarray, float, float]:
    """A syllable ``[T]``: 40 ms of noise (the onset consonant), then a voice at constant loudness
    whose two formants glide for 120 ms into a vowel held 150 ms and glide 100 ms into a coda
    (additive harmonics under a moving formant envelope) -> (audio, voicing onset s, the vowel's
    centre s)."""
    onset, glide_in, vowel, glide_out = 0.04, 0.12, 0.15, 0.1
    t = np.arange(int((glide_in + vowel + glide_out) * rate)) / rate
    turns = [0, glide_in, glide_in + vowel, t[-1]]
    first, second = np.interp(t, turns, [300, 750, 750, 350]), np.interp(t, turns, [2200, 1150, 1150, 800])
    harmonics = np.arange(1, 40)[:, None] * 140.0  # [K, 1] Hz
    gains = 1 / (1 + ((harmonics - first) / 80) ** 2) + 0.5 / (1 + ((harmonics - second) / 120) ** 2)  # [K, T]
    gains /= np.sqrt((gains**2).sum(axis=0))
    voiced = (gains * np.sin(2 * np.pi * harmonics * t)).sum(axis=0)
    noise = 0.05 * np.random.default_rng(0).standard_normal(int(onset * rate))
    return np.concatenate([noise, voiced / np.abs(voiced).max()]), onset, onset + glide_in + vowel / 2


def test_the_held_nucleus_is_the_steady_vowel_and_only_it_stretches():
    audio, voiced, centre = _unit()
    start, end = sung_speech.nucleus(audio, SR, voiced)
    assert start <= centre <= end and voiced + 0.08 < start and end < voiced + 0.12 + 0.15 + 0.04
    length = len(audio) / SR
    source, output = sung_speech.time_map(length, voiced, 2.0, (start, end))
    assert output[-1] == pytest.approx(2.0) and list(source) == pytest.approx([0, voiced, start, end, length])
    natural = np.diff(source)
    assert np.diff(output)[[0, 1, 3]] == pytest.approx(natural[[0, 1, 3]])  # consonants and glides at their speed
    assert np.diff(output)[2] > 10 * natural[2]  # the vowel fills the note
    short = sung_speech.time_map(length, voiced, 0.3, (start, end))[1]  # the edges would take more than half of the note
    assert short[-1] == pytest.approx(0.3) and short[2] + (short[4] - short[3]) == pytest.approx(0.15)
    # the stretched mode keeps only the lead-in and stretches the voiced part alike
    assert list(sung_speech.time_map(length, voiced, 2.0, None)[1]) == pytest.approx([0, voiced, 2.0])


def test_a_held_note_keeps_its_vowel_where_a_stretched_one_drags_the_glides():
    audio, voiced, _ = _unit()
    rate, note = SR, Note(0.0, 1.5, 57, 1.0)
    contour = np.full(int(note.duration / sung_speech.POINT_STEP) + 2, 57.0)
    first_formant = []
    for held in (sung_speech.nucleus(audio, rate, voiced), None):
        source, output = sung_speech.time_map(len(audio) / rate, voiced, note.duration, held)
        sung = sung_speech.psola(audio, rate, source, output, contour, sung_speech.POINT_STEP, 1)
        centroids = []  # spectral centroid below 1.5 kHz (the first formant's region) over the note's middle half
        for t in np.arange(0.4, 1.1, 0.05):
            frame = sung[int(t * rate) : int(t * rate) + 512] * np.hanning(512)
            power = np.abs(np.fft.rfft(frame)) ** 2
            freqs = np.fft.rfftfreq(512, 1 / rate)
            low = freqs < 1500
            centroids.append(float((freqs[low] * power[low]).sum() / power[low].sum()))
        first_formant.append(np.ptp(centroids))
    held_spread, stretched_spread = first_formant
    assert held_spread < 0.5 * stretched_spread, first_formant  # held: one vowel; stretched: the glides cross it


def test_a_note_many_times_its_syllable_is_sung_to_its_end_at_one_level():
    audio, voiced, _ = _unit()  # 0.41 s
    audio = audio * np.geomspace(0.1, 1.0, len(audio))  # a syllable that swells by 20 dB
    held = sung_speech.nucleus(audio, SR, voiced)
    source, output = sung_speech.time_map(len(audio) / SR, voiced, 2.5, held)
    contour = np.full(int(2.5 / sung_speech.POINT_STEP) + 2, 57.0)
    short = sung_speech.psola(audio, SR, source, output, contour, sung_speech.POINT_STEP, 1, full_length=False)
    assert len(short) / SR == pytest.approx(sung_speech.PRAAT_MAX_STRETCH * len(audio) / SR, abs=0.02)  # Praat's cap
    sung = sung_speech.psola(audio, SR, source, output, contour, sung_speech.POINT_STEP, 1)
    assert len(sung) / SR == pytest.approx(2.5, abs=0.02)
    assert _cents(sung.astype(float), Note(0.0, 2.5, 57, 1.0)) == pytest.approx(0, abs=30)

    def levels(x: np.ndarray) -> np.ndarray:  # dB of 0.1-s frames over the held vowel's middle
        a, b = int((output[2] + 0.1) * SR), int((output[3] - 0.1) * SR)
        frames = x[a : a + (b - a) // 1600 * 1600].reshape(-1, 1600)
        return 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)))

    steady = sung_speech.steady_level(sung, SR, output[2], output[3])
    assert np.ptp(levels(sung)) > 3.0 and np.ptp(levels(steady)) < 1.0  # the swell held through the note, then evened
    assert np.array_equal(steady[: int(output[2] * SR)], sung[: int(output[2] * SR)])  # the onset untouched


def test_stretched_units_stop_at_the_note_ends_and_held_ones_join_legato_notes(tmp_path):
    clips = sorted(_voice(tmp_path / "voice").rglob("*.wav"))
    notes = _notes()
    held = sung_speech.sing(notes, clips, 5 * SR, SR, np.random.default_rng(3))
    out = sung_speech.sing(notes, clips, 5 * SR, SR, np.random.default_rng(3), "stretched")
    assert out.dtype == np.float32 and out.shape == (5 * SR,)
    assert 0.05 < np.sqrt(np.mean(out**2)) and np.abs(out).max() <= 0.9 + 1e-6  # not silent, no clipping
    sounding = np.zeros(len(out), bool)
    for note in notes:
        a, b = round(note.start * SR), round((note.start + note.duration) * SR)
        sounding[a:b] = True
        assert np.abs(out[a + 1 : a + 80]).max() > 0, note  # sound from the onset (after the 5-ms fade-in starts)
        assert np.sqrt(np.mean(out[a + int(0.05 * SR) : b - int(0.05 * SR)] ** 2)) > 0.03, note
    assert not out[~sounding].any()  # silence before, between and after the notes
    phrase_ends = [n.start + n.duration for n, m in zip(notes, notes[1:]) if m.start - (n.start + n.duration) <= sung_speech.LEGATO_GAP]
    assert len(phrase_ends) == 5
    for end in phrase_ends:  # held: the 50-ms gap inside a phrase is a crossfade, not silence
        gap = held[round(end * SR) : round((end + 0.05) * SR)]
        assert not out[round(end * SR) : round((end + 0.05) * SR)].any() and np.sqrt(np.mean(gap**2)) > 0.01, end
    rests = [(n.start + n.duration, m.start) for n, m in zip(notes, notes[1:]) if m.start - (n.start + n.duration) > sung_speech.LEGATO_GAP]
    assert rests and all(not held[round(a * SR) : round(b * SR)].any() for a, b in rests)  # a rest stays silent


def test_a_high_line_moves_down_whole_octaves_to_the_speaker(tmp_path):
    clips = sorted(_voice(tmp_path / "voice").rglob("*.wav"))
    notes = [Note(n.start, n.duration, n.pitch + 24, n.velocity) for n in _notes()]
    assert sung_speech.octave_shift(notes, 140.0) == -2
    out = sung_speech.sing(notes, clips, 5 * SR, SR, np.random.default_rng(3)).astype(float)
    assert max(abs(_cents(out, note, -24)) for note in notes) < 30


def test_bad_voice_folders_and_clips(tmp_path, capsys):
    with pytest.raises(TokensepError, match=r"voice .*nowhere: no such folder"):
        usable_voices([tmp_path / "nowhere"])
    (tmp_path / "texts").mkdir()
    (tmp_path / "texts" / "readme.txt").write_text("no audio here")
    (tmp_path / "texts" / "broken.wav").write_bytes(b"RIFF not really")
    with pytest.raises(TokensepError, match=r"voice .*texts: no readable audio clip") as err:
        usable_voices([tmp_path / "texts"])
    assert "\n" not in str(err.value)
    assert "texts: 1 of 1 clips unreadable" in capsys.readouterr().err
    mixed = _voice(tmp_path / "mixed", clips=1)
    (mixed / "broken.wav").write_bytes(b"RIFF not really")
    assert usable_voices([mixed]) == [mixed.resolve()]
    assert "mixed: 1 of 2 clips unreadable, skipped (first: " in capsys.readouterr().err
    (tmp_path / "junk.g722").write_bytes(b"")  # left to ffmpeg: found at render time
    with pytest.raises(TokensepError, match=r"voice clip .*junk.g722"):
        sung_speech.sing(_notes(), [tmp_path / "junk.g722"], SR, SR, np.random.default_rng(0))


def _midi_files(folder: Path, count: int) -> list[Path]:
    import pretty_midi

    folder.mkdir()
    files = []
    for i in range(count):
        midi = pretty_midi.PrettyMIDI()
        drums, bass, lead = pretty_midi.Instrument(0, is_drum=True), pretty_midi.Instrument(33), pretty_midi.Instrument(73)
        for k in range(32):  # 8 s
            t = k * 0.25
            drums.notes.append(pretty_midi.Note(100, (36, 38)[k % 2], t, t + 0.1))
            bass.notes.append(pretty_midi.Note(90, 36, t, t + 0.2))
            lead.notes.append(pretty_midi.Note(90, (60, 62, 64, 65)[k % 4], t, t + 0.2))
        midi.instruments = [drums, bass, lead]
        files.append(folder / f"song{i}.mid")
        midi.write(str(files[-1]))
    return files


def test_the_voice_draw_leaves_the_rest_of_the_plan_unchanged(tmp_path):
    files = _midi_files(tmp_path / "midi", 10)
    voices = [_voice(tmp_path / "v1", clips=2).resolve(), _voice(tmp_path / "v2", clips=12).resolve()]
    fonts = [tmp_path / "a.sf2", tmp_path / "b.sf2"]
    plain = midi_dataset.plan_midi_songs(files, 2.0, 2, fonts, 0.0, 3, [tmp_path / "kit"])
    drawn = midi_dataset.plan_midi_songs(files, 2.0, 2, fonts, 0.0, 3, [tmp_path / "kit"], voices)
    keep = [(s.name, s.start, s.soundfont, s.seed, s.drum_kit) for s in plain]
    assert keep == [(s.name, s.start, s.soundfont, s.seed, s.drum_kit) for s in drawn]
    assert {s.voice for s in plain} == {None} and {s.voice_clips for s in plain} == {()}
    assert {s.voice for s in drawn} == {None, *voices}  # 20 songs: every choice drawn
    for song in drawn:
        if song.voice is None:
            assert song.voice_clips == ()
        else:  # 8 lead notes per 2-s excerpt: one clip per note, as many as the voice has, no repeats
            assert len(song.voice_clips) == min(8, 2 if song.voice == voices[0] else 12) == len(set(song.voice_clips))
            assert all(clip.is_relative_to(song.voice) for clip in song.voice_clips)
    assert drawn == midi_dataset.plan_midi_songs(files, 2.0, 2, fonts, 0.0, 3, [tmp_path / "kit"], voices)


@needs_fluidsynth
def test_midi_dataset_with_voices_records_them_and_keeps_the_other_songs(tmp_path, capsys):
    files = _midi_files(tmp_path / "midi", 3)
    voice = _voice(tmp_path / "speaker", clips=4, rate=22050)
    options = dict(seconds=2.0, sample_rate=SR, excerpts=2, test_fraction=0.0, seed=0, progress=False)
    midi_dataset.write_midi_dataset(tmp_path / "plain", files, **options)
    out = tmp_path / "sung"
    midi_dataset.write_midi_dataset(out, files, voices=[voice], **options)
    assert json.loads((out / "midi.json").read_text())["voices"] == [str(voice.resolve())]
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    assert {row["voice"] for row in rows} == {"procedural", "speaker"}  # 6 songs drew both
    for row in rows:
        song = f"train/{row['song']}"
        if row["voice"] == "procedural":
            assert row["voice_clips"] == row["voice_rate_hz"] == ""
            for name in ("mixture", "vocals", "drums", "bass", "other"):  # sample-identical to the run without voices
                ours, _ = sf.read(str(out / song / f"{name}.wav"), dtype="float32")  # (the bytes differ: a float WAV's PEAK
                theirs, _ = sf.read(str(tmp_path / "plain" / song / f"{name}.wav"), dtype="float32")  # chunk has a time stamp)
                assert np.array_equal(ours, theirs), (song, name)
        else:
            clips = row["voice_clips"].split(";")
            assert len(clips) == 4 and all((voice / clip).is_file() for clip in clips) and row["voice_rate_hz"] == "22050"
            vocals, _ = sf.read(str(out / song / "vocals.wav"))
            plain, _ = sf.read(str(tmp_path / "plain" / song / "vocals.wav"))
            assert np.sqrt(np.mean(vocals**2)) > 1e-3 and not np.allclose(vocals, plain)
    again = midi_dataset.write_midi_dataset(out, files, voices=[voice], **options)
    assert again.written == 0
    # the sung vowels are a setting: recorded, a resume that changes them refused, a folder from before them stretched
    assert json.loads((out / "midi.json").read_text())["sung_vowels"] == "held"
    with pytest.raises(TokensepError, match="sung_vowels 'held' -> 'stretched'"):
        midi_dataset.write_midi_dataset(out, files, voices=[voice], sung_vowels="stretched", **options)
    settings = json.loads((out / "midi.json").read_text())
    del settings["sung_vowels"]
    (out / "midi.json").write_text(json.dumps(settings))
    with pytest.raises(TokensepError, match="sung_vowels 'stretched' -> 'held'"):
        midi_dataset.write_midi_dataset(out, files, voices=[voice], **options)
    with pytest.raises(TokensepError, match="sung vowels 'sustained'"):
        midi_dataset.write_midi_dataset(tmp_path / "x", files, voices=[voice], sung_vowels="sustained", **options)
    with pytest.raises(TokensepError, match="voices") as err:
        midi_dataset.write_midi_dataset(out, files, **options)
    assert "\n" not in str(err.value)
    code = main(["data", "midi", str(tmp_path / "new"), str(files[0]), "--voice", str(tmp_path / "nobody")])
    message = capsys.readouterr().err
    assert code != 0 and "nobody: no such folder" in message and len(message.strip().splitlines()) == 1
    assert not (tmp_path / "new").exists()


@needs_fluidsynth
def test_a_clip_that_does_not_decode_stops_the_run_naming_it(tmp_path, capsys):
    files = _midi_files(tmp_path / "midi", 3)
    voice = tmp_path / "junk"
    voice.mkdir()
    (voice / "prompt.g722").write_bytes(b"")  # left to ffmpeg by the folder scan; raw G.722 has no header, so only empty fails
    out = tmp_path / "out"
    code = main(
        ["data", "midi", str(out), *map(str, files), "--voice", str(voice), "--seconds", "2", "--sample-rate", "16000", "--no-progress"]
    )
    message = capsys.readouterr().err
    assert code != 0 and "prompt.g722" in message and len(message.strip().splitlines()) == 1, message
    rows = midi_dataset.plan_midi_songs(files, 2.0, 4, [tmp_path / "a.sf2"], 0.1, 0, None, [voice.resolve()])
    failing = [song for song in rows if song.voice is not None]
    assert failing and not any((out / song.split / song.name).exists() for song in failing)  # no half-written song
    assert not list(out.rglob(".*.*"))  # no temporary song folder left
