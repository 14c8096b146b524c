"""HTDemucs (the ``demucs`` package's Hybrid Transformer Demucs) as a tokensep separator."""

from __future__ import annotations

from pydantic import Field
from torch import nn

from tokensep_core.errors import ConfigError
from tokensep_teachers.base import NetworkSeparator, TeacherConfig


class HTDemucsConfig(TeacherConfig):
    """Architecture fields default to the ``HTDemucs`` class defaults."""

    segment: float = Field(7.8, gt=0, description="seconds the network was trained on; also the inference segment")
    channels_hidden: int = Field(48, ge=1, description="hidden channels of the first layer")
    growth: int = Field(2, ge=1, description="channel growth per layer")
    depth: int = Field(4, ge=1, description="encoder/decoder layers")
    nfft: int = Field(4096, ge=16, description="STFT size of the spectral branch")
    t_layers: int = Field(5, ge=1, description="cross-domain transformer layers")
    t_heads: int = Field(8, ge=1, description="transformer attention heads")
    dconv_comp: int = Field(8, ge=1, description="compression of the residual dilated conv branch")
    bottom_channels: int = Field(0, ge=0, description="channels before the transformer (0: no projection)")


class HTDemucsSeparator(NetworkSeparator):
    """Hybrid Transformer Demucs (demucs 4), waveform + spectrogram U-Nets with a cross-transformer."""

    Config = HTDemucsConfig
    config: HTDemucsConfig

    def build_network(self) -> nn.Module:
        c = self.config
        if c.channels_hidden < c.dconv_comp:
            raise ConfigError(f"separator 'htdemucs': channels_hidden {c.channels_hidden} must be at least dconv_comp {c.dconv_comp}")
        from demucs.htdemucs import HTDemucs  # imported on use, like BS-RoFormer

        return HTDemucs(
            list(c.stems),
            audio_channels=c.channels,
            samplerate=c.sample_rate,
            segment=c.segment,
            channels=c.channels_hidden,
            growth=c.growth,
            depth=c.depth,
            nfft=c.nfft,
            t_layers=c.t_layers,
            t_heads=c.t_heads,
            dconv_comp=c.dconv_comp,
            bottom_channels=c.bottom_channels,
        )
