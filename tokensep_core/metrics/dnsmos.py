"""DNSMOS (Reddy et al., ICASSP 2021 and 2022): Microsoft's no-reference speech-quality
predictor from the Deep Noise Suppression challenge. The official ONNX models ship inside the
``speechmos`` package (MIT, version 0.0.1.1), which this metric calls; nothing is downloaded at
run time and the model is not reimplemented here.

Outputs, each a MOS on a 1-5 scale (not clipped to it): ``ovrl``, ``sig`` and ``bak`` from the P.835 model
(overall quality, speech signal, background noise), and ``p808`` from the P.808 model (overall
quality). ``personalized`` picks the personalized P.835 model (trained to also penalise
interfering talkers); it leaves ``p808`` unchanged.

Pipeline: channel mean -> 16 kHz (torchaudio's sinc resampler) -> scaled down by its peak if
that peak exceeds 1 -> ``speechmos.dnsmos.DNSMOS`` (9.01 s windows every 1 s, the mean of the
window scores; audio shorter than 9.01 s is repeated end to end, doubling its length, until it
reaches 9.01 s).

Caveats:

- A speech model. On a vocals stem it scores singing, out of its training domain: on the real
  MUSDB vocals in ``../shared/data/real`` (6 s) OVRL is 1.29 clean, 1.19 and 1.13 with white
  noise at 20 and 0 dB SNR, near the floor of the scale; P.808 spreads more (3.01, 2.84,
  2.29). Digital silence gets OVRL 1.84: a silent estimate outscores the clean vocals. On
  non-speech it can invert: 1 s of two pure sines gets OVRL 1.00, the same under heavy white
  noise 1.19 (so it does not pass the generic metric conformance check, whose signal is that).
- Level-dependent: the P.835 model reads the raw waveform (P.808 normalises its mel spectrogram
  to its maximum): the same clip at gains 0.25, 1 and 2 scores OVRL 1.46, 1.29 and 1.17. The
  estimate's level is therefore kept as it is, except that an estimate whose peak exceeds 1
  (which speechmos refuses) is scaled down to peak 1: scaled rather than clipped, so as not to
  add distortion.
- Cost (2 busy CPU cores, measured beside a training job): about 0.5 s per 9.01 s window, so
  ~3.5 s for an 8 s clip (repeated to 16 s: 7 windows), ~1 s for a 6 s clip (2 windows), ~0.5 s
  for 9-10 s (1 window), ~115 s for a 4 min stem; the first call also pays a ~3.5 s one-off
  warm-up in librosa. Too slow for the default evaluation plan.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from pydantic import Field
from torch import Tensor

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import Metric
from tokensep_core.metrics.common import MetricError, check_pair, resample, to_mono

DNSMOS_RATE = 16000
"""The only sample rate the DNSMOS models take."""

OUTPUTS: dict[str, str] = {"ovrl": "ovrl_mos", "sig": "sig_mos", "bak": "bak_mos", "p808": "p808_mos"}
"""Config ``output`` -> the key speechmos gives it."""


class DNSMOSConfig(ComponentConfig):
    output: Literal["ovrl", "sig", "bak", "p808"] = Field(
        "ovrl",
        description="P.835 overall (ovrl: what DNSMOS papers report, likely the tokensep paper's figure), signal (sig), background (bak), or P.808 overall (p808)",
    )
    personalized: bool = Field(False, description="the personalized P.835 model (penalises interfering talkers); p808 is unaffected")


class DNSMOS(Metric):
    """DNSMOS MOS (``output``) of the estimate alone, official ONNX models via speechmos.

    The reference is not used (only shape-checked); channel mean, 16 kHz, peak-limited to 1."""

    Config = DNSMOSConfig
    name = "dnsmos"
    higher_is_better = True

    def __init__(self, config: DNSMOSConfig) -> None:
        try:  # lazily: onnxruntime and librosa stay out of `tokensep --help`
            from speechmos import dnsmos as speechmos_dnsmos
        except ImportError as err:
            raise MetricError(f"metric dnsmos: needs the packages speechmos and onnxruntime ({err})") from None
        self.config = config
        models = Path(speechmos_dnsmos.__file__).parent
        primary = models / ("pdnsmos_models" if config.personalized else "dnsmos_models") / "sig_bak_ovr.onnx"
        p808 = models / "dnsmos_models" / "model_v8.onnx"
        for path in (primary, p808):
            if not path.is_file():
                raise MetricError(f"metric dnsmos: {path} is missing from the installed speechmos (tokensep needs speechmos 0.0.1.1)")
        self.model: Any = speechmos_dnsmos.DNSMOS(str(primary), str(p808))

    def prepare(self, wav: Tensor, sample_rate: int) -> np.ndarray:
        """wav ``[C, T]`` at ``sample_rate`` -> float32 ``[T']`` at 16 kHz, channel mean, peak at most 1."""
        if wav.dim() != 2:
            raise MetricError(f"metric dnsmos: estimate must be [channels, samples], got shape {list(wav.shape)}")
        if wav.shape[-1] == 0 or wav.shape[0] == 0:
            raise MetricError(f"metric dnsmos: estimate is empty (shape {list(wav.shape)})")
        mono = to_mono(wav.detach().to("cpu", torch.float64))
        if not torch.isfinite(mono).all():
            raise MetricError("metric dnsmos: estimate has NaN or infinite samples")
        mono = resample(mono, sample_rate, DNSMOS_RATE)
        peak = float(mono.abs().max())
        if peak > 1.0:  # speechmos refuses samples outside [-1, 1]; scaling, not clipping, adds no distortion
            mono = mono / peak
        return mono.to(torch.float32).numpy()

    def predict(self, wav: Tensor, sample_rate: int) -> dict[str, float]:
        """wav ``[C, T]`` -> ``{output: MOS}`` for ovrl, sig, bak and p808."""
        scores = self.model(self.prepare(wav, sample_rate), DNSMOS_RATE, self.config.personalized)
        return {output: float(scores[key]) for output, key in OUTPUTS.items()}

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference (unused, shape-checked), estimate ``[C, T]`` -> the configured MOS."""
        check_pair(self.name, reference, estimate)
        return self.predict(estimate, sample_rate)[self.config.output]
