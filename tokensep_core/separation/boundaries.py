"""What each component hands the next one in the separator and its training, checked where it
is handed over: a component that breaks its interface (tokensep_core.interfaces) is named, with
its provider, in one line instead of failing somewhere downstream.

Messages read ``codec 'x' (provider my-plugin 0.1): encode returned codes [2, 3]; expected
[B=2, K=4, T'=13] int64``. Labels come from :attr:`Pipeline.labels`. Each check costs at most one
device sync (the code range), nothing next to an encode or a generation.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from tokensep_core.errors import RegistryError
from tokensep_core.interfaces import Codec, ConditionEncoder


def _fail(label: str, what: str, got: Tensor, expected: str) -> None:
    raise RegistryError(f"{label}: {what} {list(got.shape)} {got.dtype}; expected {expected}")


def _check_codes(codes: Tensor, num_codebooks: int, codebook_size: int, batch: int, frames: int, label: str, what: str) -> None:
    expected = f"[B={batch}, K={num_codebooks}, T'={frames}] int64 in [0, {codebook_size})"
    if not isinstance(codes, Tensor):
        raise RegistryError(f"{label}: {what} a {type(codes).__name__}; expected codes {expected}")
    if tuple(codes.shape) != (batch, num_codebooks, frames) or codes.dtype != torch.int64:
        _fail(label, what, codes, expected)
    if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= codebook_size):
        raise RegistryError(f"{label}: {what} codes in [{int(codes.min())}, {int(codes.max())}]; expected {expected}")


def check_encoded(codes: Tensor, codec: Codec, wav: Tensor, label: str) -> None:
    """``codec.encode(wav)``: wav ``[B, C, T]`` -> codes ``[B, K, ceil(T / hop)]`` int64 in range."""
    frames = math.ceil(wav.shape[-1] / codec.hop_length)
    _check_codes(codes, codec.num_codebooks, codec.codebook_size, wav.shape[0], frames, label, "encode returned codes")


def check_prefix(prefix: Tensor, mask: Tensor | None, encoder: ConditionEncoder, batch: int, label: str) -> None:
    """``encoder(features)``: prefix ``[B, P, D=output_dim]`` and mask ``[B, P]`` bool (or None)."""
    if not isinstance(prefix, Tensor) or prefix.dim() != 3 or prefix.shape[0] != batch or prefix.shape[2] != encoder.output_dim:
        expected = f"[B={batch}, P, D={encoder.output_dim}]"
        if not isinstance(prefix, Tensor):
            raise RegistryError(f"{label}: forward returned a {type(prefix).__name__} prefix; expected {expected}")
        _fail(label, "forward returned a prefix", prefix, expected)
    if mask is not None and (tuple(mask.shape) != tuple(prefix.shape[:2]) or mask.dtype != torch.bool):
        _fail(label, "forward returned a mask", mask, f"[B={batch}, P={prefix.shape[1]}] bool")


def check_generated(codes: Mapping[str, Tensor], stems: Sequence[str], codec: Codec, batch: int, frames: int, label: str) -> None:
    """An LM family's generation: ``{stem: codes [B, K, T']}`` for every requested stem, in the codec's range."""
    missing = [s for s in stems if s not in codes]
    if missing:
        raise RegistryError(f"{label}: generation returned no codes for stems {missing}")
    for stem in stems:
        _check_codes(codes[stem], codec.num_codebooks, codec.codebook_size, batch, frames, label, f"generated {stem} codes")


def check_decoded(wav: Tensor, codec: Codec, codes: Tensor, label: str) -> None:
    """``codec.decode(codes)``: codes ``[B, K, T']`` -> wav ``[B, C, T' * hop]``."""
    batch, _, frames = codes.shape
    expected = (batch, codec.channels, frames * codec.hop_length)
    if not isinstance(wav, Tensor) or tuple(wav.shape) != expected:
        if not isinstance(wav, Tensor):
            raise RegistryError(f"{label}: decode returned a {type(wav).__name__}; expected wav {list(expected)}")
        _fail(label, "decode returned wav", wav, f"[B={batch}, C={codec.channels}, T={expected[2]}]")


def check_loss(loss: Tensor, label: str) -> None:
    """An LM family's objective: a scalar tensor."""
    if not isinstance(loss, Tensor) or loss.dim() != 0:
        shape = list(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
        raise RegistryError(f"{label}: the family's objective returned {shape}; expected a scalar loss")
