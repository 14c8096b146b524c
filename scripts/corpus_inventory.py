"""Inventory of candidate corpus sources: audio hours, MIDI hours, soundfont contents.

Reads file headers only (no decoding of audio): soundfile for WAV/FLAC/OGG/AIFF, ffprobe for
anything soundfile cannot open (MP3, WavPack), byte counts for headerless telephony formats
(G.722, GSM), RIFF chunk headers for SF2/SF3, mido for MIDI (also the MIDI lumps inside Doom WAD
files, as in freedoom; DMX MUS lumps are timed by a small parser), and the resource table of
Flight of the Amazon Queen's `queen.1c` for its speech clips.

    python scripts/corpus_inventory.py ROOT [ROOT ...] [--json OUT.json]

Each ROOT is summarised on its own (e.g. a package extracted with `dpkg-deb -x PKG.deb ROOT`).
Used to write the source table of docs/data.md; not part of the tokensep package.
"""

from __future__ import annotations

import argparse
import collections
import json
import struct
import subprocess
import sys
from pathlib import Path

AUDIO_EXT = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".g722", ".gsm", ".sln16", ".ulaw", ".alaw"}
MIDI_EXT = {".mid", ".midi", ".kar"}
TRACKER_EXT = {".xm", ".mod", ".s3m", ".it"}
RAW_RATES = {".g722": 16000, ".gsm": 8000, ".sln16": 16000, ".ulaw": 8000, ".alaw": 8000}


