"""Codec training as a TrainingTask (reconstruction/VQ losses, optionally adversarial + feature
matching), built from a config by ``tokensep train codec`` (registered in plugin.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from audiotools import AudioSignal
from dac.nn.loss import GANLoss
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor, nn

from tokensep_core.audio.channels import to_codec_items
from tokensep_core.config import ComponentSpec, validate_model
from tokensep_core.data.sampling import AugmentConfig, TrainingExamples
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Codec, TrainableCodec, TrainOutput
from tokensep_core.tokens.health import perplexity_metrics
from tokensep_core.training.task import TrainingTask


def batch_wav(batch: Any, include_mixture: bool = False) -> Tensor:
    """A training batch -> wav ``[B, C, T]``.

    Accepts a tensor ``[B, C, T]``, or a mapping with ``"wav"`` ``[B, C, T]`` or ``"stems"``
    (``{stem: [B, C, T]}`` or ``[B, S, C, T]``), whose stems are pooled into the batch
    (with ``"mixture"`` ``[B, C, T]`` too when ``include_mixture``)."""
    if isinstance(batch, Tensor):
        wav = batch
    elif isinstance(batch, Mapping) and "wav" in batch:
        wav = batch["wav"]
    elif isinstance(batch, Mapping) and "stems" in batch:
        stems = batch["stems"]
        wav = torch.cat(list(stems.values())) if isinstance(stems, Mapping) else stems.flatten(0, 1)
        if include_mixture:
            wav = torch.cat([wav, batch["mixture"]])
    else:
        raise ConfigError(
            f"codec training: a batch must be a wav tensor [B, C, T] or a mapping with 'wav' or 'stems', got {type(batch).__name__}"
        )
    if wav.dim() != 3:
        raise ConfigError(f"codec training: expected wav [B, C, T], got shape {list(wav.shape)}")
    return wav


def require_trainable(codec: Codec, where: str = "") -> None:
    """Refuse, in one line (prefixed by ``where``, e.g. the config file and the codec's registered
    name and provider), a codec that does not implement :class:`TrainableCodec`."""
    if not isinstance(codec, TrainableCodec):
        prefix = f"{where}: " if where else ""
        raise ConfigError(
            f"{prefix}codec {type(codec).__name__} is not trainable: "
            "it does not implement TrainableCodec (forward(wav) -> TrainOutput, adversarial_config)"
        )


class CodecTrainingTask(TrainingTask):
    """Trains a :class:`TrainableCodec` (hcodec, dac, encodec, debug).

    Without adversarial training the only group is ``generator``. With it (the codec's
    ``adversarial_config.enabled``), groups are ``("discriminator", "generator")``: the
    discriminator step runs the codec once and stores its output in ``state``; the generator step
    reuses it for the same batch and scores it with the just-updated discriminator."""

    def __init__(
        self,
        codec: TrainableCodec,
        data_sample_rate: int | None = None,
        include_mixture: bool = False,
        config: dict[str, Any] | None = None,
    ) -> None:
        """``data_sample_rate``: rate of the batches (default the codec's); they are resampled and
        their channels converted for the codec (a mono codec sees each channel as an item).
        ``config``: what :meth:`config_dict` stores (default the codec's config)."""
        require_trainable(codec)
        self.codec = codec
        self.data_sample_rate = data_sample_rate or codec.sample_rate
        self.include_mixture = include_mixture
        self.config = config
        adversarial = codec.adversarial_config
        self.adversarial = adversarial if adversarial.enabled else None
        self.discriminator = adversarial.build(codec.sample_rate) if self.adversarial else None
        self.gan = GANLoss(self.discriminator) if self.discriminator is not None else None

    def modules(self) -> dict[str, nn.Module]:
        mods: dict[str, nn.Module] = {"codec": self.codec}
        if self.discriminator is not None:
            mods["discriminator"] = self.discriminator
        return mods

    def optimizer_groups(self) -> dict[str, list[nn.Parameter]]:
        generator = [p for p in self.codec.parameters() if p.requires_grad]
        if self.discriminator is None:
            return {"generator": generator}
        return {"discriminator": list(self.discriminator.parameters()), "generator": generator}

    def config_dict(self) -> dict[str, Any]:
        return self.config if self.config is not None else {"codec": self.codec.config.model_dump(mode="json")}

    def _output(self, batch: Any, state: dict[str, Any]) -> TrainOutput:
        """The codec's training forward for ``batch``, computed once per batch within a step."""
        cached = state.get("codec_output")
        if cached is not None and cached[0] is batch:
            return cached[1]
        device = next(self.codec.parameters()).device
        output = self.codec(self._codec_items(batch_wav(batch, self.include_mixture).to(device)))
        state["codec_output"] = (batch, output)
        return output

    def losses(self, group: str, batch: Any, state: dict[str, Any]) -> dict[str, Tensor]:
        output = self._output(batch, state)
        if group == "generator":
            terms = dict(output.losses)
            if self.gan is not None:
                self.discriminator.requires_grad_(False)  # generator losses must not fill the discriminator's grads
                try:
                    adv, feature = self.gan.generator_loss(self._signal(output.recon), self._signal(output.target))
                finally:
                    self.discriminator.requires_grad_(True)
                terms["adversarial"] = self.adversarial.generator_weight * adv
                terms["feature_matching"] = self.adversarial.feature_weight * feature
            return terms
        if group == "discriminator" and self.gan is not None:
            return {"discriminator": self.gan.discriminator_loss(self._signal(output.recon), self._signal(output.target))}
        raise ValueError(f"unknown optimizer group {group!r}; groups are {list(self.optimizer_groups())}")

    def metrics(self, group: str, state: dict[str, Any]) -> dict[str, Tensor]:
        """Per-codebook perplexity of the codes the generator's forward chose (``perplexity_<k>``,
        tokensep_core.tokens.health), from the output ``losses`` already computed: no extra forward."""
        cached = state.get("codec_output")
        if group != "generator" or cached is None or cached[1].codes is None:
            return {}
        return perplexity_metrics(cached[1].codes, self.codec.codebook_size)

    def _codec_items(self, wav: Tensor) -> Tensor:
        """wav ``[B, C, T]`` at the data rate -> ``[B', C_codec, T']`` at the codec rate."""
        return to_codec_items(wav, self.data_sample_rate, self.codec.sample_rate, self.codec.channels)

    def _signal(self, wav: Tensor) -> AudioSignal:
        return AudioSignal(wav, self.codec.sample_rate)


class CodecTrainingConfig(BaseModel):
    """Every section of a codec training config except ``trainer``."""

    model_config = ConfigDict(extra="forbid")

    codec: ComponentSpec = Field(description="a trainable registered codec (hcodec, dac, encodec)")
    data: ComponentSpec = Field(description="a registered stems dataset")
    augment: AugmentConfig
    stems: list[str] | None = Field(None, description="stems pooled into the batches; default all the dataset's")
    include_mixture: bool = Field(False, description="train on the mixtures as well")
    seed: int = Field(0, description="seed of the codec's initial weights")


def build_codec_training(sections: dict[str, Any], source: str) -> tuple[CodecTrainingTask, TrainingExamples]:
    """Config sections -> (task, augmented training examples)."""
    from tokensep_core.plugins import load_registry

    config = validate_model(CodecTrainingConfig, sections, source)
    registry = load_registry()
    torch.manual_seed(config.seed)
    codec = registry.build("codec", config.codec, source=source)
    require_trainable(codec, f"{source}: codec {config.codec.name!r} of {registry.get('codec', config.codec.name).provider}")
    examples = TrainingExamples(registry.build("dataset", config.data, source=source), config.augment, config.stems)
    resolved = {**config.model_dump(mode="json"), "codec": {"name": config.codec.name, "params": codec.config.model_dump(mode="json")}}
    return CodecTrainingTask(codec, examples.sample_rate, config.include_mixture, resolved), examples
