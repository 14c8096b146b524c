"""The contract of an LM family: how the pipeline shapes, teaches, runs and checks one kind of LM.

Every LM class declares its family (``family`` attribute, see
:class:`~tokensep_core.interfaces.LanguageModel`); core code asks the family instead of testing
the LM's type, so a plugin adds a family by registering an LM whose class names a new family
object. Built in: autoregressive (:class:`~tokensep_core.interfaces.TokenLM`,
tokensep_core.lm.ar_family) and masked (:class:`~tokensep_core.interfaces.MaskedTokenLM`,
tokensep_core.lm.masked_family).
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from torch import Tensor

from tokensep_core.errors import RegistryError

if TYPE_CHECKING:
    from tokensep_core.interfaces import Codec, LanguageModel
    from tokensep_core.registry import Entry
    from tokensep_core.separation.pipeline import PipelineConfig
    from tokensep_core.separation.separator import InferenceConfig
    from tokensep_core.separation.training import LossConfig
    from tokensep_core.tokens.layout import TokenLayout


class LMFamily(ABC):
    """One way of turning a prefix into stem codes, shared by every LM class of the family.

    ``name``: how messages call it; ``uses_token_layout``: whether the pipeline lays codes out
    with its pattern and track order (a :class:`TokenLayout` is passed to every method, else None);
    ``inference_settings``: the family-specific :class:`InferenceConfig` fields it reads
    (``InferenceConfig.FAMILY_SETTINGS``; the others must stay unset).
    """

    name: str
    uses_token_layout: bool
    inference_settings: frozenset[str] = frozenset()

    @abstractmethod
    def lm_defaults(self, codec: Codec, layout: TokenLayout | None, config: PipelineConfig) -> dict[str, Any]:
        """LM params the codec, layout and pipeline config (its stems) dictate; the pipeline fills
        those the LM's Config has and ``config.lm`` does not set."""

    @abstractmethod
    def check_pipeline(self, lm: LanguageModel, codec: Codec, layout: TokenLayout | None, config: PipelineConfig) -> None:
        """Raise ConfigError (one line) when the built LM cannot work with the codec, layout and stems."""

    @abstractmethod
    def loss(
        self,
        lm: LanguageModel,
        layout: TokenLayout | None,
        codes: Mapping[str, Tensor],
        prefix: Tensor,
        prefix_mask: Tensor | None,
        config: LossConfig,
    ) -> Tensor:
        """The training objective: ``{stem: codes [B, K, T']}`` (the codec's), prefix ``[B, P, D]``
        and mask ``[B, P]`` -> scalar loss, weighted as ``config`` says."""

    @abstractmethod
    def generate(
        self,
        lm: LanguageModel,
        layout: TokenLayout | None,
        prefix: Tensor,
        num_frames: int,
        prefix_mask: Tensor | None,
        inference: InferenceConfig,
        stems: Sequence[str],
        seed: int | None,
        progress: bool = False,
    ) -> dict[str, Tensor]:
        """prefix ``[B, P, D]`` and mask ``[B, P]`` -> ``{stem: codes [B, K, num_frames]}`` (the
        codec's K and code range) for ``stems``, sampled as ``inference`` says, seeded by ``seed``."""

    @abstractmethod
    def check(self, lm: LanguageModel, steps: int = 6, prefix_steps: int = 5, seed: int = 0) -> None:
        """The conformance checks of an LM of this family (raise ConformanceError)."""


class FamilyRef:
    """A class attribute naming a family by ``module:attribute``, imported on first read: the
    built-in families' code imports the LM interfaces that name them."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._family: LMFamily | None = None

    def __get__(self, instance: object, owner: type) -> LMFamily:
        if self._family is None:
            module, attribute = self.target.split(":")
            self._family = getattr(importlib.import_module(module), attribute)
        return self._family


def family_of(entry: Entry) -> LMFamily:
    """The family of a registered LM, read from its factory before anything is built."""
    family = getattr(entry.factory, "family", None)
    if not isinstance(family, LMFamily):
        raise RegistryError(
            f"lm {entry.name!r} (provider {entry.provider}): {getattr(entry.factory, '__name__', entry.factory)} declares no LM family "
            "(set its `family` attribute to an LMFamily, see tokensep_core.lm.family)"
        )
    return family
