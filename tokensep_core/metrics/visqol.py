"""ViSQOL v3 in audio mode (visqol-python): full-reference perceptual quality, MOS-LQO in
about [1, 4.75]. Both signals are resampled to 48 kHz (the rate the audio model is trained for)
and mixed down to mono by averaging channels (``channels="mean"``), or scored channel by
channel with the scores averaged (``channels="per_channel"``)."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import Field
from torch import Tensor

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import Metric
from tokensep_core.metrics.common import MetricError, check_pair, resample, to_mono, to_numpy

VISQOL_RATE = 48000


class ViSQOLConfig(ComponentConfig):
    channels: Literal["mean", "per_channel"] = "mean"
    search_window: int = Field(60, ge=1, description="ViSQOL's alignment search radius (its default)")


class ViSQOL(Metric):
    """ViSQOL v3 audio-mode MOS-LQO of the estimate against the reference, at 48 kHz."""

    Config = ViSQOLConfig
    name = "visqol"
    higher_is_better = True

    def __init__(self, config: ViSQOLConfig) -> None:
        from visqol import VisqolApi

        logging.getLogger("visqol").setLevel(logging.ERROR)  # it logs every alignment step
        self.config = config
        self.api = VisqolApi()
        self.api.create(mode="audio", search_window=config.search_window)

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference, estimate ``[C, T]`` -> MOS-LQO."""
        ref, est = check_pair(self.name, reference, estimate)
        ref, est = resample(ref, sample_rate, VISQOL_RATE), resample(est, sample_rate, VISQOL_RATE)
        if self.config.channels == "mean":
            pairs = [(to_mono(ref), to_mono(est))]
        else:
            pairs = list(zip(ref, est))
        scores = [self._score(r, e) for r, e in pairs]
        return float(sum(scores) / len(scores))

    def _score(self, reference: Tensor, estimate: Tensor) -> float:
        """Mono ``[T]`` signals at 48 kHz -> MOS-LQO."""
        try:
            result = self.api.measure_from_arrays(to_numpy(reference), to_numpy(estimate), VISQOL_RATE)
        except ValueError as err:  # e.g. clips shorter than ViSQOL's analysis window (~1 s)
            raise MetricError(
                f"visqol: cannot score {reference.shape[-1] / VISQOL_RATE:.2f} s of audio ({str(err).splitlines()[0]})"
            ) from None
        return float(result.moslqo)
