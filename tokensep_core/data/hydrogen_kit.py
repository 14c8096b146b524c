"""Reading a Hydrogen drum kit (``drumkit.xml`` and its one-shot samples), as Debian's
``hydrogen-drumkits`` and ``hydrogen-data`` ship them.

Both layouts Hydrogen has used are read: instruments with ``<layer>`` elements (directly or inside
``<instrumentComponent>``), each a sample file with a velocity range ``min``..``max`` (0..1) and a
gain; and the older instruments with one ``<filename>`` (one layer for every velocity). Gains are
``volume`` x ``gain`` of the instrument x the component's and the layer's ``gain``; pan is
``pan_L``/``pan_R`` (channel gains) or ``pan`` (-1..1). Layers whose file is missing are dropped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from tokensep_core.errors import TokensepError

DRUMKIT_FILE = "drumkit.xml"


@dataclass(frozen=True)
class Layer:
    """One sample of an instrument, played for velocities ``low``..``high`` (0..1)."""

    file: Path
    low: float
    high: float
    gain: float
    pitch: float  # semitones


@dataclass(frozen=True)
class KitInstrument:
    """A kit piece: its name, channel gains ``(left, right)``, mute group (-1: none) and layers."""

    name: str
    gain: float
    pan: tuple[float, float]
    mute_group: int
    layers: tuple[Layer, ...]


@dataclass(frozen=True)
class HydrogenKit:
    name: str
    folder: Path
    licence: str
    instruments: tuple[KitInstrument, ...]  # only those with at least one layer whose file exists


def _local(tag: str) -> str:
    """An element tag without its XML namespace."""
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _text(element: ET.Element, name: str, default: str = "") -> str:
    child = _child(element, name)
    return (child.text or "").strip() if child is not None and child.text else default


def _number(element: ET.Element, name: str, default: float, xml: Path) -> float:
    text = _text(element, name)
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise TokensepError(f"{xml}: <{name}> is {text!r}, not a number") from None


def drumkit_xml(path: Path) -> Path:
    """The ``drumkit.xml`` of a kit given as its folder or as the file itself."""
    xml = path / DRUMKIT_FILE if path.is_dir() else path
    if not xml.is_file():
        raise TokensepError(f"{path}: no {DRUMKIT_FILE} (a Hydrogen drum kit is a folder holding one)")
    return xml


def read_drumkit(path: Path) -> HydrogenKit:
    """Parse the kit at ``path`` (folder or ``drumkit.xml``); muted instruments and instruments
    without a sample file on disk are left out."""
    xml = drumkit_xml(path)
    try:
        root = ET.parse(xml).getroot()
    except (ET.ParseError, OSError) as err:
        raise TokensepError(f"{xml}: not a readable Hydrogen drumkit.xml ({err})") from None
    listing = _child(root, "instrumentList")
    if _local(root.tag) != "drumkit_info" or listing is None:
        raise TokensepError(f"{xml}: not a Hydrogen drumkit.xml (no <drumkit_info>/<instrumentList>)")
    instruments = []
    for element in (c for c in listing if _local(c.tag) == "instrument"):
        if _text(element, "isMuted").lower() == "true":
            continue
        instrument = _read_instrument(element, xml)
        if instrument.layers:
            instruments.append(instrument)
    return HydrogenKit(_text(root, "name", xml.parent.name), xml.parent, _text(root, "license"), tuple(instruments))


def _read_instrument(element: ET.Element, xml: Path) -> KitInstrument:
    layers = []
    for holder in [element, *(c for c in element if _local(c.tag) == "instrumentComponent")]:
        component_gain = _number(holder, "gain", 1.0, xml) if holder is not element else 1.0
        for layer in (c for c in holder if _local(c.tag) == "layer"):
            name = _text(layer, "filename")
            low, high = _number(layer, "min", 0.0, xml), _number(layer, "max", 1.0, xml)
            gain = component_gain * _number(layer, "gain", 1.0, xml)
            if name:
                layers.append(Layer(xml.parent / name, low, high, gain, _number(layer, "pitch", 0.0, xml)))
    if not layers and _text(element, "filename"):  # the older layout: one sample per instrument
        layers = [Layer(xml.parent / _text(element, "filename"), 0.0, 1.0, 1.0, 0.0)]
    if _child(element, "pan") is not None:
        position = min(max(_number(element, "pan", 0.0, xml), -1.0), 1.0)
        pan = (min(1.0, 1.0 - position), min(1.0, 1.0 + position))
    else:
        pan = (_number(element, "pan_L", 1.0, xml), _number(element, "pan_R", 1.0, xml))
    return KitInstrument(
        name=_text(element, "name"),
        gain=_number(element, "volume", 1.0, xml) * _number(element, "gain", 1.0, xml),
        pan=pan,
        mute_group=int(_number(element, "muteGroup", -1, xml)),
        layers=tuple(layer for layer in layers if layer.file.is_file()),
    )


def pick_layer(instrument: KitInstrument, velocity: float) -> Layer:
    """The first layer whose range holds ``velocity`` (0..1), else the one whose range is nearest."""
    for layer in instrument.layers:
        if layer.low <= velocity <= layer.high:
            return layer
    return min(instrument.layers, key=lambda layer: max(layer.low - velocity, velocity - layer.high))
