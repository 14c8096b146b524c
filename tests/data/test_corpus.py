"""``tokensep data corpus``: MIDI lumps out of Doom WADs, cached packages reused without apt-get,
licence files copied, clear errors for damaged input."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pretty_midi
import pytest

from tokensep_core.data import corpus
from tokensep_core.errors import TokensepError


def _midi_bytes() -> bytes:
    midi = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    inst.notes.append(pretty_midi.Note(90, 60, 0.0, 0.5))
    midi.instruments.append(inst)
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def _wad(lumps: list[tuple[str, bytes]]) -> bytes:
    """An IWAD holding ``lumps`` in order, its directory at the end."""
    body, directory, position = b"", b"", 12
    for name, data in lumps:
        directory += struct.pack("<ii8s", position, len(data), name.encode())
        body += data
        position += len(data)
    return b"IWAD" + struct.pack("<ii", len(lumps), position) + body + directory


def test_midi_lumps_are_extracted_and_other_lumps_skipped(tmp_path):
    music = _midi_bytes()
    wad = tmp_path / "game.wad"
    wad.write_bytes(_wad([("D_E1M1", music), ("PLAYPAL", b"\0" * 64), ("D_INTRO", music)]))
    assert sorted(corpus.wad_midi_lumps(wad)) == ["D_E1M1", "D_INTRO"]
    written = corpus.extract_wad_midi(wad, tmp_path / "midi")
    assert sorted(p.name for p in written) == ["game_d_e1m1.mid", "game_d_intro.mid"]
    assert pretty_midi.PrettyMIDI(str(written[0])).instruments[0].notes[0].pitch == 60


def test_damaged_wads_are_refused(tmp_path):
    (tmp_path / "a.wad").write_bytes(b"ZWAD" + b"\0" * 20)
    with pytest.raises(TokensepError, match="not a WAD"):
        corpus.wad_midi_lumps(tmp_path / "a.wad")
    (tmp_path / "b.wad").write_bytes(b"IWAD" + struct.pack("<ii", 5, 400))
    with pytest.raises(TokensepError, match="damaged WAD directory"):
        corpus.wad_midi_lumps(tmp_path / "b.wad")


def test_a_cached_package_is_reused_without_apt(tmp_path, monkeypatch):
    package = corpus.Package("demo-pkg", ("usr/share/demo/a.mid",), "MIT")
    root = tmp_path / "cache" / "root"
    (root / "usr/share/demo").mkdir(parents=True)
    (root / "usr/share/demo/a.mid").write_bytes(_midi_bytes())
    (root / "usr/share/doc/demo-pkg").mkdir(parents=True)
    (root / "usr/share/doc/demo-pkg/copyright").write_text("Licence: MIT\n")
    monkeypatch.setenv("PATH", "")  # no apt-get, no dpkg-deb: a cached package must not need them
    assert corpus.fetch_package(package, tmp_path / "cache") == root
    corpus.copy_licence(package, root, tmp_path / "out")
    assert (tmp_path / "out" / "licences" / "demo-pkg.txt").read_text() == "Licence: MIT\n"
    missing = corpus.Package("other-pkg", ("usr/share/other/b.mid",), "MIT")
    with pytest.raises(TokensepError, match="apt-get not found"):
        corpus.fetch_package(missing, tmp_path / "cache")


def test_every_corpus_package_names_its_paths_and_licence():
    for package in (*corpus.MIDI_PACKAGES, *corpus.SOUNDFONT_PACKAGES, *corpus.DRUM_KIT_PACKAGES):
        assert package.paths and package.licence
        assert all(not Path(p).is_absolute() for p in package.paths)
    kits = [path for package in corpus.DRUM_KIT_PACKAGES for path in package.paths]
    assert len(kits) == len(set(kits)) == 18  # packages sharing a folder name their own kits, so none is passed twice


def test_voice_packages_name_a_folder_and_a_licence():
    names = [package.name for package in corpus.VOICE_PACKAGES]
    assert {"ktuberling-data", "fillets-ng-data-cs", "fillets-ng-data-nl"} <= set(names) and len(names) == len(set(names))
    for package in corpus.VOICE_PACKAGES:  # each unpacked into a root of its own: fillets cs and nl share a folder name
        assert len(package.paths) == 1 and not Path(package.paths[0]).is_absolute() and package.licence
