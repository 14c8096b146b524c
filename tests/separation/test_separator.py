import json

import pytest
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.separation.pipeline import PipelineConfig
from tokensep_core.separation.separator import GenerativeSeparator, InferenceConfig


def test_training_loss_falls(tiny_run) -> None:
    _, losses = tiny_run
    assert sum(losses[-3:]) / 3 < sum(losses[:3]) / 3 - 0.3, losses


def test_from_pretrained_restores_the_trained_weights(tiny_run) -> None:
    run_dir, _ = tiny_run
    separator = GenerativeSeparator.from_pretrained(run_dir, device="cpu")
    fresh = GenerativeSeparator.build(separator.pipeline.config, device="cpu")
    trained_lm = separator.pipeline.lm.state_dict()
    assert any(not torch.equal(v, fresh.pipeline.lm.state_dict()[k]) for k, v in trained_lm.items())
    assert separator.inference.segment_seconds == 0.5, "the inference settings travel with the checkpoint"


def test_separate_returns_every_stem_at_the_input_format(tiny_run) -> None:
    separator = GenerativeSeparator.from_pretrained(tiny_run[0], device="cpu")
    mixture = 0.1 * torch.randn(2, 22050 + 17, generator=torch.Generator().manual_seed(0))
    stems = separator.separate(mixture, 22050)
    assert set(stems) == {"vocals", "drums", "bass", "other"}
    assert all(s.shape == mixture.shape and torch.isfinite(s).all() for s in stems.values())
    again = separator.separate(mixture, 22050)
    assert all(torch.equal(stems[k], again[k]) for k in stems), "the same seed gives the same stems"


@pytest.mark.parametrize("method", ["shift", "mask"])
def test_only_requested_stems_and_mixture_consistency(tiny_run, method) -> None:
    separator = GenerativeSeparator.from_pretrained(tiny_run[0], device="cpu")
    mixture = 0.1 * torch.randn(2, 8000, generator=torch.Generator().manual_seed(1))
    assert list(separator.separate(mixture, 16000, stems=["bass"])) == ["bass"]
    separator.update_inference({"mixture_consistency": method})
    stems = separator.separate(mixture, 16000)
    assert torch.allclose(sum(stems.values()), mixture, atol=1e-5)
    # one stem alone is the same stem as in the full split: fitting uses every generated stem
    assert torch.allclose(separator.separate(mixture, 16000, stems=["bass"])["bass"], stems["bass"], atol=1e-6)


def test_stored_boolean_mixture_consistency_still_loads() -> None:
    assert InferenceConfig.model_validate({"mixture_consistency": True}).mixture_consistency == "shift"
    assert InferenceConfig.model_validate({"mixture_consistency": False}).mixture_consistency == "off"


def test_long_input_is_cut_into_segments_and_cross_faded() -> None:
    config = PipelineConfig.model_validate(
        {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "llama", "params": {"preset": "tiny"}}}
    )
    separator = GenerativeSeparator.build(config, inference=InferenceConfig(segment_seconds=0.25, overlap=0.5, batch_size=3), device="cpu")
    mixture = 0.1 * torch.randn(2, 16000, generator=torch.Generator().manual_seed(2))
    stems = separator.separate(mixture, 16000, stems=["vocals"])
    assert stems["vocals"].shape == mixture.shape and stems["vocals"].abs().sum() > 0


def test_exported_half_precision_model_separates_like_the_checkpoint(tiny_run, tmp_path) -> None:
    from tokensep_core.cli.main import main

    assert main(["export", str(tiny_run[0]), str(tmp_path / "model"), "--dtype", "float16"]) == 0
    exported = GenerativeSeparator.from_pretrained(tmp_path / "model", device="cpu")
    original = GenerativeSeparator.from_pretrained(tiny_run[0], device="cpu")
    for name, tensor in original.pipeline.lm.state_dict().items():
        assert torch.allclose(exported.pipeline.lm.state_dict()[name], tensor, atol=1e-2, rtol=1e-2)
    assert exported.pipeline.lm.state_dict()[name].dtype == torch.float32


