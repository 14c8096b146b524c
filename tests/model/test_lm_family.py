"""Every registered LM names its family, which the pipeline reads before building anything."""

from __future__ import annotations

import pytest

from tokensep_core.errors import RegistryError
from tokensep_core.lm.ar_family import AUTOREGRESSIVE
from tokensep_core.lm.family import family_of
from tokensep_core.lm.masked_family import MASKED
from tokensep_core.plugins import load_registry
from tokensep_core.registry import Provider
from tokensep_core.separation.pipeline import PipelineConfig, build_pipeline
from tokensep_lms.debug import DebugLM


def test_built_in_lms_declare_their_family() -> None:
    registry = load_registry(autoload=False)
    families = {name: family_of(registry.get("lm", name)) for name in registry.names("lm")}
    assert families == {"debug": AUTOREGRESSIVE, "llama": AUTOREGRESSIVE, "masked": MASKED}
    assert AUTOREGRESSIVE.uses_token_layout and not MASKED.uses_token_layout
    assert MASKED.inference_settings == {"passes"} and not AUTOREGRESSIVE.inference_settings


def test_an_lm_factory_without_a_family_is_refused_naming_it_and_its_provider() -> None:
    registry = load_registry(autoload=False)

    def make_lm(config):
        return DebugLM(config)

    registry.add("lm", "anonymous", make_lm, DebugLM.Config, provider=Provider("lm-maker", "1.2"))
    config = PipelineConfig.model_validate({"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "anonymous"}})
    with pytest.raises(RegistryError, match=r"^lm 'anonymous' \(provider lm-maker 1\.2\): make_lm declares no LM family"):
        build_pipeline(registry, config)
    make_lm.family = AUTOREGRESSIVE  # a factory function may declare it too
    assert build_pipeline(registry, config).lm.family is AUTOREGRESSIVE
