"""The ``frame`` LM family: no token layout, no decoding loop. The prefix is resampled to the code
frames and every code of every stem is classified at once; training is cross-entropy on all codes.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import Tensor, nn

from tokensep_core import STEMS
from tokensep_core.config import ComponentConfig
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import LanguageModel
from tokensep_core.lm.ar_generation import make_generator
from tokensep_core.lm.family import LMFamily
from tokensep_core.lm.sampling import sample_ids
from tokensep_core.testing.conformance import ConformanceError


class FrameFamily(LMFamily):
    """LMs that map a prefix ``[B, P, D]`` to logits ``[B, N, K, T', V]`` for T' code frames."""

    name = "frame"
    uses_token_layout = False

    def lm_defaults(self, codec, layout, config) -> dict[str, Any]:
        return {"num_codebooks": codec.num_codebooks, "codebook_size": codec.codebook_size, "stems": list(config.stems)}

    def check_pipeline(self, lm, codec, layout, config) -> None:
        if (lm.num_codebooks, lm.codebook_size) != (codec.num_codebooks, codec.codebook_size):
            raise ConfigError(f"lm {config.lm.name!r}: codebooks differ from codec {config.codec.name!r}")
        missing = [s for s in config.stems if s not in lm.stems]
        if missing:
            raise ConfigError(f"lm {config.lm.name!r} cannot generate stems {missing}")

    def loss(self, lm, layout, codes: Mapping[str, Tensor], prefix, prefix_mask, config) -> Tensor:
        stems = tuple(codes)
        targets = torch.stack([codes[s] for s in stems], dim=1)  # [B, N, K, T']
        logits = lm(prefix, prefix_mask, targets.shape[-1], stems)
        return F.cross_entropy(logits.flatten(0, -2), targets.flatten(), label_smoothing=config.label_smoothing)

    def generate(self, lm, layout, prefix, num_frames, prefix_mask, inference, stems: Sequence[str], seed, progress=False):
        if inference.sampling.cfg_scale != 1.0:
            raise ConfigError("the frame family has no classifier-free guidance (sampling.cfg_scale must be 1)")
        logits = lm(prefix, prefix_mask, num_frames, tuple(stems))  # [B, N, K, T', V]
        ids = sample_ids(logits.float().flatten(0, -2), inference.sampling, make_generator(seed, prefix.device))
        codes = ids.reshape(logits.shape[:-1])
        return {stem: codes[:, n] for n, stem in enumerate(stems)}

    def check(self, lm, steps: int = 6, prefix_steps: int = 5, seed: int = 0) -> None:
        lm.eval()
        generator = torch.Generator().manual_seed(seed)
        prefix = torch.randn(2, prefix_steps, lm.dim, generator=generator)
        mask = torch.ones(2, prefix_steps, dtype=torch.bool)
        with torch.inference_mode():
            logits = lm(prefix, mask, steps, lm.stems)
            expected = (2, len(lm.stems), lm.num_codebooks, steps, lm.codebook_size)
            if tuple(logits.shape) != expected:
                raise ConformanceError(f"frame lm: expected logits {list(expected)}, got {list(logits.shape)}")
            if not torch.allclose(lm(prefix[1:], mask[1:], steps, lm.stems), logits[1:], atol=1e-5):
                raise ConformanceError("frame lm: an item's logits depend on its batch neighbour")


FRAME = FrameFamily()


class FrameLM(LanguageModel):
    """The frame family's interface. Attribute ``stems``: every stem it can generate."""

    family = FRAME
    stems: tuple[str, ...]

    @abstractmethod
    def forward(self, prefix: Tensor, prefix_mask: Tensor | None, num_frames: int, stems: Sequence[str]) -> Tensor:
        """prefix ``[B, P, D]``, mask ``[B, P]`` -> logits ``[B, N, K, num_frames, V]`` for ``stems``."""


class FrameClassifierConfig(ComponentConfig):
    num_codebooks: int = Field(4, ge=1)
    codebook_size: int = Field(64, ge=2)
    stems: tuple[str, ...] = STEMS
    dim: int = Field(32, ge=1)


class FrameClassifier(FrameLM):
    """Masked prefix, linearly resampled to the code frames -> one linear classifier per stem and codebook."""

    Config = FrameClassifierConfig

    def __init__(self, config: FrameClassifierConfig) -> None:
        super().__init__()
        self.num_codebooks, self.codebook_size = config.num_codebooks, config.codebook_size
        self.vocab_size, self.dim, self.stems = config.codebook_size, config.dim, tuple(config.stems)
        self.head = nn.Linear(config.dim, len(self.stems) * config.num_codebooks * config.codebook_size)

    def forward(self, prefix: Tensor, prefix_mask: Tensor | None, num_frames: int, stems: Sequence[str]) -> Tensor:
        if prefix_mask is not None:
            prefix = prefix * prefix_mask.unsqueeze(-1).to(prefix.dtype)
        frames = F.interpolate(prefix.transpose(1, 2), size=num_frames, mode="linear", align_corners=False).transpose(1, 2)
        logits = self.head(frames).unflatten(-1, (len(self.stems), self.num_codebooks, self.codebook_size))  # [B, T, N, K, V]
        rows = [self.stems.index(s) for s in stems]
        return logits[:, :, rows].permute(0, 2, 3, 1, 4)
