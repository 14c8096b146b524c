"""One precision vocabulary: float32, bfloat16, float16 for training and inference."""

import json
from pathlib import Path

import pytest
import torch
from pydantic import ValidationError

from tokensep_core.runtime.precision import TORCH_DTYPES, autocast, effective_precision, grad_scaler
from tokensep_core.separation.separator import InferenceConfig
from tokensep_core.training.config import TrainerConfig

ROOT = Path(__file__).resolve().parents[2]


def test_old_training_spellings_read_as_the_unified_names():
    assert [TrainerConfig(precision=old).precision for old in ("fp32", "bf16", "fp16")] == ["float32", "bfloat16", "float16"]
    assert TrainerConfig(precision="bfloat16").precision == "bfloat16"
    with pytest.raises(ValidationError):
        TrainerConfig(precision="fp8")
    stored = json.loads((ROOT / "pretrained" / "separator-small" / "config.json").read_text())
    assert TrainerConfig.model_validate(stored["trainer"]).precision == "float32"


def test_inference_and_training_share_the_names():
    assert InferenceConfig(dtype="bfloat16").dtype == "bfloat16"
    assert set(TORCH_DTYPES) == {"float32", "bfloat16", "float16"}
    cpu = torch.device("cpu")
    assert effective_precision("float16", cpu) == "float32" and effective_precision("bfloat16", cpu) == "bfloat16"
    assert not grad_scaler("bfloat16", cpu).is_enabled()
    with autocast("bfloat16", cpu):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