def test_export_can_store_chosen_inference_settings(tiny_run, tmp_path, capsys) -> None:
    from tokensep_core.cli.main import main

    settings = '{"segment_seconds": 0.5, "sampling": {"temperature": 0.5, "cfg_scale": 3.0}}'
    assert main(["export", str(tiny_run[0]), str(tmp_path / "model"), "--inference", settings]) == 0
    original = GenerativeSeparator.from_pretrained(tiny_run[0], device="cpu").inference
    exported = GenerativeSeparator.from_pretrained(tmp_path / "model", device="cpu").inference
    assert (exported.segment_seconds, exported.sampling.temperature, exported.sampling.cfg_scale) == (0.5, 0.5, 3.0)
    assert exported.sampling.top_k == original.sampling.top_k and exported.overlap == original.overlap  # the rest is kept
    assert main(["export", str(tiny_run[0]), str(tmp_path / "bad"), "--inference", '{"overlap": 1.5}']) == 1
    assert "--inference: invalid inference setting" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_an_evaluation_records_the_separators_inference_settings(tiny_run) -> None:
    from tokensep_core.evaluation import Evaluation, MetricSpec, build_metrics, evaluate
    from tokensep_core.plugins import load_registry

    registry = load_registry()
    params = {"songs": 4, "seconds": 0.5, "sample_rate": 16000, "split": "test", "test_fraction": 0.5, "seed": 1}
    dataset = registry.build("dataset", {"name": "synthetic", "params": params})
    separator = GenerativeSeparator.from_pretrained(tiny_run[0], device="cpu")
    separator.update_inference({"mixture_consistency": "mask"})
    metrics = build_metrics(registry, [MetricSpec(name="si_sdr")])
    evaluation = evaluate(separator, [dataset[i] for i in range(len(dataset))], metrics, controls=False)
    assert evaluation.inference is not None and evaluation.inference["mixture_consistency"] == "mask"
    assert Evaluation.from_dict(json.loads(json.dumps(evaluation.to_dict()))).inference == evaluation.inference


def _debug_separator(**inference) -> GenerativeSeparator:
    config = PipelineConfig.model_validate(
        {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "llama", "params": {"preset": "tiny"}}}
    )
    return GenerativeSeparator.build(config, inference=InferenceConfig(segment_seconds=0.25, **inference), device="cpu")


def test_mid_generation_gives_every_channel_the_stems_of_the_channels_mean() -> None:
    mixture = 0.1 * torch.randn(2, 6000, generator=torch.Generator().manual_seed(3))
    mid = _debug_separator(stereo="mid").separate(mixture, 16000)
    of_mean = _debug_separator().separate(mixture.mean(dim=0, keepdim=True), 16000)
    for stem, wav in mid.items():
        assert wav.shape == mixture.shape
        assert torch.allclose(wav[0], of_mean[stem][0], atol=1e-6) and torch.allclose(wav[1], of_mean[stem][0], atol=1e-6)


def test_mid_generation_keeps_the_mixtures_stereo_image_when_fitted() -> None:
    mixture = 0.1 * torch.randn(2, 6000, generator=torch.Generator().manual_seed(4))
    mixture[1] *= 0.1  # a mixture panned hard left
    stems = _debug_separator(stereo="mid", mixture_consistency="mask").separate(mixture, 16000)
    assert torch.allclose(sum(stems.values()), mixture, atol=1e-5)
    for wav in stems.values():  # each channel is split from its own channel of the mixture
        assert wav[1].pow(2).mean() < 0.05 * wav[0].pow(2).mean()


def test_mid_generation_is_refused_for_a_codec_that_codes_several_channels() -> None:
    config = PipelineConfig.model_validate(
        {
            "codec": {"name": "debug", "params": {"channels": 2}},
            "encoder": {"name": "debug"},
            "lm": {"name": "llama", "params": {"preset": "tiny"}},
        }
    )
    with pytest.raises(ConfigError, match="stereo 'mid' applies to a mono codec only"):
        GenerativeSeparator.build(config, inference=InferenceConfig(stereo="mid"), device="cpu")
