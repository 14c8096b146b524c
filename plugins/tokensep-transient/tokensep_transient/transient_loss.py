"""``hcodec_transient_loss``: HCodec trained with transient terms added to its objective.

Same architecture, codes and bitrate as HCodec (tokens per second of audio =
``frame_rate * channels * (n_acoustic + n_semantic)``, e.g. 50 Hz x 4 = 200 for the
``small`` preset with 2 + 2 codebooks); only training differs: short-window multi-resolution
STFT terms and an onset-weighted waveform L1 (see :class:`TransientLossConfig`)."""

from __future__ import annotations

from torch import Tensor

from tokensep_codecs.hcodec import HCodec, HCodecConfig
from tokensep_core.interfaces import TrainOutput
from tokensep_transient.losses import TransientLoss, TransientLossConfig


class TransientHCodecConfig(HCodecConfig):
    """HCodec's config plus the transient loss terms."""

    transient: TransientLossConfig = TransientLossConfig()


class TransientLossHCodec(HCodec):
    """HCodec whose training forward adds :class:`TransientLoss` on the reconstruction."""

    Config = TransientHCodecConfig

    def __init__(self, config: TransientHCodecConfig) -> None:
        super().__init__(config)
        self.transient = TransientLoss(config.transient, config.sample_rate)

    def forward(self, wav: Tensor) -> TrainOutput:
        """wav ``[B, C, T]`` -> HCodec's TrainOutput with the transient terms added."""
        output = super().forward(wav)
        output.losses.update(self.transient(output.recon, output.target))
        return output
