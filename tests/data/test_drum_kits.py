"""Recorded drum kits for ``data midi``: the Hydrogen ``drumkit.xml`` reader, GM notes mapped onto
kit pieces by name, velocity layers, hits placed at the right samples with the right gains, mute
groups, SoundFont kits routed to their bank, the per-song kit draw, and clear errors."""

from __future__ import annotations

import csv
import dataclasses
import json
import shutil
import struct
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from tokensep_core.audio.io import read_audio
from tokensep_core.cli.main import main
from tokensep_core.data import drum_kits, gm_drums
from tokensep_core.data.hydrogen_kit import pick_layer, read_drumkit
from tokensep_core.data.hydrogen_render import render_hits
from tokensep_core.data.midi_dataset import plan_midi_songs, write_midi_dataset
from tokensep_core.errors import TokensepError

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="the fluidsynth program is not installed (scripts/setup.sh installs it)"
)
KIT_RATE = 8000

KIT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
 <name>Tiny Kit</name>
 <license>CC0</license>
 <instrumentList>
  <instrument>
   <id>0</id><name>Kick</name><volume>0.5</volume><gain>2</gain><pan_L>1</pan_L><pan_R>1</pan_R><muteGroup>-1</muteGroup>
   <layer><filename>kick_soft.wav</filename><min>0</min><max>0.5</max><gain>1</gain><pitch>0</pitch></layer>
   <layer><filename>kick_hard.wav</filename><min>0.5</min><max>1</max><gain>0.8</gain><pitch>0</pitch></layer>
  </instrument>
  <instrument>
   <id>1</id><name>Snare Rock</name><filename>snare.wav</filename><volume>1</volume><pan_L>1</pan_L><pan_R>0.5</pan_R>
  </instrument>
  <instrument>
   <id>2</id><name>Closed HH</name><pan>0.5</pan><muteGroup>1</muteGroup>
   <instrumentComponent><gain>0.5</gain>
    <layer><filename>hat_closed.wav</filename><min>0</min><max>1</max><gain>1</gain></layer>
   </instrumentComponent>
  </instrument>
  <instrument>
   <id>3</id><name>Open HH</name><muteGroup>1</muteGroup>
   <layer><filename>hat_open.wav</filename><min>0</min><max>1</max><gain>1</gain></layer>
  </instrument>
  <instrument><id>4</id><name>Crash</name><layer><filename>missing.wav</filename></layer></instrument>
  <instrument><id>5</id><name>Tom Hi</name><isMuted>true</isMuted><layer><filename>snare.wav</filename></layer></instrument>
  <instrument><id>6</id><name>17</name></instrument>
 </instrumentList>
