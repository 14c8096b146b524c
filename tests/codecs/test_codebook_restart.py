"""Dead-code restarts: collapsed codebooks come back into use, state is saved, DAC and HCodec both train with it."""

import pytest
import torch
from dac.nn.quantize import ResidualVectorQuantize

from tokensep_codecs.codebook_restart import CodebookRestart, CodebookRestartConfig
from tokensep_codecs.dac_codec import DACCodec, DACCodecConfig
from tokensep_codecs.hcodec import HCodec, HCodecConfig

ON = {"enabled": True}


def _collapsed_rvq() -> ResidualVectorQuantize:
    """Two codebooks of 32 whose codes all point the same way: every input picks code 0."""
    torch.manual_seed(0)
    rvq = ResidualVectorQuantize(16, n_codebooks=2, codebook_size=32, codebook_dim=4)
    with torch.no_grad():
        for vq in rvq.quantizers:
            vq.codebook.weight.fill_(1.0)
    return rvq.train()


def test_a_collapsed_codebook_is_spread_over_the_data() -> None:
    rvq = _collapsed_rvq()
    restart = CodebookRestart(rvq, CodebookRestartConfig(enabled=True, decay=0.5, threshold=0.2))
    z = torch.randn(4, 16, 50, generator=torch.Generator().manual_seed(1))
    _, codes, latents, _, _ = rvq(z)
    before = [codes[:, k].unique().numel() for k in range(2)]
    restarted = 0
    for _ in range(3):
        _, codes, latents, _, _ = rvq(z)
        restarted += restart.update(rvq, codes, latents)
    _, codes, _, _, _ = rvq(z)
    after = [codes[:, k].unique().numel() for k in range(2)]
    assert restarted > 0
    assert before == [1, 1]
    assert all(a >= 8 for a in after), f"distinct codes per codebook before {before}, after {after}"


def test_restarts_are_on_by_default_and_their_state_is_saved() -> None:
    codec = HCodec(HCodecConfig(preset="tiny"))
    assert codec.config.codebook_restart.enabled and DACCodecConfig().codebook_restart.enabled
    usage = {key: value for key, value in codec.state_dict().items() if key.endswith("usage")}
    assert set(usage) == {"acoustic_restart.usage", "semantic_restart.usage"}
    assert usage["acoustic_restart.usage"].shape == (2, 64)


def test_weights_load_whatever_the_restart_setting(tone) -> None:
    """Weights saved before restarts existed (no usage statistics, like the shipped separator's
    codec) load into a codec with restarts, whose statistics start afresh; weights with them load
    into a codec with restarts off."""
    torch.manual_seed(0)
    trained = HCodec(HCodecConfig(preset="tiny")).train()
    trained(tone(0.2, 16000))  # one training forward fills the usage statistics
    state = trained.state_dict()
    assert float(state["acoustic_restart.usage"].min()) >= 0
    old = {k: v for k, v in state.items() if "restart" not in k}
    fresh = HCodec(HCodecConfig(preset="tiny"))
    result = fresh.load_state_dict(old, strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert torch.equal(fresh.acoustic_quantizer.quantizers[0].codebook.weight, trained.acoustic_quantizer.quantizers[0].codebook.weight)
    assert bool((fresh.acoustic_restart.usage == -1).all())
    off = HCodec(HCodecConfig(preset="tiny", codebook_restart={"enabled": False}))
    off.load_state_dict(state, strict=True)
    assert torch.equal(off.acoustic_restart.usage, state["acoustic_restart.usage"])


@pytest.mark.parametrize("restart", [False, True])
def test_restarts_only_act_in_training(restart: bool, tone) -> None:
    torch.manual_seed(0)
    codec = HCodec(HCodecConfig(preset="tiny", codebook_restart={"enabled": restart})).eval()
    weights = {k: v.clone() for k, v in codec.state_dict().items()}
    codec(tone(0.2, 16000))  # an eval forward (e.g. validation) never touches the codebooks
    assert all(torch.equal(weights[k], v) for k, v in codec.state_dict().items())


def _distinct_codes_after_training(codec: torch.nn.Module, wav: torch.Tensor, steps: int) -> int:
    optimizer = torch.optim.AdamW(codec.parameters(), lr=3e-3)
    codec.train()
    for _ in range(steps):
        loss = sum(codec(wav).losses.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.inference_mode():
        codes = codec.eval().encode(wav)
    return sum(codes[:, k].unique().numel() for k in range(codes.shape[1]))


@pytest.mark.parametrize("family", ["hcodec", "dac"])
def test_training_with_restarts_uses_more_codes(family: str, tone) -> None:
    wav = tone(0.5, 16000, batch=2) * torch.tensor([1.0, 0.5])[:, None, None]
    counts = {}
    for restart in (False, True):
        torch.manual_seed(0)
        if family == "hcodec":
            codec = HCodec(HCodecConfig(preset="tiny", codebook_restart={"enabled": restart, "decay": 0.5, "threshold": 0.3}))
        else:
            codec = DACCodec(
                DACCodecConfig(
                    sample_rate=16000,
                    encoder_dim=4,
                    encoder_rates=[4, 5, 8],
                    decoder_dim=16,
                    decoder_rates=[8, 5, 4],
                    n_codebooks=2,
                    codebook_size=64,
                    codebook_restart={"enabled": restart, "decay": 0.5, "threshold": 0.3},
                )
            )
        counts[restart] = _distinct_codes_after_training(codec, wav, steps=12)
    assert counts[True] > counts[False], counts
