"""Evaluating separators on test songs (``tokensep eval separator``): metrics per stem and song,
real-time factor and peak memory, tables in Markdown/CSV and JSON. See docs/benchmarks.md."""

from tokensep_core.evaluation.evaluate import Evaluation, SongResult, evaluate, reseed, select_songs
from tokensep_core.evaluation.plan import BuiltMetric, MetricSpec, build_metrics, default_metric_specs, parse_metric_specs, select_metrics
from tokensep_core.evaluation.tables import write_evaluation

__all__ = [
    "BuiltMetric",
    "Evaluation",
    "MetricSpec",
    "SongResult",
    "build_metrics",
    "default_metric_specs",
    "evaluate",
    "parse_metric_specs",
    "reseed",
    "select_metrics",
    "select_songs",
    "write_evaluation",
]