</drumkit_info>
"""


def _one_shot(path: Path, value: float, frames: int, channels: int = 1, rate: int = KIT_RATE) -> np.ndarray:
    """A decaying one-shot of constant sign, its first sample ``value`` -> the samples ``[frames, channels]``."""
    decay = np.exp(-np.arange(frames) / (frames / 4))
    data = np.repeat((value * decay)[:, None], channels, axis=1).astype(np.float32)
    sf.write(str(path), data, rate, subtype="FLOAT")
    return data


def _kit(folder: Path, xml: str = KIT_XML) -> Path:
    folder.mkdir(parents=True)
    (folder / "drumkit.xml").write_text(xml)
    _one_shot(folder / "kick_soft.wav", 0.25, 400)
    _one_shot(folder / "kick_hard.wav", 0.5, 400)
    _one_shot(folder / "snare.wav", 0.3, 300, channels=2)
    _one_shot(folder / "hat_closed.wav", 0.2, 100)
    _one_shot(folder / "hat_open.wav", 0.4, 2000)
    return folder


def test_drumkit_xml_is_read_in_both_layouts(tmp_path):
    kit = read_drumkit(_kit(tmp_path / "tiny"))
    assert (kit.name, kit.licence) == ("Tiny Kit", "CC0")
    pieces = {i.name: i for i in kit.instruments}
    assert list(pieces) == ["Kick", "Snare Rock", "Closed HH", "Open HH"]  # missing file, muted and empty slots left out
    kick = pieces["Kick"]
    assert kick.gain == pytest.approx(1.0) and kick.mute_group == -1
    assert [(layer.file.name, layer.low, layer.high, layer.gain) for layer in kick.layers] == [
        ("kick_soft.wav", 0.0, 0.5, 1.0),
        ("kick_hard.wav", 0.5, 1.0, 0.8),
    ]
    snare = pieces["Snare Rock"]  # the older layout: one <filename>, every velocity
    assert [(layer.file.name, layer.low, layer.high) for layer in snare.layers] == [("snare.wav", 0.0, 1.0)]
    assert snare.pan == (1.0, 0.5)
    hat = pieces["Closed HH"]
    assert hat.pan == (0.5, 1.0) and hat.mute_group == 1  # <pan> 0.5: right of centre
    assert hat.layers[0].gain == pytest.approx(0.5)  # the component's gain
    assert read_drumkit(tmp_path / "tiny" / "drumkit.xml") == kit  # the file itself names the kit too


def test_velocity_picks_the_layer(tmp_path):
    kick = read_drumkit(_kit(tmp_path / "tiny")).instruments[0]
    assert pick_layer(kick, 0.2).file.name == "kick_soft.wav"
    assert pick_layer(kick, 0.5).file.name == "kick_soft.wav"  # the first layer whose range holds it
    assert pick_layer(kick, 0.9).file.name == "kick_hard.wav"
    soft, hard = dataclasses.replace(kick.layers[0], high=0.3), dataclasses.replace(kick.layers[1], low=0.7)
    gap = dataclasses.replace(kick, layers=(soft, hard))  # no layer for 0.3..0.7: the nearest range plays
    assert pick_layer(gap, 0.4).file.name == "kick_soft.wav" and pick_layer(gap, 0.6).file.name == "kick_hard.wav"


def test_gm_notes_map_to_pieces_by_name():
    names = [
        "Pearl Kick",
        "Pearl Side Stick",
        "Pearl Snare",
        "Sabian Hat Closed",
        "Pearl Tom 2",
        "Sabian Hat Pedal",
        "Pearl Tom 1",
        "Sabian Hat Semi-Open",
        "Sabian Hat Open",
        "Pearl Tom Floor",
        "Paiste Ride",
        "Paiste Bell",
        "Sabian Crash",
        "Crash/Ride 18",
        "Cowbell",
        "17",
    ]
    mapping = {note: names[i] for note, i in gm_drums.gm_note_map(names).items()}
    assert mapping[36] == mapping[35] == "Pearl Kick"
    assert mapping[38] == mapping[40] == "Pearl Snare"
    assert mapping[37] == "Pearl Side Stick"
    assert (mapping[42], mapping[44], mapping[46]) == ("Sabian Hat Closed", "Sabian Hat Pedal", "Sabian Hat Open")
    assert [mapping[n] for n in gm_drums.GM_TOMS] == [
        "Pearl Tom Floor",
        "Pearl Tom Floor",
        "Pearl Tom 2",
        "Pearl Tom 2",
        "Pearl Tom 1",
        "Pearl Tom 1",
    ]
    assert (mapping[49], mapping[51], mapping[53], mapping[56]) == ("Sabian Crash", "Paiste Ride", "Paiste Bell", "Cowbell")
    assert mapping[57] == "Sabian Crash" and 54 not in mapping  # one crash; no tambourine in the kit
    assert (mapping[60], mapping[64]) == ("Pearl Tom 1", "Pearl Tom 2")  # bongos and congas fall back to toms


def test_second_pieces_of_a_role_and_kits_without_kick_or_snare():
    names = ["Kick Lite 1", "Kick Lite 2", "Snare 1", "Snare 2", "Hat Closed", "Crash/Ride", "c3 - bass drum 1"]
    mapping = {note: names[i] for note, i in gm_drums.gm_note_map(names).items()}
    assert (mapping[36], mapping[35], mapping[38], mapping[40]) == ("Kick Lite 1", "Kick Lite 2", "Snare 1", "Snare 2")
    assert mapping[49] == mapping[51] == "Crash/Ride"  # a crash/ride stands in for both where there is no plain one
    assert 41 not in mapping and 44 in mapping  # no toms; the pedal hat falls back to the closed one
    assert gm_drums.missing_core(["Djembe1 Bass", "Djembe1 Slap", "Dununba1 Bell"]) == ["kick", "snare"]
    assert gm_drums.missing_core(["BassDrum", "Snare Roll"]) == []


def test_hits_land_at_their_samples_with_velocity_and_gains(tmp_path):
    kit = read_drumkit(_kit(tmp_path / "tiny"))
    note_map = {36: 0, 38: 1, 42: 2, 46: 3}
    n = KIT_RATE
    notes = [pretty_midi.Note(127, 36, 0.1, 0.2), pretty_midi.Note(40, 36, 0.5, 0.6), pretty_midi.Note(127, 38, 0.3, 0.4)]
    notes.append(pretty_midi.Note(100, 77, 0.0, 0.1))  # not in the map: not played
    out = render_hits(kit, note_map, notes, n, KIT_RATE)
    hard, _ = sf.read(str(tmp_path / "tiny" / "kick_hard.wav"), dtype="float32")
    soft, _ = sf.read(str(tmp_path / "tiny" / "kick_soft.wav"), dtype="float32")
    snare, _ = sf.read(str(tmp_path / "tiny" / "snare.wav"), dtype="float32")
    assert out.shape == (2, n) and out.dtype == np.float32
    assert not out[:, :800].any()  # nothing before the first hit (the unmapped note at 0 is dropped)
    k = 800  # 0.1 s: velocity 127 -> the hard layer, x 1.0 (velocity) x 0.8 (layer) x 1.0 (volume 0.5 x gain 2)
    np.testing.assert_allclose(out[0, k : k + 400], hard * 0.8, rtol=1e-6, atol=1e-7)
    s = 2400  # 0.3 s, the snare (stereo file), panned (1, 0.5), over the kick's tail (which ends at 1200)
    np.testing.assert_allclose(out[:, s : s + 300], snare.T * np.array([[1.0], [0.5]], np.float32), rtol=1e-6, atol=1e-7)
    v = 4000  # 0.5 s: velocity 40 -> the soft layer scaled by 40/127
    np.testing.assert_allclose(out[1, v : v + 400], soft * (40 / 127), rtol=1e-6, atol=1e-7)
    assert not out[:, v + 400 :].any()


def test_a_hit_chokes_the_earlier_sound_of_its_mute_group(tmp_path):
    kit = read_drumkit(_kit(tmp_path / "tiny"))
    notes = [pretty_midi.Note(127, 46, 0.0, 0.1), pretty_midi.Note(127, 42, 0.1, 0.2)]
    out = render_hits(kit, {42: 2, 46: 3}, notes, KIT_RATE, KIT_RATE)
    closed, _ = sf.read(str(tmp_path / "tiny" / "hat_closed.wav"), dtype="float32")
    fade = 40  # 5 ms at 8 kHz
    after = slice(800 + fade, 900)
    np.testing.assert_allclose(out[1, after], closed[fade:] * 0.5, rtol=1e-6, atol=1e-7)  # the open hat is gone
    assert not out[:, 900:].any()  # though its sample is 2000 long
    unchoked = render_hits(kit, {46: 3}, notes[:1], KIT_RATE, KIT_RATE)
    assert np.abs(unchoked[:, 900:]).max() > 0.01


def test_samples_are_resampled_to_the_output_rate(tmp_path):
    kit = read_drumkit(_kit(tmp_path / "tiny"))
    out = render_hits(kit, {38: 1}, [pretty_midi.Note(127, 38, 0.25, 0.3)], 2 * KIT_RATE, 2 * KIT_RATE)
    sounding = np.flatnonzero(np.abs(out[0]) > 1e-4)
    assert abs(sounding[0] - 0.25 * 2 * KIT_RATE) <= 2  # starts at 0.25 s at the new rate
    assert abs((sounding[-1] - sounding[0]) - 2 * 300) <= 20  # a 300-sample one-shot lasts twice as many samples


def _soundfont_bytes(presets: list[tuple[str, int, int]]) -> bytes:
    """A SoundFont skeleton: INFO and sdta empty, pdta holding only the preset headers."""
    records = b"".join(struct.pack("<20sHHHIII", name.encode(), preset, bank, 0, 0, 0, 0) for name, bank, preset in presets)
    records += struct.pack("<20sHHHIII", b"EOP", 0, 0, 0, 0, 0, 0)
    phdr = b"phdr" + struct.pack("<I", len(records)) + records
    lists = b"".join(
        b"LIST" + struct.pack("<I", 4 + len(body)) + kind + body for kind, body in ((b"INFO", b""), (b"sdta", b""), (b"pdta", phdr))
    )
    return b"RIFF" + struct.pack("<I", 4 + len(lists)) + b"sfbk" + lists


def test_soundfont_kits_play_on_their_bank(tmp_path):
    bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    assert (128, 0) in drum_kits.soundfont_presets(bundled)
    gm = drum_kits.load_drum_kit(bundled)
    assert isinstance(gm, drum_kits.SoundfontKit) and gm.bank == 128
    (tmp_path / "avl.sf2").write_bytes(_soundfont_bytes([("Black_Pearl_4pc", 0, 0)]))
    avl = drum_kits.load_drum_kit(tmp_path / "avl.sf2")
    assert (avl.bank, avl.preset) == (0, 0)
    part = pretty_midi.Instrument(25, is_drum=True)  # a GM drum part asking for the TR-808 kit
    part.notes.append(pretty_midi.Note(100, 36, 0.0, 0.1))
    routed = drum_kits._for_kit(part, avl)
    assert (routed.is_drum, routed.program, len(routed.notes)) == (False, 0, 1)  # bank 0 is silent on the drum channel
    kept = drum_kits._for_kit(part, gm)
    assert kept.is_drum and kept.program == (25 if 25 in gm.drum_presets else gm.preset)


def _midi_file(path: Path, seconds: int = 8) -> None:
    midi = pretty_midi.PrettyMIDI()
    drums, bass, keys = pretty_midi.Instrument(0, is_drum=True), pretty_midi.Instrument(33), pretty_midi.Instrument(0)
    for i in range(seconds * 4):
        t = i * 0.25
        drums.notes.append(pretty_midi.Note(100, (36, 42, 38, 42)[i % 4], t, t + 0.1))
        bass.notes.append(pretty_midi.Note(90, 36, t, t + 0.2))
        keys.notes += [pretty_midi.Note(80, p, t, t + 0.2) for p in (60, 64, 67)]
    midi.instruments = [drums, bass, keys]
    midi.write(str(path))


def test_the_drum_kit_draw_leaves_the_rest_of_the_plan_unchanged(tmp_path):
    files = []
    for i in range(12):
        files.append(tmp_path / f"song{i}.mid")
        _midi_file(files[-1])
    fonts = [tmp_path / "a.sf2", tmp_path / "b.sf2"]
    kits = [tmp_path / "kit1", tmp_path / "kit2"]
    plain = plan_midi_songs(files, 2.0, 2, fonts, 0.0, 3)
    drawn = plan_midi_songs(files, 2.0, 2, fonts, 0.0, 3, kits)
    assert [(s.name, s.start, s.soundfont, s.seed) for s in plain] == [(s.name, s.start, s.soundfont, s.seed) for s in drawn]
    assert {s.drum_kit for s in plain} == {None}
    assert {s.drum_kit for s in drawn} == {None, *kits}  # 24 songs: every choice drawn
    assert drawn == plan_midi_songs(files, 2.0, 2, fonts, 0.0, 3, kits)
    assert [s.drum_kit for s in drawn] != [s.drum_kit for s in plan_midi_songs(files, 2.0, 2, fonts, 0.0, 4, kits)]


def test_bad_kits_are_refused_naming_the_file(tmp_path):
    with pytest.raises(TokensepError, match="drum kit .*none.* not found"):
        drum_kits.usable_drum_kits([tmp_path / "none"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(TokensepError, match="empty: no drumkit.xml"):
        drum_kits.usable_drum_kits([tmp_path / "empty"])
    broken = _kit(tmp_path / "broken", KIT_XML.replace("</instrumentList>", ""))
    with pytest.raises(TokensepError, match=r"broken/drumkit.xml: not a readable Hydrogen drumkit.xml") as err:
        drum_kits.usable_drum_kits([broken])
    assert "\n" not in str(err.value)
    silent = _kit(tmp_path / "silent")
    for wav in silent.glob("*.wav"):
        wav.write_bytes(b"RIFF not audio")
    with pytest.raises(TokensepError, match="silent: no usable samples"):
        drum_kits.usable_drum_kits([silent])
    bad_number = _kit(tmp_path / "number", KIT_XML.replace("<volume>0.5</volume>", "<volume>loud</volume>"))
    with pytest.raises(TokensepError, match="number/drumkit.xml: <volume> is 'loud'"):
        drum_kits.usable_drum_kits([bad_number])
    (tmp_path / "fake.sf2").write_bytes(b"RIFF0000WAVE")
    with pytest.raises(TokensepError, match="fake.sf2: not a SoundFont"):
        drum_kits.usable_drum_kits([tmp_path / "fake.sf2"])


def test_kits_without_kick_or_snare_are_skipped_with_a_warning(tmp_path, capsys):
    hands = _kit(tmp_path / "hands", KIT_XML.replace("<name>Kick</name>", "<name>Cajon Thump</name>"))
    good = _kit(tmp_path / "good")
    assert drum_kits.usable_drum_kits([hands, good]) == [good.resolve()]
    assert "hands skipped: no kick among Cajon Thump" in capsys.readouterr().err
    with pytest.raises(TokensepError, match="none of the drum kits has a kick and a snare"):
        drum_kits.usable_drum_kits([hands])


@needs_fluidsynth
def test_midi_dataset_with_a_hydrogen_kit_records_it_and_refuses_other_kits(tmp_path, capsys):
    _midi_file(tmp_path / "groove.mid")
    kit = _kit(tmp_path / "kit")
    out = tmp_path / "out"
    options = dict(seconds=2.0, sample_rate=16000, excerpts=3, test_fraction=0.0, seed=0, progress=False)
    write_midi_dataset(out, [tmp_path / "groove.mid"], drum_kits=[kit], **options)
    settings = json.loads((out / "midi.json").read_text())
    assert settings["drum_kits"] == [str(kit.resolve())]
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    assert {row["drum_kit"] for row in rows} <= {"kit", settings["soundfonts"][0].rsplit("/", 1)[-1]}
    for row in rows:
        drums = read_audio(out / "train" / row["song"] / "drums.wav")[0]
        assert drums.pow(2).mean() > 1e-7, row
    again = write_midi_dataset(out, [tmp_path / "groove.mid"], drum_kits=[kit], **options)
    assert again.written == 0
    with pytest.raises(TokensepError, match="drum_kits"):
        write_midi_dataset(out, [tmp_path / "groove.mid"], **options)
    assert main(["data", "midi", str(tmp_path / "new"), str(tmp_path / "groove.mid"), "--drum-kit", str(tmp_path / "nokit")]) != 0
    err = capsys.readouterr().err
    assert "nokit not found" in err and len(err.strip().splitlines()) == 1 and not (tmp_path / "new").exists()
