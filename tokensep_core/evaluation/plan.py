"""Which metrics score which stems: :class:`MetricSpec` lists, the default plan, building them."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokensep_core.config import ComponentSpec, validate_model
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Metric
from tokensep_core.registry import ComponentRegistry

ALL_STEMS_METRICS: tuple[str, ...] = ("si_sdr", "usdr", "csdr", "visqol")
DRUM_METRICS: tuple[str, ...] = ("onset_f", "attack_error")


class MetricSpec(ComponentSpec):
    """A registered metric, its params, and the stems it scores (None: every stem)."""

    stems: list[str] | None = None


OPT_IN_STEMS: dict[str, list[str]] = {"dnsmos": ["vocals"]}
"""Metrics left out of the default plan (DNSMOS: ~0.5 s per 9 s window) -> the stems they score
when named without ``stems``."""


def default_metric_specs(nisqa_weights: Path | None = None) -> list[MetricSpec]:
    """SI-SDR, uSDR, cSDR and ViSQOL on every stem; onset F and attack error on drums; NISQA on
    vocals when its weights are given."""
    specs = [MetricSpec(name=name) for name in ALL_STEMS_METRICS]
    specs += [MetricSpec(name=name, stems=["drums"]) for name in DRUM_METRICS]
    if nisqa_weights is not None:
        specs.append(MetricSpec(name="nisqa", params={"weights": str(nisqa_weights)}, stems=["vocals"]))
    return specs


def select_metrics(chosen: Sequence[str | MetricSpec] | None, nisqa_weights: Path | None = None) -> list[MetricSpec]:
    """The default plan restricted to ``chosen`` (None: all of it), in the order given. A bare
    name takes the plan's spec; a spec overrides the fields it sets (e.g. ``params`` of
    ``onset_f`` keeps the plan's drums). A metric outside the plan scores the stems of
    :data:`OPT_IN_STEMS` (``dnsmos``: vocals), else every stem, unless its spec names ``stems``."""
    plan = default_metric_specs(nisqa_weights)
    if chosen is None:
        return plan
    by_name = {spec.name: spec for spec in plan}
    selected: list[MetricSpec] = []
    for item in chosen:
        spec = MetricSpec(name=item) if isinstance(item, str) else item
        if spec.name == "nisqa" and "nisqa" not in by_name and not spec.params:
            raise ConfigError("metric 'nisqa' needs the NISQA weights (--nisqa-weights PATH)")
        base = by_name.get(spec.name)
        if base is None and spec.name in OPT_IN_STEMS:
            base = MetricSpec(name=spec.name, stems=OPT_IN_STEMS[spec.name])
        spec = spec if base is None else base.model_copy(update={field: getattr(spec, field) for field in spec.model_fields_set})
        if spec not in selected:  # the same metric named twice counts once
            selected.append(spec)
    return selected


def parse_metric_specs(text: str, source: str = "--metrics") -> list[MetricSpec]:
    """A command line's metrics: comma-separated names (``si_sdr,csdr``), one JSON spec
    (``{"name": "onset_f", "params": {...}, "stems": [...]}``) or a JSON list of names and specs,
    as in a bench grid's ``metrics``."""
    text = text.strip()
    if text.startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"{source}: not valid JSON ({err.msg})") from None
        items = data if isinstance(data, list) else [data]
    else:
        items = [name.strip() for name in text.split(",") if name.strip()]
    return [validate_model(MetricSpec, item, f"{source}[{i}]") for i, item in enumerate(named_specs(items))]


def named_specs(items: Any) -> Any:
    """A list of metric specs with bare names written as ``{"name": name}`` (other values as given)."""
    if isinstance(items, list):
        return [{"name": item} if isinstance(item, str) else item for item in items]
    return items


@dataclass
class BuiltMetric:
    """A metric ready to score: its spec and the component."""

    spec: MetricSpec
    metric: Metric

    @property
    def name(self) -> str:
        return self.spec.name

    def applies_to(self, stem: str) -> bool:
        return self.spec.stems is None or stem in self.spec.stems


def build_metrics(registry: ComponentRegistry, specs: Sequence[MetricSpec], source: str = "metrics") -> list[BuiltMetric]:
    """Build every metric once (ViSQOL and NISQA load models); names must be distinct."""
    names = [spec.name for spec in specs]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"{source}: metric {duplicates[0]!r} is listed twice")
    return [BuiltMetric(spec, registry.build("metric", spec, source=source)) for spec in specs]
