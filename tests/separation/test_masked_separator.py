"""The masked LM behind the generative separator: built, trained with `tokensep train separator`,
loaded back and separating through the same `separate` call as the autoregressive family."""

import pytest
import torch
import yaml

from tokensep_core.cli.main import main
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import MaskedTokenLM
from tokensep_core.separation.pipeline import PipelineConfig
from tokensep_core.separation.separator import GenerativeSeparator, InferenceConfig

MODEL = {
    "codec": {"name": "debug"},
    "encoder": {"name": "debug"},
    "lm": {"name": "masked", "params": {"preset": "tiny", "passes": [3, 1]}},
    "track_order": {"name": "interleaved"},  # ignored by the masked family
}


def test_masked_pipeline_takes_the_codec_shapes_and_ignores_pattern_and_order() -> None:
    separator = GenerativeSeparator.build(PipelineConfig.model_validate(MODEL), device="cpu")
    pipeline = separator.pipeline
    assert isinstance(pipeline.lm, MaskedTokenLM) and pipeline.token_layout is None
    assert (pipeline.lm.num_codebooks, pipeline.lm.codebook_size) == (pipeline.codec.num_codebooks, pipeline.codec.codebook_size)
    assert pipeline.lm.stems == pipeline.config.stems and pipeline.encoder.output_dim == pipeline.lm.dim
    wrong = {**MODEL, "lm": {"name": "masked", "params": {"preset": "tiny", "codebook_size": 7}}}
    with pytest.raises(ConfigError, match="codebooks of 7 codes"):
        GenerativeSeparator.build(PipelineConfig.model_validate(wrong), device="cpu")


def test_separates_one_second_in_the_configured_passes_per_segment() -> None:
    inference = InferenceConfig(segment_seconds=0.5, overlap=0.25, batch_size=8)
    separator = GenerativeSeparator.build(PipelineConfig.model_validate(MODEL), inference=inference, device="cpu")
    calls = []
    separator.pipeline.lm.register_forward_hook(lambda module, args, out: calls.append(out.shape))
    mixture = 0.1 * torch.randn(2, 16000, generator=torch.Generator().manual_seed(0))
    stems = separator.separate(mixture, 16000)
    assert set(stems) == {"vocals", "drums", "bass", "other"}
    assert all(s.shape == mixture.shape and torch.isfinite(s).all() for s in stems.values())
    codebooks = separator.pipeline.lm.num_codebooks
    assert len(calls) == 3 + (codebooks - 1), "one batch of segments: sum(passes) forwards"
    again = separator.separate(mixture, 16000)
    assert all(torch.equal(stems[k], again[k]) for k in stems), "the same seed gives the same stems"
    assert list(separator.separate(mixture, 16000, stems=["bass"])) == ["bass"]


def test_inference_passes_override_the_lms_own_and_apply_to_masked_lms_only() -> None:
    inference = InferenceConfig(segment_seconds=0.5, overlap=0.25, batch_size=8)
    separator = GenerativeSeparator.build(PipelineConfig.model_validate(MODEL), inference=inference, device="cpu")
    calls = []
    separator.pipeline.lm.register_forward_hook(lambda module, args, out: calls.append(1))
    separator.update_inference({"passes": [5, 2]})
    separator.separate(0.1 * torch.randn(2, 8000, generator=torch.Generator().manual_seed(0)), 16000)
    assert len(calls) == 5 + 2 * (separator.pipeline.lm.num_codebooks - 1)
    with pytest.raises(ConfigError, match="passes"):
        separator.update_inference({"passes": [0]})
    assert separator.inference.passes == [5, 2]
    llama = {**MODEL, "lm": {"name": "llama", "params": {"preset": "tiny"}}, "track_order": {"name": "sequential"}}
    with pytest.raises(ConfigError, match=r"passes does not apply to this separator.s LM \(LlamaLM, autoregressive family\)"):
        GenerativeSeparator.build(PipelineConfig.model_validate(llama), inference=InferenceConfig(passes=[4]), device="cpu")


def test_train_separator_cli_trains_the_masked_lm_and_the_checkpoint_separates(tmp_path) -> None:
    config = {
        "model": MODEL,
        "data": {"name": "synthetic", "params": {"songs": 2, "seconds": 1.0, "sample_rate": 16000, "seed": 3}},
        "augment": {"seconds": 0.5, "examples_per_epoch": 8},
        "inference": {"segment_seconds": 0.5, "batch_size": 4},
        "trainer": {"steps": 4, "batch_size": 2, "lr": 3e-3, "warmup_steps": 1, "checkpoint_every": 0, "log_every": 1, "device": "cpu"},
    }
    path = tmp_path / "masked.yaml"
    path.write_text(yaml.safe_dump(config))
    run_dir = tmp_path / "run"
    assert main(["train", "separator", str(path), "--run-dir", str(run_dir)]) == 0
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    column = lines[0].split(",").index("model/ce")
    losses = [float(line.split(",")[column]) for line in lines[1:]]
    assert len(losses) == 4 and all(0 < loss < 20 for loss in losses)
    separator = GenerativeSeparator.from_pretrained(run_dir, device="cpu")
    fresh = GenerativeSeparator.build(separator.pipeline.config, device="cpu")
    trained = separator.pipeline.lm.state_dict()
    assert any(not torch.equal(v, fresh.pipeline.lm.state_dict()[k]) for k, v in trained.items())
    stems = separator.separate(0.1 * torch.randn(1, 8000, generator=torch.Generator().manual_seed(1)), 16000)
    assert all(s.shape == (1, 8000) for s in stems.values())
