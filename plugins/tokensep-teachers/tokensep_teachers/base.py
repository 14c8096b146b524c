"""What the teacher separators share: config, weights, device, resampling and chunked inference."""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import torch
from pydantic import Field
from torch import Tensor, nn

from tokensep_core import STEMS
from tokensep_core.audio.chunking import chunked_apply
from tokensep_core.audio.io import convert
from tokensep_core.audio.length import fit_length
from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import Separator
from tokensep_core.runtime.device import resolve_device
from tokensep_teachers.checkpoint import load_weights


class TeacherConfig(ComponentConfig):
    stems: tuple[str, ...] = Field(STEMS, min_length=1, description="stems the network outputs, in its output order")
    checkpoint: Path | None = Field(None, description="local weights (.safetensors, or a torch pickle of tensors); none: random init")
    seed: int = Field(0, description="seed of the random initialisation when there is no checkpoint")
    sample_rate: int = Field(44100, gt=0, description="rate the network runs at")
    channels: int = Field(2, ge=1, le=2, description="audio channels the network takes")
    segment: float = Field(8.0, gt=0, description="seconds per inference segment")
    overlap: float = Field(0.25, ge=0, lt=1, description="fraction of a segment shared with the next")
    batch_size: int = Field(1, ge=1, description="segments per forward pass")
    device: str = Field("auto", description="auto, cpu, cuda, cuda:1, mps")


class NetworkSeparator(Separator):
    """A waveform network ``[B, C, L] -> [B, S, C, L]`` run over overlapping segments.

    Subclasses build the network (:meth:`build_network`) and may adapt a batch
    (:meth:`forward_batch`). The network is built under its own seed so building does not
    disturb the global random state.
    """

    config: TeacherConfig

    def __init__(self, config: TeacherConfig) -> None:
        self.config = config
        self.stems = config.stems
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.device = resolve_device(config.device)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            self.network = self.build_network()
        if config.checkpoint is not None:
            load_weights(self.network, config.checkpoint, f"{type(self).__name__} {type(self.network).__name__}")
        self.network.to(self.device).eval()

    @abstractmethod
    def build_network(self) -> nn.Module:
        """The untrained network described by ``self.config``."""

    def forward_batch(self, segments: Tensor) -> Tensor:
        """segments ``[B, C, L]`` at ``sample_rate`` -> stems ``[B, S, C, L]``."""
        return self.network(segments)

    @property
    def segment_samples(self) -> int:
        return int(self.config.segment * self.sample_rate)

    def separate(self, wav: Tensor, sample_rate: int) -> dict[str, Tensor]:
        """mixture ``[C, T]`` -> ``{stem: [C, T]}`` at the input's rate and channels."""
        channels, length = wav.shape
        model_wav = convert(wav.float(), sample_rate, self.sample_rate, self.channels)

        def run(segments: Tensor) -> Tensor:
            return self.forward_batch(segments.to(self.device)).float().cpu()

        with torch.inference_mode():
            stems = chunked_apply(run, model_wav, self.segment_samples, self.config.overlap, self.config.batch_size)
        stems = convert(stems, self.sample_rate, sample_rate, channels)
        stems = fit_length(stems, length)
        return {name: stems[i] for i, name in enumerate(self.stems)}
