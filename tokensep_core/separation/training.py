"""Training the generative separator: teacher forcing of the token LM on codec codes of the
stems, conditioned on the encoder's view of their mixture (``tokensep train separator``).

The codec is frozen (trained beforehand with ``tokensep train codec``; ``model.codec_checkpoint``
points at it) and encodes the stems of every batch on the fly, so the usual augmentation
(random crops, remixing across songs, gains, channel swaps) applies. With ``data`` a
``token_shards`` dataset (codes cached by ``tokensep tokenize`` with the same codec), batches
carry the codes instead and only random crops apply (``augment.seconds``, ``examples_per_epoch``).
The encoder and the LM train together as one optimizer group.
"""

from __future__ import annotations

from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from tokensep_core.audio.channels import to_codec_items
from tokensep_core.audio.io import convert
from tokensep_core.config import ComponentSpec, validate_model
from tokensep_core.data.sampling import AugmentConfig, TrainingExamples
from tokensep_core.data.token_shards import TokenCrops, TokenShards, token_crops
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import MaskedTokenLM
from tokensep_core.lm.ar_objective import drop_condition, lm_loss, teacher_forcing
from tokensep_core.lm.masked_objective import masked_loss
from tokensep_core.provenance import separator_record
from tokensep_core.registry import ComponentRegistry
from tokensep_core.separation.pipeline import Pipeline, PipelineConfig, build_pipeline
from tokensep_core.separation.separator import InferenceConfig
from tokensep_core.training.task import TrainingTask


class LossConfig(BaseModel):
    """Weights of the teacher-forced cross-entropy and condition dropout (for CFG)."""

    model_config = ConfigDict(extra="forbid")

    codebook_weights: dict[int, float] = Field(default_factory=dict, description="{codebook: weight}; missing ones weigh 1")
    stem_weights: dict[str, float] = Field(default_factory=dict, description="{stem: weight}; missing ones weigh 1")
    label_smoothing: float = Field(0.1, ge=0, lt=1)
    condition_dropout: float = Field(0.1, ge=0, le=1, description="chance of training an item without its prefix")


class SeparatorTrainingConfig(BaseModel):
    """Every section of a separator training config except ``trainer``."""

    model_config = ConfigDict(extra="forbid")

    model: PipelineConfig = Field(default_factory=PipelineConfig)
    data: ComponentSpec = Field(description="a registered dataset with the model's stems")
    augment: AugmentConfig
    loss: LossConfig = Field(default_factory=LossConfig)
    inference: InferenceConfig = Field(default_factory=InferenceConfig, description="stored with the checkpoints for separation")


