"""General MIDI drum notes mapped onto the pieces of a drum kit that has no GM note map (Hydrogen
kits), by the pieces' names.

Each name is given a role (``kick``, ``snare``, ``hat_closed``, ``tom``, ``crash``, ``ride``,
``crash_ride``, ``cowbell``, ...); each GM note lists the roles that may play it, best first (a
crash/ride cymbal plays a crash or a ride only where the kit has no plain one, a semi-open hi-hat
the open one only where it has no open one). Where a kit has two
pieces of a role, the GM note pairs 36/35, 38/40, 49/57 and 51/59 take the first and the second.
Toms are ordered low to high by their names (floor, low, mid, high; rack toms by number) and the
six GM toms (41, 43, 45, 47, 48, 50) spread over them; bongos, congas and timbales fall back to
the toms where the kit has none of its own. Other notes whose roles the kit lacks are not played.
"""

from __future__ import annotations

import re

GM_TOMS = (41, 43, 45, 47, 48, 50)  # low floor tom .. high tom
HAND_DRUMS_ON_TOMS = {60: 1.0, 61: 0.8, 62: 0.6, 63: 0.6, 64: 0.3, 65: 0.9, 66: 0.5}  # bongos, congas, timbales: 0 lowest tom, 1 highest
SECOND_OF_ROLE = {35: 36, 40: 38, 57: 49, 59: 51}  # GM note -> the note that takes the first piece of the role
CYMBALS = ("crash", "crash_ride", "cymbal", "china", "splash")
GM_ROLES: dict[int, tuple[str, ...]] = {
    35: ("kick",),
    36: ("kick",),
    37: ("stick", "rimshot"),
    38: ("snare", "snare_roll"),
    39: ("clap",),
    40: ("snare", "snare_roll"),
    42: ("hat_closed", "hat_pedal", "hat_open"),
    44: ("hat_pedal", "hat_closed"),
    46: ("hat_open", "hat_half", "hat_closed"),
    49: CYMBALS,
    52: ("china", "crash", "cymbal"),
    55: ("splash", "crash", "cymbal"),
    57: CYMBALS,
    51: ("ride", "crash_ride", "ride_bell", "crash", "cymbal"),
    53: ("ride_bell", "ride"),
    59: ("ride", "crash_ride", "ride_bell", "crash", "cymbal"),
    54: ("tambourine",),
    56: ("cowbell",),
    60: ("bongo",),
    61: ("bongo",),
    62: ("conga",),
    63: ("conga",),
    64: ("conga",),
    65: ("timbale",),
    66: ("timbale",),
    67: ("agogo",),
    68: ("agogo",),
    69: ("cabasa", "shaker"),
    70: ("maraca", "shaker"),
    71: ("whistle",),
    72: ("whistle",),
    73: ("guiro",),
    74: ("guiro",),
    75: ("clave",),
    76: ("woodblock",),
    77: ("woodblock",),
    80: ("triangle",),
    81: ("triangle",),
    82: ("shaker", "maraca"),
}
PERCUSSION = ("cowbell", "tambourine", "bongo", "conga", "timbale", "agogo", "cabasa", "shaker", "maraca", "whistle", "guiro")
PERCUSSION += ("clave", "woodblock", "triangle")
TOM_HEIGHTS = {"floor": 0.0, "low": 1.0, "lo": 1.0, "mid": 2.0, "middle": 2.0, "hi": 3.0, "high": 3.0}


def _words(name: str) -> list[str]:
    """Lower-case words of ``name``, letters split from digits (``tomhi2`` -> ``tomhi 2``)."""
    spaced = re.sub(r"(?<=[a-z])(?=\d)|(?<=\d)(?=[a-z])", " ", name.lower())
    return re.findall(r"[a-z]+|\d+", spaced.replace("hi-hat", "hihat").replace("hi hat", "hihat"))


def role_of(name: str) -> str | None:
    """The kit piece a name describes (see the module doc), or None (unknown or numbered slots)."""
    words = _words(name)
    text = " ".join(words)
    has = set(words).__contains__
    if has("kick") or has("bd") or "bass drum" in text or "bassdrum" in text:
        return "kick"
    if has("cowbell"):
        return "cowbell"
    if any(w in ("hihat", "hh", "ohh") or w.startswith("hat") for w in words):
        if any(w.startswith(("semi", "half")) for w in words):
            return "hat_half"
        if has("ohh") or any(w.startswith(("open", "swish")) for w in words) or has("op"):
            return "hat_open"
        return "hat_pedal" if has("pedal") or has("pd") or has("foot") else "hat_closed"
    if "rimshot" in text or "rim shot" in text:
        return "rimshot"
    if has("stick") or (has("rim") and not has("snare")):
        return "stick"
    if any(w.startswith("snare") for w in words):
        return "snare_roll" if has("roll") else "snare"
    if has("clap"):
        return "clap"
    if any(w.startswith("tom") for w in words):
        return "tom"
    for cymbal in ("china", "splash"):
        if any(w.startswith(cymbal) for w in words):
            return cymbal
    if any(w.startswith("crash") for w in words):
        if not has("ride"):
            return "crash"
        return "ride_bell" if has("bell") or has("cup") else "crash_ride"
    if has("ride"):
        return "ride_bell" if has("bell") or has("cup") else "ride"
    if has("bell"):
        return "ride_bell"
    if has("cymbal"):
        return "cymbal"
    for piece in PERCUSSION:
        if any(w.startswith(piece) for w in words) or (piece == "woodblock" and "wood block" in text):
            return piece
    return None


def _tom_height(name: str) -> float:
    """Low (floor) to high, from a tom's name: keywords, else rack toms by number (1 highest)."""
    words = _words(name.replace("tom", " tom "))
    heights = [TOM_HEIGHTS[w] for w in words if w in TOM_HEIGHTS]
    numbers = [int(w) for w in words if w.isdigit() and int(w) < 10]
    return (heights[0] if heights else 2.0) - 0.1 * (numbers[0] if numbers else 0)


def gm_note_map(names: list[str]) -> dict[int, int]:
    """GM drum note -> index into ``names`` (the kit's pieces) of the piece that plays it."""
    roles: dict[str, list[int]] = {}
    for index, name in enumerate(names):
        role = role_of(name)
        if role is not None:
            roles.setdefault(role, []).append(index)
    roles["tom"] = sorted(roles.get("tom", []), key=lambda i: _tom_height(names[i]))  # stable: kit order among equals
    mapping = {}
    for note, wanted in GM_ROLES.items():
        role = next((r for r in wanted if roles.get(r)), None)
        if role is not None:
            pieces = roles[role]
            second = note in SECOND_OF_ROLE and role == next(r for r in GM_ROLES[SECOND_OF_ROLE[note]] if roles.get(r))
            mapping[note] = pieces[1] if second and len(pieces) > 1 else pieces[0]
    toms = roles["tom"]
    for i, note in enumerate(GM_TOMS if toms else ()):
        mapping[note] = toms[round(i * (len(toms) - 1) / (len(GM_TOMS) - 1))]
    for note, height in HAND_DRUMS_ON_TOMS.items() if toms else ():
        mapping.setdefault(note, toms[round(height * (len(toms) - 1))])
    return mapping


def missing_core(names: list[str]) -> list[str]:
    """Which of kick and snare a kit with these piece names lacks (a kit needs both)."""
    found = {role_of(name) for name in names}
    return [piece for piece, roles in (("kick", {"kick"}), ("snare", {"snare", "snare_roll"})) if not found & roles]
