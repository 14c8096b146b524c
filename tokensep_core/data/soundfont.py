"""The ``soundfont`` renderer: a procedural score written as MIDI (one file per stem, drums on
MIDI channel 10) and rendered with the FluidSynth program and a General MIDI soundfont, as in
Slakh. Needs the ``fluidsynth`` program (Debian: ``fluidsynth``) and a GM soundfont."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pretty_midi
from pydantic import model_validator
from torch import Tensor

from tokensep_core import STEMS
from tokensep_core.audio.io import read_audio
from tokensep_core.config import ComponentConfig
from tokensep_core.data.mixing import mix_levels
from tokensep_core.data.score import Score, compose
from tokensep_core.errors import TokensepError
from tokensep_core.interfaces import Renderer

SYSTEM_SOUNDFONTS: tuple[Path, ...] = (Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"), Path("/usr/share/sounds/sf2/default-GM.sf2"))
"""Where Debian's ``fluid-soundfont-gm`` puts its General MIDI soundfont."""
INSTALL_HINT = (
    "install FluidSynth and a GM soundfont (Debian/Ubuntu: apt-get install fluidsynth fluid-soundfont-gm, or run scripts/setup.sh)"
)

GM_DRUM_NOTES = {"kick": 36, "snare": 38, "closed_hat": 42, "open_hat": 46, "tom_high": 50, "tom_mid": 47, "tom_low": 43, "crash": 49}
DRUM_KITS = (0, 8, 16, 24, 25, 32, 40)  # standard, room, power, electronic, TR-808, jazz, brush
BASS_PROGRAMS = (32, 33, 34, 35, 36, 37, 38, 39)
OTHER_PROGRAMS = {
    "pad": (48, 49, 50, 51, 88, 89, 90, 91, 92, 94, 95, 19),
    "keys": (0, 1, 2, 4, 5, 7, 16, 17, 18),
    "pluck": (24, 25, 26, 27, 45, 46, 11, 12, 13, 105),
}
VOCAL_PROGRAMS = (52, 53, 54, 85)  # choir aahs, voice oohs, synth voice, lead (voice)


class SoundfontRenderer(Renderer):
    """Procedural MIDI rendered per stem with FluidSynth and a General MIDI soundfont (Slakh-style)."""

    class Config(ComponentConfig):
        soundfont: Path | None = None
        """A .sf2 file; default: Debian's FluidR3_GM.sf2, else the TimGM6mb.sf2 shipped with pretty_midi."""
        fluidsynth: str = "fluidsynth"
        """The FluidSynth program: a name on PATH or a path."""
        tempo_range: tuple[float, float] = (70.0, 160.0)
        loudness_range_db: tuple[float, float] = (-26.0, -14.0)
        reverb: bool = True

        @model_validator(mode="after")
        def _ordered(self) -> SoundfontRenderer.Config:
            for name in ("tempo_range", "loudness_range_db"):
                low, high = getattr(self, name)
                if low > high:
                    raise ValueError(f"{name}: low {low} > high {high}")
            return self

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()
        program = shutil.which(self.config.fluidsynth)
        if program is None:
            raise TokensepError(f"renderer 'soundfont': FluidSynth program {self.config.fluidsynth!r} not found; {INSTALL_HINT}")
        self.program = program
        self.soundfont = self._find_soundfont()

    def _find_soundfont(self) -> Path:
        if self.config.soundfont is not None:
            if not self.config.soundfont.is_file():
                raise TokensepError(f"renderer 'soundfont': soundfont {self.config.soundfont} not found")
            return self.config.soundfont
        return self.default_soundfont()

    @staticmethod
    def default_soundfont() -> Path:
        """Debian's FluidR3_GM.sf2 where installed, else the TimGM6mb.sf2 shipped with pretty_midi."""
        bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
        for candidate in (*SYSTEM_SOUNDFONTS, bundled):
            if candidate.is_file():
                return candidate
        raise TokensepError(f"no General MIDI soundfont found; {INSTALL_HINT}")

    def render(self, seed: int, seconds: float, sample_rate: int) -> dict[str, Tensor]:
        """-> ``{stem: [2, round(seconds * sample_rate)]}`` float32 for vocals, drums, bass, other."""
        rng = np.random.default_rng(seed)
        n = round(seconds * sample_rate)
        score = compose(rng, seconds, self.config.tempo_range)
        midis = _stem_midis(score, rng)
        audio = {}
        with tempfile.TemporaryDirectory(prefix="tokensep-sf-") as tmp:
            for stem in STEMS:
                audio[stem] = self._synthesize(midis[stem], Path(tmp) / stem, n, sample_rate)
        return mix_levels(audio, rng, self.config.loudness_range_db)

    def _synthesize(self, midi: pretty_midi.PrettyMIDI, base: Path, n: int, sample_rate: int) -> np.ndarray:
        """Render one stem's MIDI -> ``[2, n]`` (cut or zero-padded to ``n``)."""
        return fluidsynth_render(midi, base, n, sample_rate, self.program, self.soundfont, self.config.reverb)


