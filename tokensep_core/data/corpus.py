"""``tokensep data corpus``: the issue-19 training corpus from Debian packages (docs/data.md).

Today it holds one kind of source: real MIDI compositions (``openttd-openmsx``; the music lumps of
``freedoom``'s WADs) rendered by :mod:`~tokensep_core.data.midi_dataset` with several soundfonts
(``fluid-soundfont-gm``, ``musescore-general-soundfont-lossless``, ``timgm6mb-soundfont``), the
drums also with recorded kits (``avldrums.lv2-soundfont``'s two SF2 kits, the Hydrogen kits of
``hydrogen-drumkits`` and ``hydrogen-data``), the lead sung by recorded speech set to the notes
(:data:`VOICE_PACKAGES`; each unpacked into a root of its own, ``cache/voices/PACKAGE``, so a
voice folder holds one package's clips) or by the synthetic singer. Packages are fetched with ``apt-get download`` and unpacked with
``dpkg-deb -x`` into a cache folder: nothing is installed on the system. Each package's
copyright file is copied to ``OUT/licences/``. Every step resumes.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tokensep_core.audio.io import atomic_path
from tokensep_core.data.midi_dataset import MidiSummary, check_render_options, write_midi_dataset
from tokensep_core.data.mixing import STEM_GAIN_RANGES_DB
from tokensep_core.data.sung_speech import SungVowels
from tokensep_core.data.vocal_production import VocalProduction
from tokensep_core.data.writer import AudioFormat
from tokensep_core.errors import TokensepError


@dataclass(frozen=True)
class Package:
    """A Debian package and the paths (inside it) that the corpus uses."""

    name: str
    paths: tuple[str, ...]
    licence: str  # as read from its copyright file, for the data card


MIDI_PACKAGES = (
    Package("openttd-openmsx", ("usr/share/games/openttd/baseset/openmsx",), "GPL-2.0"),
    Package("freedoom", ("usr/share/games/doom/freedoom1.wad", "usr/share/games/doom/freedoom2.wad"), "BSD-3-clause style"),
)
SOUNDFONT_PACKAGES = (
    Package("fluid-soundfont-gm", ("usr/share/sounds/sf2/FluidR3_GM.sf2",), "MIT"),
    # the SF2 edition: FluidSynth took 14 s to load the Ogg-compressed SF3 edition for each stem it rendered, 1.3 s for this one
    Package("musescore-general-soundfont-lossless", ("usr/share/sounds/sf2/MuseScore_General_Full.sf2",), "MIT (parts PD / CC0)"),
    Package("timgm6mb-soundfont", ("usr/share/sounds/sf2/TimGM6mb.sf2",), "GPL-2"),
)
HYDROGEN_KITS = "usr/share/hydrogen/data/drumkits"
HYDROGEN_DRUMKITS = (
    "Audiophob",
    "BJA_Pacific",
    "ColomboAcousticDrumkit",
    "ElectricEmpireKit",
    "ForzeeStereo",
    "Gimme A Hand 1.0",
    "HardElectro1",
    "Millo-Drums_v.1",
    "Millo_MultiLayered2",
    "Millo_MultiLayered3",
    "The Black Pearl 1.0",
    "VariBreaks",
    "circAfrique v4",
    "rumpf_kit_z01_h2",
)
DRUM_KIT_PACKAGES = (
    Package(
        "avldrums.lv2-soundfont",
        ("usr/share/sounds/sf2/Black_Pearl_4_LV2.sf2", "usr/share/sounds/sf2/Red_Zeppelin_4_LV2.sf2"),
        "CC-BY-SA-3.0",
    ),
    # its 14 kits by name (hydrogen-data unpacks into the same folder); per-kit licences in the copyright file (docs/data.md).
    # Gimme A Hand 1.0 and circAfrique v4 have no kick or snare: data midi skips them with a warning
    Package(
        "hydrogen-drumkits",
        tuple(f"{HYDROGEN_KITS}/{kit}" for kit in HYDROGEN_DRUMKITS),
        "GPL-2 / GPL-2+ / CC0 / CC-BY-3.0 / CC-BY-SA-3.0 per kit",
    ),
    Package("hydrogen-data", (f"{HYDROGEN_KITS}/GMRockKit", f"{HYDROGEN_KITS}/TR808EmulationKit"), "GPL-2+"),
)


VOICE_PACKAGES = (
    Package("ktuberling-data", ("usr/share/ktuberling/sounds",), "GPL-2+"),  # single words, 26 languages, mostly 44.1 kHz
    Package("fillets-ng-data-cs", ("usr/share/games/fillets-ng/sound",), "GPL-2"),  # Czech dialogue, 22.05 kHz
    Package("fillets-ng-data-nl", ("usr/share/games/fillets-ng/sound",), "GPL-2"),  # Dutch dialogue, 22.05 kHz
    Package("asterisk-core-sounds-en-g722", ("usr/share/asterisk/sounds/en_US_f_Allison",), "CC-BY-SA-3.0"),  # G.722, 16 kHz
)


def fetch_package(package: Package, cache: Path, command: str = "data corpus") -> Path:
    """Unpack ``package`` into ``cache/root`` unless its paths are there already -> that root
    (``command`` starts the error messages)."""
    root = cache / "root"
    if all((root / path).exists() for path in package.paths):
        return root
    for tool in ("apt-get", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise TokensepError(f"{command}: {tool} not found; the corpus is built from Debian packages (Debian/Ubuntu only)")
    debs = cache / "debs"
    debs.mkdir(parents=True, exist_ok=True)
    for stale in debs.glob(f"{package.name}_*.deb"):
        stale.unlink()
    done = subprocess.run(["apt-get", "download", package.name], cwd=debs, capture_output=True, text=True)
    found = sorted(debs.glob(f"{package.name}_*.deb"))
    if done.returncode != 0 or not found:
        detail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise TokensepError(f"{command}: apt-get download {package.name} failed ({detail}); try apt-get update first")
    unpacked = subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(root)], capture_output=True, text=True)
    missing = [path for path in package.paths if not (root / path).exists()]
    if unpacked.returncode != 0 or missing:
        raise TokensepError(f"{command}: {found[-1].name} did not unpack {', '.join(missing) or 'cleanly'}")
    return root


def copy_licence(package: Package, root: Path, out: Path) -> None:
    source = root / "usr/share/doc" / package.name / "copyright"
    if source.is_file():
        with atomic_path(out / "licences" / f"{package.name}.txt") as tmp:
            shutil.copyfile(source, tmp)


def wad_midi_lumps(wad: Path) -> dict[str, bytes]:
    """The lumps of a Doom WAD file that are Standard MIDI files -> ``{lump name: bytes}``."""
    data = wad.read_bytes()
    if len(data) < 12 or data[:4] not in (b"IWAD", b"PWAD"):
        raise TokensepError(f"{wad}: not a WAD file")
    count, table = struct.unpack_from("<ii", data, 4)
    if count < 0 or table < 12 or table + 16 * count > len(data):
        raise TokensepError(f"{wad}: damaged WAD directory")
    lumps = {}
    for i in range(count):
        position, size, raw = struct.unpack_from("<ii8s", data, table + 16 * i)
        if size >= 14 and 0 <= position <= len(data) - size and data[position : position + 4] == b"MThd":
            lumps[raw.rstrip(b"\0").decode("ascii", "replace")] = data[position : position + size]
    return lumps


def extract_wad_midi(wad: Path, folder: Path) -> list[Path]:
    """Write ``wad``'s MIDI lumps as ``folder/{wad stem}_{lump}.mid`` (existing files kept)."""
    written = []
    for name, data in wad_midi_lumps(wad).items():
        path = folder / f"{wad.stem}_{name.lower()}.mid"
        if not path.is_file():
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
        written.append(path)
    return written


