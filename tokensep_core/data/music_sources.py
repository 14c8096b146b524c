"""Where ``tokensep data music`` finds mixed music: Debian packages of game soundtracks, their
music folders (or folders inside a ``.pk3``/``.zip`` archive), and the tracks in them.

Only the folders listed per package are searched, so sound effects elsewhere in a package are
never picked up; ``include`` narrows a folder that mixes music and effects to the music files.
Archive members are extracted once into the cache (``CACHE/archives/PACKAGE/``), never into OUT.
"""

from __future__ import annotations

import fnmatch
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

from tokensep_core.audio.io import atomic_path
from tokensep_core.data.corpus import Package
from tokensep_core.errors import TokensepError

MUSIC_SUFFIXES: tuple[str, ...] = (".ogg", ".oga", ".opus", ".mp3", ".flac", ".wav")
"""Extensions of the music files searched for (decoded by libsndfile, else ffmpeg)."""
ARCHIVE_SUFFIXES: tuple[str, ...] = (".pk3", ".zip")


@dataclass(frozen=True)
class MusicFolder:
    """A folder of music inside a package (``path``), or, when ``path`` is a ``.pk3``/``.zip``
    archive, the members under ``member`` in it."""

    path: str
    member: str = ""


@dataclass(frozen=True)
class MusicPackage:
    """A Debian package of music: its folders, file-name patterns (``include``), extra licence
    files shipped beside the music (copied with the copyright file), and whether it is built by
    default."""

    name: str
    licence: str  # as read from its copyright / licence files, for the manifest and the data card
    folders: tuple[MusicFolder, ...]
    include: tuple[str, ...] = ("*",)
    licences: tuple[str, ...] = ()
    default: bool = True

    @property
    def package(self) -> Package:
        """The package as :func:`~tokensep_core.data.corpus.fetch_package` fetches it: the
        folders (or archives) must exist once unpacked."""
        return Package(self.name, tuple(folder.path for folder in self.folders), self.licence)


MUSIC_PACKAGES: tuple[MusicPackage, ...] = (
    MusicPackage(
        "warzone2100-music",
        "CC-BY-SA-3.0+ or GPL-2+ (albums' license.txt); GPL-2+ (package)",
        (MusicFolder("usr/share/games/warzone2100/music"),),
        licences=(
            "usr/share/games/warzone2100/music/albums/aftermath_soundtrack/license.txt",
            "usr/share/games/warzone2100/music/albums/legacy_soundtrack/license.txt",
        ),
    ),
    MusicPackage(
        "ufoai-music",
        "per file: GPL-2 / GPL-2+ / CC-BY-3.0 / CC-BY-SA-3.0 / public domain (see its copyright)",
        (MusicFolder("usr/share/games/ufoai/base/0music.pk3", "music/"),),
    ),
    MusicPackage("wesnoth-1.16-music", "GPL-2+", (MusicFolder("usr/share/games/wesnoth/1.16/data/core/music"),)),
    MusicPackage("nexuiz-music", "GPL-2+", (MusicFolder("usr/share/games/nexuiz/data/music.pk3", "sound/cdtracks/"),)),
    MusicPackage("singularity-music", "CC-BY-SA-3.0", (MusicFolder("usr/share/games/singularity/music"),)),
    MusicPackage(
        "drascula-music",
        "Drascula licence (BSD-like)",
        (MusicFolder("usr/share/scummvm/drascula/audio"),),
        licences=("usr/share/doc/drascula-music/readme_audio.txt",),
    ),
    MusicPackage(
        "hyperrogue-music",
        "CC-BY-SA-3.0 and others per track (hyperrogue-music.txt); GPL-2+ (package)",
        (MusicFolder("usr/share/hyperrogue/music"),),
        licences=("usr/share/hyperrogue/hyperrogue-music.txt",),
    ),
    MusicPackage(
        "frozen-bubble-data",
        "GPL-2",
        (MusicFolder("usr/share/games/frozen-bubble/snd"),),
        include=("frozen-mainzik-*.ogg", "introzik.ogg"),  # the other 18 files of snd/ are effects
    ),
    MusicPackage(
        "0ad-data",  # a 1.4 GB download for 2.9 h of music: only when named with --packages
        "CC-BY-SA-3.0",
        (MusicFolder("usr/share/games/0ad/mods/public/public.zip", "audio/music/"),),
        default=False,
    ),
)


