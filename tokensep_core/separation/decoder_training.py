"""Training a mixture decoder (``tokensep train mixture_decoder CONFIG``) on real stems.

Batches are augmented examples of any stems dataset at its own rate and channels (e.g. 44.1 kHz
stereo). The guides stand in for a generative separator's stems: every true stem through the
frozen codec (tokensep_core.separation.decoder_guides), so the decoder learns to split the
full-band mixture from codec-band, codec-quality stems; or, with ``guide.generated``, the
separator's own stems for the same songs, cut and augmented with each example, so the decoder
learns how far to trust what generation really gives. The loss is multi-resolution STFT
magnitude L1 (linear and log) plus waveform L1, each summed over stems. With a ``validation``
section the trainer's evaluation logs, on fixed held-out crops, the log-mel distance of the
decoder's stems (``eval/mel_decoder``), of ``mask_mixture`` on the same guides (``eval/mel_wiener``,
the stage the decoder replaces) and their difference (``eval/mel_gain``, > 0: the decoder is better).
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import Tensor, nn

from tokensep_core.config import ComponentSpec, validate_model
from tokensep_core.data.sampling import AugmentConfig, TrainingExamples
from tokensep_core.interfaces import Metric, MixtureDecoder
from tokensep_core.provenance import component_record
from tokensep_core.registry import ComponentRegistry
from tokensep_core.separation.conditioning import HeldOutItems, held_out_items
from tokensep_core.separation.decoder_checkpoint import DECODER_MODULE
from tokensep_core.separation.decoder_guides import CodecGuides, GuideConfig, build_guide_codec
from tokensep_core.separation.mask_decoder import log_magnitude
from tokensep_core.separation.mixture_fit import MaskSTFT, mask_mixture
from tokensep_core.separation.training import ValidationConfig
from tokensep_core.training.task import EvalState, TrainingTask


class DecoderLossConfig(BaseModel):
    """Weights of the loss terms (0 drops a term) and the STFT resolutions."""

    model_config = ConfigDict(extra="forbid")

    stft_windows: tuple[float, ...] = Field(
        (0.016, 0.032, 0.064, 0.128), min_length=1, description="seconds; one resolution each (power-of-two FFT, hop a quarter)"
    )
    linear_weight: float = Field(1.0, ge=0, description="STFT magnitude L1")
    log_weight: float = Field(1.0, ge=0, description="STFT log-magnitude L1")
    waveform_weight: float = Field(1.0, ge=0, description="waveform L1")


class MixtureDecoderTrainingConfig(BaseModel):
    """Every section of a mixture-decoder training config except ``trainer``."""

    model_config = ConfigDict(extra="forbid")

    decoder: ComponentSpec = Field(description="a registered mixture_decoder, e.g. spectral_mask")
    data: ComponentSpec = Field(description="a registered stems dataset with the decoder's stems, at the rate to separate at")
    augment: AugmentConfig
    guide: GuideConfig
    loss: DecoderLossConfig = Field(default_factory=DecoderLossConfig)
    validation: ValidationConfig | None = Field(
        None, description="held-out songs for eval/mel_decoder and eval/mel_wiener; none: no evaluation"
    )
    seed: int = Field(0, description="seed of the decoder's initial weights")

    @model_validator(mode="after")
    def _held_out_guides(self) -> MixtureDecoderTrainingConfig:
        if self.guide.generated is not None and self.validation is not None and self.guide.generated_held_out is None:
            raise ValueError("guide.generated with validation needs guide.generated_held_out (validation.data's generated stems)")
        return self


def decoder_losses(estimate: Tensor, target: Tensor, sample_rate: int, config: DecoderLossConfig) -> dict[str, Tensor]:
    """estimate, target ``[B, S, C, L]`` -> the weighted terms, each summed over the S stems
    (S times the mean over every stem)."""
    n_stems, terms = target.shape[1], {}
    if config.linear_weight or config.log_weight:
        linear, log = target.new_zeros(()), target.new_zeros(())
        for seconds in config.stft_windows:
            stft = MaskSTFT.of(sample_rate, target.shape[-1], target.device, seconds)
            ours, theirs = stft(estimate), stft(target)
            linear = linear + (ours.abs() - theirs.abs()).abs().mean()
            log = log + (log_magnitude(ours) - log_magnitude(theirs)).abs().mean()
        scale = n_stems / len(config.stft_windows)
        if config.linear_weight:
            terms["stft"] = config.linear_weight * scale * linear
        if config.log_weight:
            terms["log_stft"] = config.log_weight * scale * log
    if config.waveform_weight:
        terms["waveform"] = config.waveform_weight * n_stems * (estimate - target).abs().mean()
    return terms


class MixtureDecoderTask(TrainingTask):
    """One optimizer group, ``decoder``. Batches ``{"mixture": [B, C, L], "stems": [B, S, C, L]}``
    at ``sample_rate``, stems in the decoder's order, plus ``"paired": [B, S, C, L]`` (generated
    guides) when the config names them; ``held_out``: what :meth:`evaluate` scores."""

    def __init__(
        self,
        decoder: MixtureDecoder,
        guides: CodecGuides,
        config: MixtureDecoderTrainingConfig,
        sample_rate: int,
        resolved: dict[str, Any],
        components: dict[str, Any] | None = None,
        held_out: HeldOutItems | None = None,
        metric: Metric | None = None,
    ) -> None:
        self.decoder, self.guides, self.config, self.sample_rate = decoder, guides, config, sample_rate
        self._resolved, self._components = resolved, components or {}
        self.held_out, self.metric = held_out, metric
        self._held_out_guides: Tensor | None = None

    def modules(self) -> dict[str, nn.Module]:
        return {DECODER_MODULE: self.decoder}

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"decoder": [p for p in self.decoder.parameters() if p.requires_grad]}

    def config_dict(self) -> dict[str, Any]:
        return self._resolved

    def components(self) -> dict[str, Any]:
        return self._components

    def losses(self, group: str, batch: dict[str, Tensor], state: dict[str, Any]) -> dict[str, Tensor]:
        del group, state
        mixture, stems = batch["mixture"], batch["stems"]
        guides = batch["paired"] if "paired" in batch else self.guides(stems, self.sample_rate)
        estimate = self.decoder(mixture, guides, self.sample_rate, self.guides.band_hz)
        return decoder_losses(estimate, stems, self.sample_rate, self.config.loss)

    def evaluate(self, state: EvalState) -> dict[str, float]:
        """Mean log-mel distance over held-out items and stems of the decoder's stems and of
        ``mask_mixture`` on the same guides (the held-out generated stems, or the true stems coded
        once, their noise drawn from ``validation.seed``)."""
        if self.held_out is None or self.metric is None or self.config.validation is None:
            return {}
        items, validation = self.held_out, self.config.validation
        rate, band = items.sample_rate, self.guides.band_hz
        if self._held_out_guides is None and items.paired is not None:
            self._held_out_guides = items.paired
        if self._held_out_guides is None:
            generator = torch.Generator().manual_seed(validation.seed)
            self._held_out_guides = self.guides(items.stems.to(state.device), rate, generator).cpu()
        totals = {"decoder": 0.0, "wiener": 0.0}
        count, n_stems = items.stems.shape[:2]
        for start in range(0, count, validation.batch_size):
            mixture = items.mixture[start : start + validation.batch_size].to(state.device)
            guides = self._held_out_guides[start : start + validation.batch_size].to(state.device)
            outputs = {"decoder": self.decoder(mixture, guides, rate, band), "wiener": mask_mixture(mixture, guides, rate, band)}
            for name, stems in outputs.items():
                stems = stems.float().cpu()
                for i in range(stems.shape[0]):
                    totals[name] += sum(self.metric(items.stems[start + i, s], stems[i, s], rate) for s in range(n_stems))
        scores = {f"mel_{name}": total / (count * n_stems) for name, total in totals.items()}
        return {**scores, "mel_gain": scores["mel_wiener"] - scores["mel_decoder"]}


def build_mixture_decoder_training(
    sections: dict[str, Any], source: str, registry: ComponentRegistry | None = None
) -> tuple[MixtureDecoderTask, TrainingExamples]:
    """Config sections -> (task, augmented training examples)."""
    from tokensep_core.plugins import load_registry

    registry = registry or load_registry()
    config = validate_model(MixtureDecoderTrainingConfig, sections, source)
    torch.manual_seed(config.seed)
    decoder = registry.build("mixture_decoder", config.decoder, source=source)
    codec, codec_spec = build_guide_codec(registry, config.guide, source)
    guide = config.guide
    generated = None if guide.generated is None else registry.build("dataset", guide.generated, source=source)
    examples = TrainingExamples(registry.build("dataset", config.data, source=source), config.augment, decoder.stems, generated)
    held_out, metric = None, None
    if config.validation is not None:
        validation = config.validation
        dataset = registry.build("dataset", validation.data, source=source)
        paired = None if guide.generated_held_out is None else registry.build("dataset", guide.generated_held_out, source=source)
        seconds = validation.seconds or config.augment.seconds
        held_out = held_out_items(dataset, decoder.stems, seconds, validation.items, validation.seed, paired)
        metric = registry.build("metric", "mel_distance", source=source)
    params = decoder.config.model_dump(mode="json") if isinstance(getattr(decoder, "config", None), BaseModel) else config.decoder.params
    resolved = config.model_dump(mode="json")
    resolved["decoder"] = {"name": config.decoder.name, "params": params}
    resolved["guide"]["codec"] = codec_spec.model_dump(mode="json")
    components = component_record(registry, {"mixture_decoder": config.decoder})
    guides = CodecGuides(codec, config.guide.code_noise)
    return MixtureDecoderTask(decoder, guides, config, examples.sample_rate, resolved, components, held_out, metric), examples
