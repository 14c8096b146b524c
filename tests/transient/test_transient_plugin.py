"""The tokensep-transient plugin (installed by scripts/setup.sh) inside tokensep: its three codecs
are registered, train through `tokensep train codec`'s builder and Trainer, and load back from
their checkpoints with the same codes."""

import pytest
import torch

from tokensep_codecs.inference import load_codec
from tokensep_codecs.training import build_codec_training
from tokensep_core.plugins import load_registry
from tokensep_core.training import TrainerConfig, train

VARIANTS = {
    "hcodec_transient_loss": {"preset": "tiny"},
    "hcodec_dual_rate": {
        "preset": "tiny",
        "high_hop": 40,
        "high_stft_frames": 2,
        "high_encoder_dim": 16,
        "high_encoder_layers": 1,
        "high_latent_dim": 16,
        "high_decoder_dim": 16,
        "high_decoder_layers": 1,
    },
    "hcodec_onset_tokens": {"preset": "tiny", "onset_positions": 4},
}


@pytest.fixture(autouse=True)
def single_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


def test_variants_are_registered_next_to_hcodec():
    registry = load_registry()
    assert registry.get("codec", "hcodec").provider.name == "tokensep", "the built-in hcodec stays tokensep's"
    for name in VARIANTS:
        assert registry.get("codec", name).provider.name == "tokensep-transient"


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_train_two_steps_and_reload(name, tmp_path):
    sections = {
        "codec": {"name": name, "params": VARIANTS[name]},
        "data": {"name": "synthetic", "params": {"songs": 2, "seconds": 1.0, "sample_rate": 16000, "seed": 1}},
        "augment": {"seconds": 0.25, "examples_per_epoch": 4},
        "stems": ["drums"],
    }
    task, examples = build_codec_training(sections, "transient test")
    config = TrainerConfig(steps=2, batch_size=1, checkpoint_every=0, device="cpu", lr=1e-3)
    result = train(task, config, tmp_path, examples)
    assert result.step == 2 and all(torch.isfinite(torch.tensor(v)) for v in result.metrics.values())

    loaded = load_codec(load_registry(), tmp_path).codec
    wav = 0.1 * torch.randn(1, 1, 4000, generator=torch.Generator().manual_seed(0))
    task.codec.eval()
    with torch.inference_mode():
        assert torch.equal(loaded.encode(wav), task.codec.encode(wav))
        assert loaded.decode(loaded.encode(wav)).shape == (1, 1, 4000)


def test_transient_grid_loads_at_equal_bitrate(repo_root):
    """benchmarks/transient.yaml: valid grid and codec-training sections, four codec rows, the
    controls, each codec trained with seeds 0, 1 and 2 (one resynthesis row each), and every codec
    at HCodec's tokens per second."""
    from tokensep_codecs.training import CodecTrainingConfig
    from tokensep_core.bench.grid import load_grid, row_names
    from tokensep_core.config import validate_model
    from tokensep_core.training import TrainerConfig

    path = repo_root / "benchmarks" / "transient.yaml"
    grid = load_grid(path)
    rows = row_names(grid, str(path))
    assert {n for n in rows if not n.startswith("codec_oracle_")} == {
        "hcodec",
        "transient_loss",
        "dual_rate",
        "onset_tokens",
        "silence",
        "mixture_copy",
        "oracle",
    }
    assert {m.name for m in grid.metrics} == {"onset_f", "attack_error", "visqol", "si_sdr", "mel_distance"}
    registry = load_registry()
    rates, seeds = {}, {}
    for name, section in grid.codecs.items():
        sections = {**section, "data": {"name": "synthetic"}}
        trainer = validate_model(TrainerConfig, sections.pop("trainer"), name)
        config = validate_model(CodecTrainingConfig, sections, name)
        assert config.seed == config.augment.seed == trainer.seed, name
        seeds.setdefault(config.codec.name, set()).add(config.seed)
        codec = registry.build("codec", config.codec, source=name)
        rates[name] = codec.frame_rate * codec.num_codebooks
    assert seeds == dict.fromkeys(["hcodec", *VARIANTS], {0, 1, 2})
    assert set(rates.values()) == {200.0}
    oracles = {b.separator.params["checkpoint"] for b in grid.baselines if b.separator and b.separator.name == "codec_oracle"}
    assert oracles == {f"{{codec:{name}}}" for name in grid.codecs}


@pytest.mark.parametrize("name", ["hcodec_dual_rate", "hcodec_onset_tokens"])
def test_inside_the_generative_separator(name, tmp_path):
    """A separator over a variant's folded code layout trains a step and separates drums."""
    from tokensep_core.separation.separator import GenerativeSeparator
    from tokensep_core.separation.training import build_separator_training

    sections = {
        "model": {
            "codec": {"name": name, "params": VARIANTS[name]},
            "encoder": {"name": "debug"},
            "lm": {"name": "llama", "params": {"preset": "tiny"}},
            "pattern": {"name": "delay"},
        },
        "data": {"name": "synthetic", "params": {"songs": 2, "seconds": 1.0, "sample_rate": 16000, "seed": 3}},
        "augment": {"seconds": 0.5, "examples_per_epoch": 4},
        "inference": {"segment_seconds": 0.5, "batch_size": 8},
    }
    task, examples = build_separator_training(sections, "transient separator")
    train(task, TrainerConfig(steps=1, batch_size=2, checkpoint_every=0, device="cpu"), tmp_path, examples)
    separator = GenerativeSeparator.from_pretrained(tmp_path, device="cpu")
    mixture = 0.1 * torch.randn(1, 8000, generator=torch.Generator().manual_seed(0))
    drums = separator.separate(mixture, 16000, stems=["drums"])["drums"]
    assert drums.shape == (1, 8000) and bool(torch.isfinite(drums).all())


@pytest.mark.parametrize("enabled", [True, False])
def test_dual_rate_restarts_dead_high_rate_codes(enabled):
    """The high-rate residual RVQ has the same dead-code restarts as HCodec's quantizers (a
    1000-step grid codec without them emitted one id per high-rate codebook): during a training
    forward, exactly the codes whose usage is dead after this batch's counts move onto this
    batch's latents, only when restarts are on."""
    registry = load_registry()
    codec = registry.build("codec", "hcodec_dual_rate", {**VARIANTS["hcodec_dual_rate"], "codebook_restart": {"enabled": enabled}})
    codec.train()
    usage = codec.high_restart.usage
    usage.zero_()
    usage[:, 0] = 1.0  # every code but 0 looks dead
    before = codec.high_quantizer.quantizers[0].codebook.weight.detach().clone()
    chosen: list[torch.Tensor] = []
    codec.high_quantizer.register_forward_hook(lambda module, args, out: chosen.append(out[1]))
    codec(0.1 * torch.randn(1, 1, 4000, generator=torch.Generator().manual_seed(0)))
    moved = (codec.high_quantizer.quantizers[0].codebook.weight != before).any(dim=1)
    if enabled:
        rule = codec.config.codebook_restart
        counts = torch.bincount(chosen[0][:, 0].flatten(), minlength=codec.codebook_size).float()
        dead = (1 - rule.decay) * counts < rule.threshold * counts.sum() / codec.codebook_size  # usage after this step
        assert 0 < int(dead.sum()) < codec.codebook_size - 1  # some codes stay, some restart
        assert torch.equal(moved[1:], dead[1:])
    else:
        assert not moved.any()
