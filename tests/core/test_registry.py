import pytest
from pydantic import BaseModel

from tokensep_codecs.debug import DebugCodec
from tokensep_core.config import ComponentConfig
from tokensep_core.errors import ConfigError, RegistryError
from tokensep_core.registry import ComponentRegistry, Provider

ALICE = Provider("alice-codecs", "1.0")
BOB = Provider("bob-codecs", "2.3")


def test_duplicate_name_names_both_providers() -> None:
    registry = ComponentRegistry()
    registry.add("codec", "debug", DebugCodec, provider=ALICE)
    with pytest.raises(RegistryError) as err:
        registry.add("codec", "debug", DebugCodec, provider=BOB)
    assert "alice-codecs 1.0" in str(err.value) and "bob-codecs 2.3" in str(err.value)


def test_unknown_name_lists_known_names_closest_first() -> None:
    registry = ComponentRegistry()
    for name in ("encodec", "hcodec", "dac"):
        registry.add("codec", name, DebugCodec, provider=ALICE)
    with pytest.raises(RegistryError) as err:
        registry.get("codec", "hcodek")
    message = str(err.value)
    assert "unknown codec 'hcodek'" in message
    assert message.index("hcodec") < message.index("dac")


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(RegistryError, match="unknown component kind 'vocoder'"):
        ComponentRegistry().add("vocoder", "x", DebugCodec, provider=ALICE)


def test_contract_checks_at_registration() -> None:
    registry = ComponentRegistry()

    class LaxConfig(BaseModel):  # allows extra fields
        pass

    with pytest.raises(RegistryError, match="must forbid extra fields"):
        registry.add("codec", "lax", DebugCodec, LaxConfig, provider=ALICE)
    with pytest.raises(RegistryError, match="does not implement Codec"):
        registry.add("codec", "wrong", type("NotACodec", (), {"Config": ComponentConfig}), provider=ALICE)
    with pytest.raises(RegistryError, match="needs a pydantic Config"):
        registry.add("codec", "noconfig", lambda config: None, provider=ALICE)


def test_build_validates_params_and_names_the_field() -> None:
    registry = ComponentRegistry()
    registry.add("codec", "debug", DebugCodec, provider=ALICE)
    codec = registry.build("codec", {"name": "debug", "params": {"hop_length": 160}})
    assert codec.hop_length == 160
    with pytest.raises(ConfigError) as err:
        registry.build("codec", {"name": "debug", "params": {"hop_lenght": 160}}, source="exp.yaml")
    assert str(err.value) == "exp.yaml: codec 'debug': field 'hop_lenght': unknown field"
    with pytest.raises(ConfigError, match="field 'codebook_size'"):
        registry.build("codec", {"name": "debug", "params": {"codebook_size": 1}})


def test_rollback_removes_a_failed_providers_partial_registration() -> None:
    registry = ComponentRegistry()
    registry.add("codec", "keep", DebugCodec, provider=ALICE)
    before = registry.snapshot()
    registry.add("codec", "partial", DebugCodec, provider=BOB)
    registry.rollback(before)
    assert registry.names("codec") == ["keep"]
