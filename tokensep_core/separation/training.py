"""Training the generative separator: teacher forcing of the token LM on codec codes of the
stems, conditioned on the encoder's view of their mixture (``tokensep train separator``).

The codec is frozen (trained beforehand with ``tokensep train codec``; ``model.codec_checkpoint``
points at it) and encodes the stems of every batch on the fly, so the usual augmentation
(random crops, remixing across songs, gains, channel swaps) applies. With ``tokens`` instead of
``data`` (a folder of codes cached by ``tokensep tokenize`` with the same codec), batches carry
the codes instead and only random crops apply (``augment.seconds``, ``examples_per_epoch``).
The encoder and the LM train together as one optimizer group, with the LM family's objective
(tokensep_core.lm.family). With a ``validation`` section (a dataset of songs training does not
see), the trainer's evaluation logs how much the LM reads the mixture (tokensep_core.separation.conditioning).
With ``init_from`` the encoder and LM start from another separator's weights (fine-tuning).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from torch import Tensor, nn

from tokensep_core.audio.channels import to_codec_items
from tokensep_core.audio.io import convert
from tokensep_core.config import ComponentSpec, validate_model
from tokensep_core.data.sampling import AugmentConfig, TrainingExamples
from tokensep_core.data.token_shards import TokenCrops, TokenShards, TokenShardsConfig, token_crops
from tokensep_core.errors import CheckpointError, ConfigError
from tokensep_core.lm.ar_objective import drop_condition
from tokensep_core.provenance import separator_record
from tokensep_core.registry import ComponentRegistry
from tokensep_core.separation.boundaries import check_encoded, check_loss, check_prefix
from tokensep_core.separation.conditioning import CONDITIONS, HeldOutItems, condition_losses, gains, held_out_items
from tokensep_core.separation.pipeline import Pipeline, PipelineConfig, build_pipeline
from tokensep_core.separation.separator import InferenceConfig
from tokensep_core.tokens.health import DEGENERATE_PERPLEXITY, codebook_health, describe_degenerate
from tokensep_core.training.task import EvalState, TrainingTask


class LossConfig(BaseModel):
    """Weights of the teacher-forced cross-entropy and condition dropout (for CFG)."""

    model_config = ConfigDict(extra="forbid")

    codebook_weights: dict[int, float] = Field(default_factory=dict, description="{codebook: weight}; missing ones weigh 1")
    stem_weights: dict[str, float] = Field(default_factory=dict, description="{stem: weight}; missing ones weigh 1")
    label_smoothing: float = Field(0.1, ge=0, lt=1)
    condition_dropout: float = Field(0.1, ge=0, le=1, description="chance of training an item without its prefix")
    allow_degenerate_codes: bool = Field(
        False, description="train even when a trained codec's codes are degenerate (a warning instead of the refusal)"
    )


class ValidationConfig(BaseModel):
    """Held-out items the trainer's evaluation measures the conditioning gain on: ``items`` crops
    drawn once (seeded) from ``data``, a dataset whose songs training does not see (e.g. musdb's
    test split, or synthetic songs with another seed)."""

    model_config = ConfigDict(extra="forbid")

    data: ComponentSpec = Field(description="a registered dataset with the model's stems, disjoint from the training songs")
    items: int = Field(16, ge=2, description="crops, item i from song i mod the dataset's length")
    seconds: float | None = Field(None, gt=0, description="crop length; default augment.seconds")
    batch_size: int = Field(8, ge=2, description="items per evaluation forward")
    seed: int = 0


class SeparatorTrainingConfig(BaseModel):
    """Every section of a separator training config except ``trainer``."""

    model_config = ConfigDict(extra="forbid")

    model: PipelineConfig
    data: ComponentSpec | None = Field(None, description="a registered dataset with the model's stems")
    tokens: TokenShardsConfig | None = Field(None, description="instead of data: codes cached by `tokensep tokenize`")
    augment: AugmentConfig
    loss: LossConfig = Field(default_factory=LossConfig)
    inference: InferenceConfig = Field(default_factory=InferenceConfig, description="stored with the checkpoints for separation")
    validation: ValidationConfig | None = Field(None, description="held-out songs for the conditioning gain (eval/…); none: no evaluation")
    init_from: Path | None = Field(
        None,
        description="start the encoder and LM from another separator's weights (a checkpoint, run or exported model "
        "of the same shapes), e.g. to fine-tune a model on new data; a resumed run keeps its own weights",
    )

    @model_validator(mode="after")
    def _one_source(self) -> SeparatorTrainingConfig:
        if (self.data is None) == (self.tokens is None):
            raise ValueError("set exactly one of data (a dataset) and tokens (a token folder)")
        return self

    @field_validator("inference")
    @classmethod
    def _absolute_decoder(cls, inference: InferenceConfig) -> InferenceConfig:
        """A mixture decoder path given relative to the working directory, stored absolute: a
        checkpoint's stored relative path means relative to the checkpoint (decoder_checkpoint)."""
        path = inference.mixture_decoder
        if path is None or path.is_absolute():
            return inference
        return inference.model_copy(update={"mixture_decoder": path.resolve()})