class SeparatorTask(TrainingTask):
    """Teacher forcing of ``pipeline.lm`` on ``pipeline.codec`` codes, prefix from ``pipeline.encoder``
    (masked-token prediction, tokensep_core.lm.masked_objective, for a masked LM).

    Batches: ``{"mixture": [B, C, T], "stems": [B, S, C, T]}`` at ``sample_rate``, stems in
    ``pipeline.config.stems`` order; or, from token shards, ``{"mixture": [B, C, T], "codes":
    {stem: [B, N, K, T']}}`` at the codec's rate (``N`` codec items per item, see ``_to_codec_items``).
    """

    def __init__(
        self, pipeline: Pipeline, config: SeparatorTrainingConfig, sample_rate: int, components: dict[str, Any] | None = None
    ) -> None:
        self.pipeline, self.config, self.sample_rate = pipeline, config, sample_rate
        self._components = components or {}

    def modules(self) -> dict[str, nn.Module]:
        return dict(self.pipeline.modules())

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"model": [*self.pipeline.encoder.parameters(), *self.pipeline.lm.parameters()]}

    def config_dict(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def components(self) -> dict[str, Any]:
        return self._components

    def losses(self, group: str, batch: dict[str, Tensor], state: dict[str, Any]) -> dict[str, Tensor]:
        codec, encoder = self.pipeline.codec, self.pipeline.encoder
        codec.eval()
        mixture = self._to_codec_items(batch["mixture"])
        if "codes" in batch:
            codes = {stem: batch["codes"][stem].flatten(0, 1) for stem in self.pipeline.config.stems}
        else:
            with torch.no_grad():
                codes = {
                    stem: codec.encode(self._to_codec_items(batch["stems"][:, i])) for i, stem in enumerate(self.pipeline.config.stems)
                }
        conditioning = convert(mixture, codec.sample_rate, encoder.sample_rate, encoder.channels)
        prefix, mask = encoder(encoder.prepare(conditioning))
        prefix = drop_condition(prefix, self.config.loss.condition_dropout)
        loss = self.config.loss
        if isinstance(self.pipeline.lm, MaskedTokenLM):  # masked prediction instead of teacher forcing
            return {
                "ce": masked_loss(self.pipeline.lm, codes, prefix, mask, loss.codebook_weights, loss.stem_weights, loss.label_smoothing)
            }
        forcing = teacher_forcing(self.pipeline.token_layout, codes, loss.codebook_weights, loss.stem_weights)
        return {"ce": lm_loss(self.pipeline.lm, forcing, prefix, mask, loss.label_smoothing)}

    def _to_codec_items(self, wav: Tensor) -> Tensor:
        """``[B, C, T]`` at the data rate -> ``[B', C_codec, T']`` at the codec rate; a mono codec
        sees every channel as its own item (as at separation time)."""
        codec = self.pipeline.codec
        return to_codec_items(wav, self.sample_rate, codec.sample_rate, codec.channels)


def build_separator_training(
    sections: dict[str, Any], source: str, registry: ComponentRegistry | None = None
) -> tuple[SeparatorTask, TrainingExamples | TokenCrops]:
    """Config sections -> (task, augmented training examples)."""
    from tokensep_core.plugins import load_registry

    registry = registry or load_registry()
    config = validate_model(SeparatorTrainingConfig, sections, source)
    torch.manual_seed(config.model.seed)
    pipeline = build_pipeline(registry, config.model, source)
    dataset = registry.build("dataset", config.data, source=source)
    missing = [s for s in config.model.stems if s not in dataset.stems]
    if missing:
        raise ConfigError(f"{source}: dataset {config.data.name!r} has no stems {missing} (it has {', '.join(dataset.stems)})")
    if isinstance(dataset, TokenShards):
        _check_token_codec(dataset, pipeline, source)
        examples: TrainingExamples | TokenCrops = token_crops(
            dataset, config.augment.seconds, config.augment.examples_per_epoch, config.model.stems
        )
    else:
        examples = TrainingExamples(dataset, config.augment, config.model.stems)
    return SeparatorTask(pipeline, config, examples.sample_rate, separator_record(registry, config.model.model_dump())), examples


def _check_token_codec(shards: TokenShards, pipeline: Pipeline, source: str) -> None:
    """Cached codes must come from the pipeline's codec: same shape, and the same weights when
    the pipeline loads a codec checkpoint."""
    from tokensep_core.training.checkpoint import resolve_checkpoint, verify_checkpoint

    codec = pipeline.codec
    ours = {
        "sample_rate": codec.sample_rate,
        "hop_length": codec.hop_length,
        "num_codebooks": codec.num_codebooks,
        "codebook_size": codec.codebook_size,
    }
    for key, value in ours.items():
        if shards.codec[key] != value:
            raise ConfigError(f"{source}: tokens in {shards.root} have {key} {shards.codec[key]}, the model's codec {value}")
    if pipeline.config.codec_checkpoint is not None:
        sha = verify_checkpoint(resolve_checkpoint(pipeline.config.codec_checkpoint)).get("codec.safetensors")
        if sha != shards.codec["weights_sha256"]:
            raise ConfigError(f"{source}: tokens in {shards.root} were made with other codec weights than model.codec_checkpoint")
