"""CodecTrainingTask: groups, batch formats, adversarial losses, and a short optimisation."""

import pytest
import torch

from tokensep_codecs.debug import DebugCodec
from tokensep_codecs.hcodec import HCodec, HCodecConfig
from tokensep_codecs.training import CodecTrainingTask, batch_wav, build_codec_training
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import TrainableCodec, TrainOutput
from tokensep_core.plugins import load_registry

LIGHT = {"enabled": True, "periods": [], "fft_sizes": [256, 128]}


def codec(**overrides) -> HCodec:
    torch.manual_seed(0)
    return HCodec(HCodecConfig(preset="tiny", **overrides))


def test_groups_follow_the_adversarial_switch():
    plain = CodecTrainingTask(codec())
    assert list(plain.optimizer_groups()) == ["generator"] and list(plain.modules()) == ["codec"]
    gan = CodecTrainingTask(codec(adversarial=LIGHT))
    assert list(gan.optimizer_groups()) == ["discriminator", "generator"]
    assert set(gan.modules()) == {"codec", "discriminator"}
    assert gan.config_dict()["codec"]["adversarial"]["fft_sizes"] == [256, 128]


def test_batch_formats():
    wav = torch.randn(2, 1, 100)
    assert batch_wav(wav) is wav
    assert batch_wav({"wav": wav}) is wav
    assert batch_wav({"stems": {"drums": wav, "bass": wav}}).shape == (4, 1, 100)
    assert batch_wav({"stems": torch.randn(2, 4, 1, 100)}).shape == (8, 1, 100)
    with pytest.raises(ConfigError, match="batch"):
        batch_wav([wav])


def test_untrainable_codec_is_refused_naming_it_and_its_provider(example_plugin: str):
    mulaw = load_registry().build("codec", "mulaw")  # weight-free: a Codec, not a TrainableCodec
    with pytest.raises(ConfigError, match=r"^codec MuLawCodec is not trainable: it does not implement TrainableCodec"):
        CodecTrainingTask(mulaw)
    sections = {"codec": {"name": "mulaw"}, "data": {"name": "synthetic"}, "augment": {"seconds": 0.5}}
    with pytest.raises(ConfigError, match=r"^exp\.yaml: codec 'mulaw' of tokensep-example [^:]+: codec MuLawCodec is not trainable"):
        build_codec_training(sections, "exp.yaml")


def test_the_debug_codec_trains_through_the_declared_contract(tone):
    torch.manual_seed(0)
    codec = DebugCodec(DebugCodec.Config(channels=2))
    assert isinstance(codec, TrainableCodec) and not codec.adversarial_config.enabled
    output = codec(tone(0.1, 16000, channels=2, batch=3))
    assert isinstance(output, TrainOutput) and output.recon.shape == output.target.shape == (6, 1, 1600)
    assert set(output.losses) == {"l1", "commitment", "codebook"}
    task = CodecTrainingTask(codec)
    assert set(task.losses("generator", tone(0.1, 16000, channels=2), {})) == {"l1", "commitment", "codebook"}


def test_adversarial_step_in_group_order(tone):
    task = CodecTrainingTask(codec(adversarial=LIGHT))
    optimizers = {g: torch.optim.Adam(p, lr=1e-3) for g, p in task.optimizer_groups().items()}
    batch, state = tone(0.3, 16000, batch=2), {}
    d_before = [p.detach().clone() for p in task.discriminator.parameters()]

    disc = task.losses("discriminator", batch, state)
    assert set(disc) == {"discriminator"} and torch.isfinite(disc["discriminator"])
    optimizers["discriminator"].zero_grad()
    sum(disc.values()).backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in task.codec.parameters())  # fake was detached
    optimizers["discriminator"].step()
    assert any(not torch.equal(a, b) for a, b in zip(d_before, task.discriminator.parameters()))

    optimizers["discriminator"].zero_grad()
    gen = task.losses("generator", batch, state)
    assert {"adversarial", "feature_matching", "mel", "semantic"} <= set(gen)
    optimizers["generator"].zero_grad()
    sum(gen.values()).backward()
    assert all(p.grad is None for p in task.discriminator.parameters())  # generator losses leave it alone
    assert all(p.requires_grad for p in task.discriminator.parameters())
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in task.codec.acoustic_encoder.parameters())


def test_generator_reuses_the_codec_output_of_the_same_batch(tone):
    task = CodecTrainingTask(codec(adversarial=LIGHT))
    batch, state = tone(0.3, 16000), {}
    task.losses("discriminator", batch, state)
    output = state["codec_output"][1]
    task.losses("generator", batch, state)
    assert state["codec_output"][1] is output
    task.losses("generator", tone(0.3, 16000), state)  # another batch object: recomputed
    assert state["codec_output"][1] is not output


def test_task_optimisation_lowers_the_generator_loss(tone):
    task = CodecTrainingTask(codec())
    optimizer = torch.optim.Adam(task.optimizer_groups()["generator"], lr=3e-3)
    batch = {"wav": tone(0.5, 16000, batch=2)}
    totals = []
    for _ in range(12):
        losses = task.losses("generator", batch, {})
        optimizer.zero_grad()
        total = sum(losses.values())
        total.backward()
        optimizer.step()
        totals.append(float(total))
    assert sum(totals[-3:]) / 3 < 0.85 * sum(totals[:3]) / 3, totals