@dataclass(frozen=True)
class Track:
    """One music file: ``source`` names it inside its package (``ARCHIVE:member`` for archive
    members), ``path`` is where it lies on disk, ``name`` is its path below its music folder
    without the extension."""

    package: str
    source: str
    path: Path
    name: str


def music_packages(names: list[str] | None) -> list[MusicPackage]:
    """The packages named (None: the default ones), in the order given; unknown names are
    refused in one line listing the known ones."""
    known = {package.name: package for package in MUSIC_PACKAGES}
    if names is None:
        return [package for package in MUSIC_PACKAGES if package.default]
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise TokensepError(f"data music: unknown package {', '.join(unknown) or '(none given)'}; known: {', '.join(known)}")
    return [known[name] for name in dict.fromkeys(names)]


def find_tracks(package: MusicPackage, root: Path, cache: Path) -> list[Track]:
    """The music files of ``package`` unpacked under ``root``, archive members extracted into
    ``cache/archives``; sorted by source. A missing folder, or none holding music, is an error."""
    tracks: list[Track] = []
    for folder in package.folders:
        path = root / folder.path
        if path.suffix.lower() in ARCHIVE_SUFFIXES:
            tracks += _archive_tracks(package, folder, path, cache / "archives" / package.name / path.name)
        elif path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.is_symlink() and _wanted(package, p.name))
            tracks += [Track(package.name, str(p.relative_to(root)), p, str(p.relative_to(path).with_suffix(""))) for p in files]
        else:
            raise TokensepError(f"data music: {package.name} has no music folder {folder.path} under {root}")
    if not tracks:
        raise TokensepError(f"data music: no music files ({', '.join(MUSIC_SUFFIXES)}) in {package.name}'s {_describe(package)}")
    return sorted(tracks, key=lambda track: track.source)


def _wanted(package: MusicPackage, name: str) -> bool:
    return name.lower().endswith(MUSIC_SUFFIXES) and not name.startswith(".") and any(fnmatch.fnmatch(name, p) for p in package.include)


def _describe(package: MusicPackage) -> str:
    return ", ".join(f"{f.path}:{f.member}" if f.member else f.path for f in package.folders)


def _archive_tracks(package: MusicPackage, folder: MusicFolder, archive: Path, target: Path) -> list[Track]:
    """Extract the music members under ``folder.member`` of a zip ``archive`` into ``target``
    (a member already there with its size is kept) -> their tracks."""
    if not archive.is_file():
        raise TokensepError(f"data music: {package.name} has no archive {folder.path}")
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = [
                info
                for info in zipped.infolist()
                if not info.is_dir() and info.filename.startswith(folder.member) and _wanted(package, Path(info.filename).name)
            ]
            tracks = []
            for info in members:
                if ".." in Path(info.filename).parts or Path(info.filename).is_absolute():
                    raise TokensepError(f"data music: {archive}: unsafe member name {info.filename}")
                destination = target / info.filename
                if not (destination.is_file() and destination.stat().st_size == info.file_size):
                    with zipped.open(info) as source, atomic_path(destination) as tmp, open(tmp, "wb") as sink:
                        shutil.copyfileobj(source, sink, 1 << 20)
                name = str(Path(info.filename[len(folder.member) :]).with_suffix(""))
                tracks.append(Track(package.name, f"{folder.path}:{info.filename}", destination, name))
            return tracks
    except (zipfile.BadZipFile, OSError) as err:
        raise TokensepError(f"data music: {archive}: not a readable zip archive ({err})") from None
