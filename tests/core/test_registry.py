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


def test_a_providers_claims_stay_out_of_the_registry_until_settled() -> None:
    registry = ComponentRegistry()
    registry.add("codec", "keep", DebugCodec, provider=ALICE)
    view = registry.for_provider(BOB)
    view.add("codec", "pending", DebugCodec)
    assert registry.names("codec") == ["keep"]
    with pytest.raises(RegistryError, match=r"^bob-codecs: codec 'pending' registered twice by the same plugin$"):
        view.add("codec", "pending", DebugCodec)
    assert registry.settle(view.claims) == []
    assert registry.get("codec", "pending").provider == BOB


def test_settle_refuses_a_name_claimed_twice_for_every_claimant_and_keeps_a_held_name() -> None:
    registry = ComponentRegistry()
    registry.add("codec", "held", DebugCodec, provider=Provider("tokensep", "0.1.0"))
    alice, bob = registry.for_provider(ALICE), registry.for_provider(BOB)
    for view, own in ((alice, "alice_only"), (bob, "bob_only")):
        for name in ("shared", own, "held"):
            view.add("codec", name, DebugCodec)
    clashes = registry.settle([*bob.claims, *alice.claims])
    assert [str(c) for c in clashes] == [
        "codec 'held' is provided by tokensep 0.1.0; the same name from alice-codecs 1.0 and bob-codecs 2.3 is refused",
        "codec 'shared' is registered by alice-codecs 1.0 and bob-codecs 2.3; refused for all of them",
    ]
    assert registry.names("codec") == ["alice_only", "bob_only", "held"]
    assert registry.get("codec", "held").provider.name == "tokensep"


def test_build_takes_params_as_a_mapping_and_the_source_by_keyword_only() -> None:
    registry = ComponentRegistry()
    registry.add("codec", "debug", DebugCodec, provider=ALICE)
    assert registry.build("codec", "debug", {"hop_length": 160}).hop_length == 160
    spec = {"name": "debug", "params": {"hop_length": 160, "num_codebooks": 3}}
    codec = registry.build("codec", spec, params={"hop_length": 80})  # params override the spec's
    assert (codec.hop_length, codec.num_codebooks) == (80, 3)
    with pytest.raises(RegistryError, match=r"params must be a mapping, got str 'exp.yaml' \(the source is keyword-only: source=...\)"):
        registry.build("codec", "debug", "exp.yaml")
    with pytest.raises(ConfigError, match=r"^exp.yaml: codec 'debug': field 'hop_lenght': unknown field$"):
        registry.build("codec", "debug", {"hop_lenght": 160}, source="exp.yaml")
