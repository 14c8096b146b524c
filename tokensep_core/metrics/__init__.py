"""Evaluation metrics (registry kind ``metric``): SI-SDR, uSDR, cSDR (BSSEval v4), ViSQOL,
NISQA, DNSMOS, drum transient metrics, multi-resolution log-mel distance, plus the per-track aggregation rules. See docs/metrics.md."""

from tokensep_core.metrics.aggregate import aggregate_tracks, csdr_over_tracks, usdr_over_tracks
from tokensep_core.metrics.bsseval import CSDR, bss_eval_sources
from tokensep_core.metrics.common import MetricError
from tokensep_core.metrics.dnsmos import DNSMOS
from tokensep_core.metrics.mel import MelDistance
from tokensep_core.metrics.nisqa import NISQA, load_nisqa
from tokensep_core.metrics.sdr import SISDR, USDR
from tokensep_core.metrics.transients import AttackError, OnsetF
from tokensep_core.metrics.visqol import ViSQOL

METRICS: dict[str, type] = {
    "si_sdr": SISDR,
    "usdr": USDR,
    "csdr": CSDR,
    "visqol": ViSQOL,
    "nisqa": NISQA,
    "dnsmos": DNSMOS,
    "onset_f": OnsetF,
    "attack_error": AttackError,
    "mel_distance": MelDistance,
}
"""Every built-in metric by registry name."""

__all__ = [
    "METRICS",
    "AttackError",
    "CSDR",
    "DNSMOS",
    "MelDistance",
    "MetricError",
    "NISQA",
    "OnsetF",
    "SISDR",
    "USDR",
    "ViSQOL",
    "aggregate_tracks",
    "bss_eval_sources",
    "csdr_over_tracks",
    "load_nisqa",
    "usdr_over_tracks",
]
