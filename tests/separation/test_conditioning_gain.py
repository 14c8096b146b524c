"""The separator's LM must read the mixture. Songs here are four tones, one per stem, each
picked from four by the song: the mixture names every stem's tone, the stems' codes are a fixed
function of it, and no stem's codes tell another's. A tiny separator trained for a few seconds
must generate each song's own codes (not another song's), and the held-out conditioning gain
the trainer logs must be clearly positive (a disconnected condition gives exactly 0)."""

from __future__ import annotations

import csv
import math

import pytest
import torch

from tokensep_core import STEMS
from tokensep_core.config import ComponentConfig
from tokensep_core.data.base import SegmentDataset
from tokensep_core.plugins import load_registry
from tokensep_core.registry import Provider
from tokensep_core.separation.separator import InferenceConfig
from tokensep_core.separation.training import build_separator_training
from tokensep_core.training import TrainerConfig, train

RATE, HOP, FRAMES, TONES, SONGS, STEPS = 16000, 320, 4, 4, 64, 150


class ToneSongs(SegmentDataset):
    """Song i: stem s is a sine at ``50 * (3 + 4 * (4 * CHOICE[i, s] + s))`` Hz, a multiple of the
    debug codec's frame rate (50 Hz), so every frame holds the same samples and a stem's codes
    are one pattern per tone."""

    Config = ComponentConfig
    stems, sample_rate, channels = STEMS, RATE, 1
    CHOICE = torch.randint(TONES, (SONGS, len(STEMS)), generator=torch.Generator().manual_seed(0))

    def __init__(self, config: ComponentConfig) -> None:
        pass

    def __len__(self) -> int:
        return SONGS

    def name(self, index: int) -> str:
        return f"tones_{index}"

    def num_samples(self, index: int) -> int:
        return FRAMES * HOP

    def read_stem(self, index: int, stem: str, start: int, length: int) -> torch.Tensor:
        s = self.stems.index(stem)
        hz = 50 * (3 + 4 * (TONES * int(self.CHOICE[index, s]) + s))
        return 0.2 * torch.sin(2 * math.pi * hz * torch.arange(start, start + length) / RATE)[None]


SECTIONS = {
    "model": {
        "codec": {"name": "debug"},
        "encoder": {"name": "debug", "params": {"n_mels": 64}},
        "lm": {"name": "llama", "params": {"preset": "tiny"}},
    },
    "data": {"name": "tone_songs"},
    "augment": {"seconds": FRAMES * HOP / RATE, "examples_per_epoch": 64, "remix_probability": 0.0, "gain_db": [0.0, 0.0]},
    "loss": {"label_smoothing": 0.0, "condition_dropout": 0.1},
    "validation": {"data": {"name": "tone_songs"}, "items": 8, "batch_size": 8},
}


@pytest.fixture(scope="module")
def registry():
    found = load_registry()
    found.add("dataset", "tone_songs", ToneSongs, provider=Provider("tests", "0"))
    return found


@pytest.fixture(scope="module")
def trained(registry, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("gain")
    task, examples = build_separator_training({k: dict(v) for k, v in SECTIONS.items()}, "gain.yaml", registry)
    config = TrainerConfig(
        steps=STEPS, batch_size=8, lr=3e-3, warmup_steps=10, log_every=25, eval_every=75, checkpoint_every=0, device="cpu"
    )
    result = train(task, config, run_dir, examples)
    return task, run_dir, result


@pytest.mark.slow
def test_generated_codes_follow_their_own_mixture(trained):
    task, _, _ = trained
    pipeline, items = task.pipeline, task.held_out
    for module in pipeline.modules().values():
        module.eval()
    with torch.no_grad():
        codes, prefix, mask = task.encode({"mixture": items.mixture, "stems": items.stems}, items.sample_rate)
        lm = pipeline.lm
        out = lm.family.generate(lm, pipeline.token_layout, prefix, FRAMES, mask, InferenceConfig(sampling={"greedy": True}), STEMS, 0)
    generated = torch.stack([out[s] for s in STEMS], 1)  # [B, S, K, T]
    reference = torch.stack([codes[s] for s in STEMS], 1)
    own = (generated == reference).float().mean().item()
    other = (generated == reference.roll(1, 0)).float().mean().item()  # the next song's codes
    assert own > 0.75 and own > other + 0.25, (own, other)


@pytest.mark.slow
def test_the_logged_gain_is_clearly_positive_and_the_probe_measures_it_again(trained, registry):
    from tokensep_core.cli.eval_conditioning_cmd import measure_conditioning

    _, run_dir, result = trained
    with (run_dir / "metrics.csv").open() as f:
        rows = [row for row in csv.DictReader(f) if row["eval/ce_true"]]
    assert [int(row["step"]) for row in rows] == [75, 150]
    last = {k.removeprefix("eval/"): float(v) for k, v in rows[-1].items() if k.startswith("eval/")}
    # ceiling: each stem's first code carries log(4) nats over its 2 x 4 codes, ~0.17 nats/token
    assert last["gain_null"] > 0.05 and last["gain_shuffled"] > 0.05, last
    assert last["gain_null"] == pytest.approx(last["ce_null"] - last["ce_true"])
    assert result.metrics["eval/gain_shuffled"] == last["gain_shuffled"]
    again = measure_conditioning(run_dir, ToneSongs(ComponentConfig()), items=8, batch_size=8, device="cpu", registry=registry)
    assert again == pytest.approx(last, abs=1e-5)


@pytest.mark.slow
def test_per_stem_gains_split_the_whole_and_every_stem_reads_its_tone_from_the_mixture(trained, registry):
    from tokensep_core.cli.eval_conditioning_cmd import measure_conditioning

    _, run_dir, _ = trained
    scores = measure_conditioning(
        run_dir, ToneSongs(ComponentConfig()), items=8, batch_size=8, device="cpu", registry=registry, per_stem=True
    )
    assert list(scores) == ["all", *STEMS]
    assert scores["all"] == pytest.approx(measure_conditioning(run_dir, ToneSongs(ComponentConfig()), 8, device="cpu", registry=registry))
    for name in ("ce_true", "ce_null", "ce_shuffled"):  # every stem has as many tokens: the whole is their mean
        assert scores["all"][name] == pytest.approx(sum(scores[s][name] for s in STEMS) / len(STEMS), abs=1e-5)
    for stem in STEMS:  # each stem's tone is named only by the mixture
        assert scores[stem]["gain_shuffled"] > 0.05, (stem, scores[stem])
    assert len({round(scores[s]["ce_true"], 4) for s in STEMS}) > 1  # each scope is its own stem's


def test_held_out_items_are_fixed_crops_of_successive_songs_in_batches_of_two_or_more():
    from tokensep_core.separation.conditioning import held_out_items

    songs = ToneSongs(ComponentConfig())
    items = held_out_items(songs, STEMS, FRAMES * HOP / RATE, 9, seed=1)
    assert items.stems.shape == (9, 4, 1, FRAMES * HOP) and items.sample_rate == RATE
    assert torch.equal(items.stems[3, 2], songs.read_stem(3, "bass", 0, FRAMES * HOP))
    assert torch.allclose(items.mixture, items.stems.sum(1))
    assert [len(b["mixture"]) for b in items.batches(4)] == [4, 5]  # a last lone item joins the batch before
