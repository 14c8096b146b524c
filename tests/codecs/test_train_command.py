"""``tokensep train codec CONFIG``: a tiny HCodec on pooled stems of the synthetic dataset."""

import pytest
import yaml

from tokensep_codecs.training import batch_wav, build_codec_training
from tokensep_core.cli.main import main
from tokensep_core.errors import ConfigError

SECTIONS = {
    "codec": {"name": "hcodec", "params": {"preset": "tiny"}},
    "data": {"name": "synthetic", "params": {"songs": 2, "seconds": 1.5, "sample_rate": 22050}},
    "augment": {"seconds": 0.5, "examples_per_epoch": 4},
    "stems": ["bass", "drums"],
    "include_mixture": True,
}


def test_build_pools_the_chosen_stems_and_converts_to_the_codec_rate():
    task, examples = build_codec_training(dict(SECTIONS), "test")
    item = examples[0]
    batch = {key: item[key].unsqueeze(0) for key in ("mixture", "stems")}
    wav = task._codec_items(batch_wav(batch, include_mixture=True))
    # 2 stems + mixture, each stereo channel its own mono item, resampled 22.05 -> 16 kHz
    assert wav.shape == (6, 1, 8000)
    assert task.config_dict()["codec"]["params"]["encoder_strides"] == [4, 5, 8]


def test_unknown_section_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown field"):
        build_codec_training({**SECTIONS, "codek": {}}, "cfg.yaml")


def test_cli_trains_and_writes_a_checkpoint(tmp_path, capsys):
    config = tmp_path / "codec.yaml"
    config.write_text(yaml.safe_dump({**SECTIONS, "trainer": {"steps": 2, "batch_size": 1, "checkpoint_every": 0, "device": "cpu"}}))
    assert main(["train", "codec", str(config), "--run-dir", str(tmp_path / "run")]) == 0
    assert "step 2" in capsys.readouterr().out
    checkpoint = tmp_path / "run" / "checkpoints" / "step_00000002"
    assert (checkpoint / "codec.safetensors").is_file() and not (checkpoint / "discriminator.safetensors").exists()