def audio_info(path: Path) -> tuple[float, int, int, str] | None:
    """(seconds, sample rate, channels, format) from the header, or None."""
    import soundfile as sf

    ext = path.suffix.lower()
    if ext in {".g722", ".gsm", ".ulaw", ".alaw", ".sln16"}:
        # headerless telephony formats: duration from the byte count
        size = path.stat().st_size
        per_second = {".g722": 8000, ".gsm": 1650, ".ulaw": 8000, ".alaw": 8000, ".sln16": 32000}
        return size / per_second[ext], RAW_RATES[ext], 1, ext[1:]
    try:
        info = sf.info(str(path))
        if info.frames > 0:
            return info.frames / info.samplerate, info.samplerate, info.channels, info.format
    except Exception:  # noqa: BLE001 - fall back to ffprobe for anything libsndfile rejects
        pass
    try:
        out = subprocess.run(
            ["ffprobe", "-v", "error", "-show_entries", "format=duration:stream=sample_rate,channels,codec_name", "-of", "json", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        ).stdout
        data = json.loads(out)
        stream = data["streams"][0]
        return (float(data["format"]["duration"]), int(stream["sample_rate"]), int(stream["channels"]), stream["codec_name"])
    except Exception:  # noqa: BLE001
        return None


def midi_seconds(path: Path | bytes) -> float | None:
    import io

    import mido

    try:
        if isinstance(path, bytes):
            return float(mido.MidiFile(file=io.BytesIO(path)).length)
        return float(mido.MidiFile(str(path)).length)
    except Exception:  # noqa: BLE001 - some files in the wild are broken or type 2
        return None


def mus_seconds(data: bytes) -> float:
    """Length of a DMX MUS lump (Doom music) in seconds, 140 ticks per second."""
    score_len, score_start = struct.unpack_from("<HH", data, 4)
    i, end, ticks = score_start, score_start + score_len, 0
    extra = {0: 1, 1: 1, 2: 1, 3: 1, 4: 2, 5: 0, 6: 0, 7: 1}
    while i < min(end, len(data)):
        event = data[i]
        i += 1
        kind = (event >> 4) & 7
        if kind == 1 and data[i] & 0x80:  # play note with a volume byte
            i += 1
        i += extra[kind]
        if kind == 6:
            break
        if event & 0x80:
            delay = 0
            while True:
                b = data[i]
                i += 1
                delay = delay * 128 + (b & 0x7F)
                if not b & 0x80:
                    break
            ticks += delay
    return ticks / 140.0


def wad_music(path: Path) -> list[tuple[str, str, float | None]]:
    """Music lumps (D_*) of a Doom WAD: (name, format, seconds)."""
    data = path.read_bytes()
    if data[:4] not in (b"IWAD", b"PWAD"):
        return []
    count, offset = struct.unpack_from("<ii", data, 4)
    found = []
    for k in range(count):
        pos, size, raw = struct.unpack_from("<ii8s", data, offset + 16 * k)
        name = raw.rstrip(b"\0").decode("ascii", "replace")
        if not name.startswith("D_") or size < 16:
            continue
        lump = data[pos : pos + size]
        if lump[:4] == b"MUS\x1a":
            found.append((name, "mus", mus_seconds(lump)))
        elif lump[:4] == b"MThd":
            found.append((name, "midi", midi_seconds(lump)))
        else:
            found.append((name, lump[:4].hex(), None))
    return found


def queen_speech(path: Path) -> dict:
    """Speech clips (*.SB) inside a ScummVM-compressed Flight of the Amazon Queen `queen.1c`.

    Table: "QTBL", 6-byte version, 2 bytes, 1 compression byte, uint16 BE entry count at offset 13,
    then 21-byte entries (12-byte name, bundle byte, uint32 BE offset, uint32 BE size); offsets are
    absolute. The clips are concatenated into one temporary MP3 stream and measured by ffprobe.
    """
    import tempfile

    data = path.read_bytes()
    if data[:4] != b"QTBL":
        return {"file": path.name, "error": "no QTBL table"}
    count = struct.unpack_from(">H", data, 13)[0]
    pos, clips = 15, []
    for _ in range(count):
        name = data[pos : pos + 12].split(b"\0")[0].decode("ascii", "replace")
        offset, size = struct.unpack_from(">II", data, pos + 13)
        pos += 21
        if name.upper().endswith(".SB"):
            clips.append((offset, size))
    with tempfile.NamedTemporaryFile(suffix=".mp3") as tmp:
        for offset, size in clips:
            tmp.write(data[offset : offset + size])
        tmp.flush()
        got = audio_info(Path(tmp.name))
    result = {"file": path.name, "speech_clips": len(clips), "speech_bytes": sum(s for _, s in clips)}
    if got:
        result.update(seconds=round(got[0], 1), sample_rate=got[1], channels=got[2], format=got[3])
    return result


def soundfont_info(path: Path) -> dict:
    """Presets, instruments, samples, sample rates and (SF2) seconds of sample data."""
    data = path.read_bytes()
    info: dict = {"file": path.name, "bytes": len(data)}
    if data[:4] != b"RIFF" or data[8:12] != b"sfbk":
        info["error"] = "not a RIFF sfbk file"
        return info
    pos = 12
    while pos + 8 <= len(data):
        cid, size = struct.unpack_from("<4sI", data, pos)
        if cid == b"LIST":
            ltype = data[pos + 8 : pos + 12]
            sub, end = pos + 12, pos + 8 + size
            while sub + 8 <= end:
                sid, ssize = struct.unpack_from("<4sI", data, sub)
                body = data[sub + 8 : sub + 8 + ssize]
                if ltype == b"INFO" and sid in (b"INAM", b"ICOP", b"ifil"):
                    if sid == b"ifil":
                        info["version"] = "{}.{}".format(*struct.unpack_from("<HH", body))
                    else:
                        info[sid.decode().lower()] = body.split(b"\0")[0].decode("latin-1")
                elif ltype == b"sdta" and sid == b"smpl":
                    info["sample_data_bytes"] = ssize
                elif ltype == b"pdta" and sid == b"phdr":
                    info["presets"] = ssize // 38 - 1
                    banks = {struct.unpack_from("<H", body, 38 * k + 22)[0] for k in range(ssize // 38 - 1)}
                    info["banks"] = sorted(banks)
                elif ltype == b"pdta" and sid == b"inst":
                    info["instruments"] = ssize // 22 - 1
                elif ltype == b"pdta" and sid == b"shdr":
                    n = ssize // 46 - 1
                    rates: collections.Counter = collections.Counter()
                    frames = 0
                    for k in range(n):
                        start, end_, _ls, _le, rate = struct.unpack_from("<5I", body, 46 * k + 20)
                        rates[rate] += 1
                        frames += max(0, end_ - start) / rate if rate else 0
                    info["samples"] = n
                    info["sample_rates"] = dict(rates.most_common())
                    if info.get("version", "2").startswith("2"):
                        info["sample_seconds"] = round(frames, 1)
                sub += 8 + ssize + (ssize & 1)
        pos += 8 + size + (size & 1)
    return info


def summarise(root: Path) -> dict:
    by_ext: collections.Counter = collections.Counter()
    audio = {
        "files": 0,
        "seconds": 0.0,
        "unreadable": 0,
        "rates": collections.Counter(),
        "channels": collections.Counter(),
        "formats": collections.Counter(),
    }
    midi = {"files": 0, "seconds": 0.0, "unreadable": 0}
    soundfonts, wads, trackers, scummvm = [], [], 0, []
    for path in sorted(p for p in root.rglob("*") if p.is_file() and not p.is_symlink()):
        ext = path.suffix.lower()
        by_ext[ext or "(none)"] += 1
        if ext in AUDIO_EXT:
            got = audio_info(path)
            audio["files"] += 1
            if got is None:
                audio["unreadable"] += 1
                continue
            seconds, rate, channels, fmt = got
            audio["seconds"] += seconds
            audio["rates"][rate] += 1
            audio["channels"][channels] += 1
            audio["formats"][fmt] += 1
        elif ext in MIDI_EXT:
            midi["files"] += 1
            seconds = midi_seconds(path)
            if seconds is None:
                midi["unreadable"] += 1
            else:
                midi["seconds"] += seconds
        elif ext in (".sf2", ".sf3"):
            soundfonts.append(soundfont_info(path))
        elif ext == ".wad":
            lumps = wad_music(path)
            if lumps:
                wads.append(
                    {
                        "file": path.name,
                        "music_lumps": len(lumps),
                        "formats": dict(collections.Counter(f for _, f, _ in lumps)),
                        "seconds": round(sum(s or 0 for _, _, s in lumps), 1),
                    }
                )
        elif path.name.lower() == "queen.1c":
            scummvm.append(queen_speech(path))
        elif ext in TRACKER_EXT:
            trackers += 1
    return {
        "root": str(root),
        "files_by_extension": dict(by_ext.most_common(12)),
        "audio": {
            "files": audio["files"],
            "hours": round(audio["seconds"] / 3600, 3),
            "unreadable": audio["unreadable"],
            "sample_rates": dict(audio["rates"].most_common()),
            "channels": dict(audio["channels"].most_common()),
            "formats": dict(audio["formats"].most_common()),
        },
        "midi": {"files": midi["files"], "hours": round(midi["seconds"] / 3600, 3), "unreadable": midi["unreadable"]},
        "tracker_modules": trackers,
        "soundfonts": soundfonts,
        "wads": wads,
        "scummvm_speech": scummvm,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("roots", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="also write all summaries to this file")
    args = parser.parse_args(argv)
    results = []
    for root in args.roots:
        result = summarise(root)
        results.append(result)
        print(json.dumps(result), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
