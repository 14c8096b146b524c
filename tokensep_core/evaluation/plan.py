"""Which metrics score which stems: :class:`MetricSpec` lists, the default plan, building them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tokensep_core.config import ComponentSpec
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Metric
from tokensep_core.registry import ComponentRegistry

ALL_STEMS_METRICS: tuple[str, ...] = ("si_sdr", "usdr", "csdr", "visqol")
DRUM_METRICS: tuple[str, ...] = ("onset_f", "attack_error")


class MetricSpec(ComponentSpec):
    """A registered metric, its params, and the stems it scores (None: every stem)."""

    stems: list[str] | None = None


def default_metric_specs(nisqa_weights: Path | None = None) -> list[MetricSpec]:
    """SI-SDR, uSDR, cSDR and ViSQOL on every stem; onset F and attack error on drums; NISQA on
    vocals when its weights are given."""
    specs = [MetricSpec(name=name) for name in ALL_STEMS_METRICS]
    specs += [MetricSpec(name=name, stems=["drums"]) for name in DRUM_METRICS]
    if nisqa_weights is not None:
        specs.append(MetricSpec(name="nisqa", params={"weights": str(nisqa_weights)}, stems=["vocals"]))
    return specs


def select_metrics(names: Sequence[str] | None, nisqa_weights: Path | None = None) -> list[MetricSpec]:
    """The default plan restricted to ``names`` (None: all of it), in the order given; a name
    outside the plan scores every stem with default params."""
    plan = default_metric_specs(nisqa_weights)
    if names is None:
        return plan
    by_name = {spec.name: spec for spec in plan}
    if "nisqa" in names and "nisqa" not in by_name:
        raise ConfigError("metric 'nisqa' needs the NISQA weights (--nisqa-weights PATH)")
    return [by_name.get(name, MetricSpec(name=name)) for name in dict.fromkeys(names)]


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
