"""How the generative separator cuts, samples and puts back a song (:class:`InferenceConfig`), and
how overrides merge into it. Pydantic only, no torch: ``tokensep separate --help`` shows these
defaults without loading a model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError, field_validator, model_validator

from tokensep_core.errors import ConfigError
from tokensep_core.lm.sampling_config import DRAW_SETTINGS, SamplingConfig
from tokensep_core.runtime.precision_names import Precision

MixtureConsistency = Literal["off", "shift", "mask", "decoder"]
"""How stems are made to sum to the mixture (tokensep_core.separation.mixture_fit)."""

StereoGeneration = Literal["per_channel", "mid"]
"""How a mono codec's separator treats a multi-channel mixture (GenerativeSeparator.separate_stream)."""


class InferenceConfig(BaseModel):
    """How a song is cut, sampled and put back together."""

    model_config = ConfigDict(extra="forbid")

    FAMILY_SETTINGS: ClassVar[tuple[str, ...]] = ("passes",)
    """Settings only some LM families read (their ``inference_settings``); None: unset."""

    segment_seconds: float = Field(5.0, gt=0, le=600, description="length of one generated segment (at most 10 minutes)")
    overlap: float = Field(0.25, ge=0, lt=1, description="fraction of a segment shared with the next")
    batch_size: int = Field(16, ge=1, description="segments generated together")
    sampling: SamplingConfig = Field(default_factory=lambda: SamplingConfig(temperature=0.8, top_k=50, top_p=0.95))
    seed: int | None = Field(0, description="seed of the sampler (None: not reproducible)")
    shifts: int = Field(
        1, ge=1, le=64, description="draws averaged per segment, each with its own seed (demucs's --shifts; needs sampling to differ)"
    )
    mixture_consistency: MixtureConsistency = Field(
        "off",
        description="make the stems sum to the mixture: off, shift (add the residual equally), mask (split the mixture's STFT by the generated stems' soft masks) or decoder (a trained mixture decoder refines that split: mixture_decoder); see separation.mixture_fit",
    )
    mixture_decoder: Path | None = Field(
        None, description="with mixture_consistency decoder: a `tokensep train mixture_decoder` run or step directory"
    )
    stereo: StereoGeneration = Field(
        "per_channel",
        description="with a mono codec and a multi-channel mixture: per_channel (every channel generated on its own) or mid (one generation from the channels' mean, given to every channel: half the LM's work; with mixture_consistency mask or decoder each channel of the mixture is split by those stems, keeping its stereo image)",
    )
    passes: list[PositiveInt] | None = Field(
        None, min_length=1, description="masked LM only: passes per codebook level, the last repeated (None: the LM's own)"
    )
    dtype: Precision = Field(
        "float32",
        description="compute type of the encoder and LM (bfloat16, float16: LM weights in that type + autocast; bfloat16 packs linear layers on a CPU; the codec stays float32)",
    )

    @field_validator("mixture_consistency", mode="before")
    @classmethod
    def _legacy_bool(cls, value: Any) -> Any:
        """Checkpoints written before the methods existed store true (shift) or false (off)."""
        return {True: "shift", False: "off"}.get(value, value) if isinstance(value, bool) else value

    @model_validator(mode="after")
    def _decoder_with_its_method(self) -> InferenceConfig:
        """A decoder path is used by the decoder method only; neither goes without the other."""
        if self.mixture_consistency == "decoder" and self.mixture_decoder is None:
            raise ValueError(
                "mixture_consistency 'decoder' needs mixture_decoder: a `tokensep train mixture_decoder` run or step directory"
            )
        if self.mixture_decoder is not None and self.mixture_consistency != "decoder":
            raise ValueError(
                f"mixture_decoder {str(self.mixture_decoder)!r} is used only with mixture_consistency 'decoder', "
                f"not {self.mixture_consistency!r}"
            )
        return self


def merge_inference(current: Mapping[str, Any], overrides: Mapping[str, Any], source: str = "inference") -> InferenceConfig:
    """``current`` inference settings with ``overrides`` applied (``sampling`` key by key), validated.
    Overriding a setting only a draw reads (``sampling.temperature``, ``top_k``, ``top_p``,
    ``min_p``, or ``seed``) while the result decodes greedily is refused: it would change
    nothing, so the overrides must say ``"sampling": {"greedy": false}`` to sample. Choosing another
    ``mixture_consistency`` than ``decoder`` without naming ``mixture_decoder`` drops a stored decoder."""
    if not isinstance(overrides.get("sampling", {}), Mapping):
        raise ConfigError(f"{source}: invalid inference setting: sampling must be a mapping")
    sampling = {**current.get("sampling", {}), **overrides.get("sampling", {})}
    if overrides.get("mixture_consistency", "decoder") != "decoder" and "mixture_decoder" not in overrides:
        current = {**current, "mixture_decoder": None}
    try:
        merged = InferenceConfig.model_validate({**current, **overrides, "sampling": sampling})
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"{source}: invalid inference setting {where}: {message}" if where else f"{source}: {message}") from None
    unused = [f"sampling.{name}" for name in DRAW_SETTINGS if name in overrides.get("sampling", {})] + ["seed"] * ("seed" in overrides)
    unused += ["shifts"] * (overrides.get("shifts", 1) != 1)
    if merged.sampling.greedy and unused:
        verb = "has" if len(unused) == 1 else "have"
        raise ConfigError(f"{source}: {', '.join(unused)} {verb} no effect with greedy decoding; set sampling.greedy to false to sample")
    return merged