class SeparatorTask(TrainingTask):
    """``pipeline.lm``'s family objective (teacher forcing, masked-token prediction, …) on
    ``pipeline.codec`` codes, prefix from ``pipeline.encoder``.

    Batches: ``{"mixture": [B, C, T], "stems": [B, S, C, T]}`` at ``sample_rate``, stems in
    ``pipeline.config.stems`` order; or, from token shards, ``{"mixture": [B, C, T], "codes":
    {stem: [B, N, K, T']}}`` at the codec's rate (``N`` codec items per item, see ``_to_codec_items``).
    ``held_out``: the items :meth:`evaluate` scores (none: no evaluation).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        config: SeparatorTrainingConfig,
        sample_rate: int,
        components: dict[str, Any] | None = None,
        held_out: HeldOutItems | None = None,
    ) -> None:
        self.pipeline, self.config, self.sample_rate = pipeline, config, sample_rate
        self._components = components or {}
        self.held_out = held_out

    def modules(self) -> dict[str, nn.Module]:
        return dict(self.pipeline.modules())

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"model": [*self.pipeline.encoder.parameters(), *self.pipeline.lm.parameters()]}

    def config_dict(self) -> dict[str, Any]:
        return self.config.model_dump(mode="json")

    def components(self) -> dict[str, Any]:
        return self._components

    def losses(self, group: str, batch: dict[str, Tensor], state: dict[str, Any]) -> dict[str, Tensor]:
        lm = self.pipeline.lm
        codes, prefix, mask = self.encode(batch, self.sample_rate)
        prefix = drop_condition(prefix, self.config.loss.condition_dropout)
        loss = lm.family.loss(lm, self.pipeline.token_layout, codes, prefix, mask, self.config.loss)
        check_loss(loss, self.pipeline.labels["lm"])
        return {"ce": loss}

    def evaluate(self, state: EvalState) -> dict[str, float]:
        """The conditioning gain on the held-out items (tokensep_core.separation.conditioning),
        ``validation.batch_size`` items per forward (all at once without a validation section)."""
        if self.held_out is None:
            return {}
        validation = self.config.validation
        batch_size = validation.batch_size if validation is not None else self.held_out.mixture.shape[0]
        return self.conditioning(self.held_out, batch_size, state.device)

    def conditioning(self, items: HeldOutItems, batch_size: int, device: torch.device) -> dict[str, float]:
        """Cross-entropies per token with the true, null and shuffled condition, averaged over
        ``items`` by item, and the two gains. Call in eval mode, without gradients."""
        return self.conditioning_by_stem(items, batch_size, device, [None])[None]

    def conditioning_by_stem(
        self, items: HeldOutItems, batch_size: int, device: torch.device, stems: Sequence[str | None]
    ) -> dict[str | None, dict[str, float]]:
        """:meth:`conditioning` over each stem's tokens alone, ``{stem: scores}`` (``None``: all
        stems, as :meth:`conditioning`); every batch is encoded once."""
        totals = {stem: dict.fromkeys(CONDITIONS, 0.0) for stem in stems}
        for batch in items.batches(batch_size):
            count = batch["mixture"].shape[0]
            codes, prefix, mask = self.encode({k: v.to(device) for k, v in batch.items()}, items.sample_rate)
            for stem in stems:
                for name, loss in condition_losses(self.pipeline, codes, prefix, mask, count, stem=stem).items():
                    check_loss(loss, self.pipeline.labels["lm"])
                    totals[stem][name] += float(loss) * count
        total = items.mixture.shape[0]
        return {stem: gains({name: value / total for name, value in ce.items()}) for stem, ce in totals.items()}

    def encode(self, batch: dict[str, Tensor], sample_rate: int) -> tuple[dict[str, Tensor], Tensor, Tensor | None]:
        """A batch (see the class) at ``sample_rate`` -> the LM's targets ``{stem: codes [B', K, T']}``
        and its condition: prefix ``[B', P, D]``, mask ``[B', P]`` (``B'`` codec items)."""
        codec, encoder = self.pipeline.codec, self.pipeline.encoder
        labels = self.pipeline.labels
        codec.eval()
        mixture = self._to_codec_items(batch["mixture"], sample_rate)
        if "codes" in batch:
            codes = {stem: batch["codes"][stem].flatten(0, 1) for stem in self.pipeline.config.stems}
        else:
            codes = {}
            with torch.no_grad():
                for i, stem in enumerate(self.pipeline.config.stems):
                    wav = self._to_codec_items(batch["stems"][:, i], sample_rate)
                    codes[stem] = codec.encode(wav)
                    check_encoded(codes[stem], codec, wav, labels["codec"])
        conditioning = convert(mixture, codec.sample_rate, encoder.sample_rate, encoder.channels)
        prefix, mask = encoder(encoder.prepare(conditioning))
        check_prefix(prefix, mask, encoder, conditioning.shape[0], labels["encoder"])
        return codes, prefix, mask

    def _to_codec_items(self, wav: Tensor, sample_rate: int) -> Tensor:
        """``[B, C, T]`` at ``sample_rate`` -> ``[B', C_codec, T']`` at the codec rate; a mono codec
        sees every channel as its own item (as at separation time)."""
        codec = self.pipeline.codec
        return to_codec_items(wav, sample_rate, codec.sample_rate, codec.channels)


def build_separator_training(
    sections: dict[str, Any], source: str, registry: ComponentRegistry | None = None
) -> tuple[SeparatorTask, TrainingExamples | TokenCrops]:
    """Config sections -> (task, augmented training examples)."""
    from tokensep_core.plugins import load_registry

    registry = registry or load_registry()
    config = validate_model(SeparatorTrainingConfig, sections, source)
    torch.manual_seed(config.model.seed)
    pipeline = build_pipeline(registry, config.model, source)
    if config.init_from is not None:
        _initialise(pipeline, config.init_from, source)
    if config.tokens is not None:
        shards = TokenShards(config.tokens)
        _check_stems(shards.stems, config.model.stems, f"tokens in {shards.root}", source)
        _check_token_codec(shards, pipeline, source)
        examples: TrainingExamples | TokenCrops = token_crops(
            shards, config.augment.seconds, config.augment.examples_per_epoch, config.model.stems
        )
    else:
        assert config.data is not None
        dataset = registry.build("dataset", config.data, source=source)
        _check_stems(dataset.stems, config.model.stems, f"dataset {config.data.name!r}", source)
        examples = TrainingExamples(dataset, config.augment, config.model.stems)
    held_out = _held_out(registry, config, source)
    task = SeparatorTask(pipeline, config, examples.sample_rate, separator_record(registry, config.model.model_dump()), held_out)
    _check_code_health(task, examples, source)
    return task, examples


def _initialise(pipeline: Pipeline, init_from: Path, source: str) -> None:
    """Load ``init_from``'s encoder and LM weights into ``pipeline`` (checksums verified; shapes
    must match); a problem is a one-line error naming ``source`` and the checkpoint."""
    from tokensep_core.training.checkpoint import load_weights, resolve_checkpoint

    try:
        path = resolve_checkpoint(init_from)
        load_weights(path, {"encoder": pipeline.encoder, "lm": pipeline.lm})
    except CheckpointError as err:
        raise ConfigError(f"{source}: init_from: {err}") from None
    print(f"[train] encoder and LM initialised from {path}", file=sys.stderr)


def _held_out(registry: ComponentRegistry, config: SeparatorTrainingConfig, source: str) -> HeldOutItems | None:
    """The ``validation`` section's items, drawn once; None without one."""
    validation = config.validation
    if validation is None:
        return None
    dataset = registry.build("dataset", validation.data, source=source)
    _check_stems(dataset.stems, config.model.stems, f"validation dataset {validation.data.name!r}", source)
    return held_out_items(dataset, config.model.stems, validation.seconds or config.augment.seconds, validation.items, validation.seed)


HEALTH_ITEMS = 4
"""Training items whose stems' codes are checked before training."""


def _check_code_health(task: SeparatorTask, examples: TrainingExamples | TokenCrops, source: str) -> None:
    """Codes of the stems of the first :data:`HEALTH_ITEMS` training items (encoded, or cached
    ones) must not be degenerate (tokensep_core.tokens.health): an LM cannot learn from a codebook
    that gives one id for every frame. A trained codec (``model.codec_checkpoint``) with such codes
    is refused unless ``loss.allow_degenerate_codes``; an untrained one only gets a warning on stderr."""
    pipeline, stems = task.pipeline, task.config.model.stems
    codec = pipeline.codec
    was_training = codec.training
    codec.eval()
    codes = []
    with torch.no_grad():
        for item in (examples[i] for i in range(min(HEALTH_ITEMS, len(examples)))):
            if "codes" in item:  # token crops: {stem: [N, K, T']}
                codes += [item["codes"][stem] for stem in stems]
            else:  # stems [S, C, T] at the data rate
                codes += [codec.encode(task._to_codec_items(item["stems"][i].unsqueeze(0), task.sample_rate)) for i in range(len(stems))]
    codec.train(was_training)
    joined = torch.cat(codes)  # [items * stems * N, K, T']
    if joined.dim() != 3 or joined.is_floating_point() or joined.min() < 0 or joined.max() >= codec.codebook_size:
        return  # not valid codes: the boundary check of the first training batch names the codec
    described = describe_degenerate(codebook_health(joined, codec.codebook_size))
    if not described:
        return
    checkpoint = pipeline.config.codec_checkpoint
    where = f"codec checkpoint {checkpoint}" if checkpoint is not None else f"untrained {pipeline.labels['codec']}"
    message = (
        f"{source}: {where} gives degenerate codes on {min(HEALTH_ITEMS, len(examples))} training items: {described}, "
        f"perplexity < {DEGENERATE_PERPLEXITY:g} (see `tokensep eval codec`)"
    )
    if checkpoint is None or task.config.loss.allow_degenerate_codes:
        print(f"tokensep: warning: {message}", file=sys.stderr)
        return
    raise ConfigError(f"{message}; retrain the codec (codebook restarts are on by default) or set loss.allow_degenerate_codes: true")


def _check_stems(available: tuple[str, ...], wanted: tuple[str, ...], what: str, source: str) -> None:
    missing = [s for s in wanted if s not in available]
    if missing:
        raise ConfigError(f"{source}: {what} has no stems {missing} (it has {', '.join(available)})")


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