def build_corpus(
    out: str | Path,
    cache: str | Path | None = None,
    seconds: float = 10.0,
    sample_rate: int = 44100,
    excerpts: int = 8,
    test_fraction: float = 0.1,
    seed: int = 0,
    workers: int = 1,
    progress: bool = True,
    audio_format: AudioFormat = "flac",
    vocal_production: VocalProduction = "studio",
    sung_vowels: SungVowels = "held",
    vocal_gain_db: tuple[float, float] = STEM_GAIN_RANGES_DB["vocals"],
) -> MidiSummary:
    """Fetch the packages, extract the MIDI files, render the songs into ``out`` (see module doc)."""
    check_render_options(seconds, sample_rate, excerpts, workers, test_fraction, vocal_production, sung_vowels, vocal_gain_db)
    out = Path(out)
    cache = Path(cache) if cache is not None else out.parent / f".{out.name}-sources"

    def fetched(package: Package) -> Path:
        if progress:
            print(f"[corpus] {package.name} ({package.licence}) -> {cache / 'root'}", file=sys.stderr)
        return fetch_package(package, cache)

    sources: list[Path] = []
    for package in MIDI_PACKAGES:
        root = fetched(package)
        copy_licence(package, root, out)
        for path in map(root.joinpath, package.paths):
            if path.suffix.lower() == ".wad":
                extract_wad_midi(path, cache / "midi" / package.name)
            else:
                sources.append(path)
        if any(p.endswith(".wad") for p in package.paths):
            sources.append(cache / "midi" / package.name)
    soundfonts = []
    for package in SOUNDFONT_PACKAGES:
        root = fetched(package)
        copy_licence(package, root, out)
        soundfonts += [root / path for path in package.paths]
    drum_kits = []
    for package in DRUM_KIT_PACKAGES:
        root = fetched(package)
        copy_licence(package, root, out)
        drum_kits += [root / path for path in package.paths]
    voices, labels = [], {}
    for package in VOICE_PACKAGES:
        root = fetch_package(package, cache / "voices" / package.name)
        if progress:
            print(f"[corpus] {package.name} ({package.licence}) -> {root}", file=sys.stderr)
        copy_licence(package, root, out)
        for path in map(root.joinpath, package.paths):
            voices.append(path)
            labels[str(path.resolve())] = package.name
    return write_midi_dataset(
        out,
        sources,
        seconds=seconds,
        sample_rate=sample_rate,
        excerpts=excerpts,
        soundfonts=soundfonts,
        drum_kits=drum_kits,
        voices=voices,
        voice_labels=labels,
        test_fraction=test_fraction,
        seed=seed,
        workers=workers,
        progress=progress,
        audio_format=audio_format,
        vocal_production=vocal_production,
        sung_vowels=sung_vowels,
        vocal_gain_db=vocal_gain_db,
    )
