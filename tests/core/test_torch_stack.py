"""The pinned torch/torchaudio pair imports and runs on the CPU."""

import math

import torch
import torchaudio


def test_torchaudio_runs_on_cpu() -> None:
    sample_rate = 16000
    t = torch.arange(sample_rate) / sample_rate
    tone = torch.sin(2 * math.pi * 1000 * t).unsqueeze(0)
    down = torchaudio.functional.resample(tone, sample_rate, 8000)
    assert down.shape == (1, 8000)
    mel = torchaudio.transforms.MelSpectrogram(sample_rate, n_fft=512, n_mels=40)(tone)
    peak_bin = mel[0].mean(-1).argmax().item()
    centers = torchaudio.functional.melscale_fbanks(257, 0.0, sample_rate / 2, 40, sample_rate).argmax(0)
    assert abs(centers[peak_bin].item() * (sample_rate / 2) / 256 - 1000) < 150, "the 1 kHz tone must land in the mel bin around 1 kHz"
    assert torch.__version__.startswith("2.14.1") and torchaudio.__version__.startswith("2.11.0")