def fluidsynth_render(
    midi: pretty_midi.PrettyMIDI, base: Path, n: int, sample_rate: int, program: str, soundfont: Path, reverb: bool = True
) -> np.ndarray:
    """Render ``midi`` with the FluidSynth ``program`` and ``soundfont`` through the files
    ``base.mid`` / ``base.wav`` -> stereo float32 ``[2, n]`` (cut or zero-padded to ``n``)."""
    out = np.zeros((2, n), np.float32)
    if not any(inst.notes for inst in midi.instruments):
        return out
    mid, wav = base.with_suffix(".mid"), base.with_suffix(".wav")
    midi.write(str(mid))
    command = [program, "-ni", "-q", "-R", "1" if reverb else "0", "-C", "0", "-g", "0.5", "-r", str(sample_rate)]
    command += ["-O", "float", "-T", "wav", "-F", str(wav), str(soundfont), str(mid)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not wav.exists():
        detail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        raise TokensepError(f"fluidsynth failed on {soundfont.name} ({detail})")
    rendered, rate = read_audio(wav)
    if rate != sample_rate or rendered.shape[0] != 2:
        raise TokensepError(f"fluidsynth wrote {rendered.shape[0]} channels at {rate} Hz, expected 2 at {sample_rate} Hz")
    length = min(n, rendered.shape[1])
    out[:, :length] = rendered[:, :length].numpy()
    return out


def _stem_midis(score: Score, rng: np.random.Generator) -> dict[str, pretty_midi.PrettyMIDI]:
    """One single-instrument MIDI file per stem, each panned by controller 10."""

    def velocity(v: float) -> int:
        return int(np.clip(round(v * 127), 1, 127))

    def midi_with(instrument: pretty_midi.Instrument, position: float) -> pretty_midi.PrettyMIDI:
        instrument.control_changes.append(pretty_midi.ControlChange(10, int(np.clip(64 + position * 63, 0, 127)), 0.0))
        pm = pretty_midi.PrettyMIDI(initial_tempo=score.tempo)
        pm.instruments.append(instrument)
        return pm

    drums = pretty_midi.Instrument(program=int(rng.choice(DRUM_KITS)), is_drum=True, name="drums")
    for hit in score.drums:
        drums.notes.append(pretty_midi.Note(velocity(hit.velocity), GM_DRUM_NOTES[hit.piece], hit.start, hit.start + 0.1))
    midis = {"drums": midi_with(drums, 0.0)}
    parts = {
        "bass": (score.bass, BASS_PROGRAMS, rng.uniform(-0.1, 0.1)),
        "other": (score.other, OTHER_PROGRAMS[score.other_style], rng.uniform(-0.5, 0.5)),
        "vocals": (score.vocals, VOCAL_PROGRAMS, rng.uniform(-0.15, 0.15)),
    }
    for stem, (notes, programs, position) in parts.items():
        instrument = pretty_midi.Instrument(program=int(rng.choice(programs)), name=stem)
        for note in notes:
            instrument.notes.append(
                pretty_midi.Note(velocity(note.velocity), note.pitch, note.start, note.start + max(note.duration, 0.02))
            )
        midis[stem] = midi_with(instrument, position)
    return midis
