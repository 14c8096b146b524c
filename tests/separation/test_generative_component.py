"""The trained generative separator is a registered ``separator`` like the baselines, and
evaluation treats it through the Separator interface (stochastic, set_seed), not by its type."""

from __future__ import annotations

import pytest
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.evaluation import evaluate
from tokensep_core.evaluation.plan import MetricSpec, build_metrics
from tokensep_core.evaluation.tables import write_evaluation
from tokensep_core.interfaces import Song
from tokensep_core.plugins import load_registry
from tokensep_core.separation.separator import GenerativeSeparator
from tokensep_core.tokens.health import code_histogram

INFERENCE = {"segment_seconds": 0.25, "sampling": {"temperature": 1.5}}


def test_the_registry_loads_a_trained_separator_with_inference_overrides(tiny_run) -> None:
    run_dir, _ = tiny_run
    registry = load_registry(autoload=False)
    params = {"checkpoint": str(run_dir), "device": "cpu", "inference": INFERENCE}
    separator = registry.build("separator", {"name": "generative", "params": params})
    direct = GenerativeSeparator.from_pretrained(run_dir, device="cpu")
    direct.update_inference(INFERENCE)
    assert separator.inference == direct.inference and separator.inference.sampling.temperature == 1.5
    assert separator.inference.batch_size == 8, "settings the overrides leave alone come from the checkpoint"
    mixture = 0.1 * torch.randn(2, 8000, generator=torch.Generator().manual_seed(0))
    ours, theirs = separator.separate(mixture, 16000), direct.separate(mixture, 16000)
    assert all(torch.equal(ours[stem], theirs[stem]) for stem in theirs)
    with pytest.raises(ConfigError, match=r"separator 'generative' \(.*\): passes does not apply"):
        registry.build("separator", {"name": "generative", "params": {**params, "inference": {"passes": [2]}}})


def test_evaluation_seeds_a_stochastic_separator_and_runs_a_deterministic_one_once(tiny_run) -> None:
    run_dir, _ = tiny_run
    registry = load_registry(autoload=False)
    generative = registry.build("separator", {"name": "generative", "params": {"checkpoint": str(run_dir), "device": "cpu"}})
    copy = registry.build("separator", "mixture_copy")
    assert generative.stochastic and not copy.stochastic
    stems = {stem: 0.05 * torch.randn(2, 4000, generator=torch.Generator().manual_seed(i)) for i, stem in enumerate(generative.stems)}
    song = Song("song", 16000, sum(stems.values()), stems)
    metrics = build_metrics(registry, [MetricSpec(name="si_sdr")])
    assert [r.seed for r in evaluate(generative, [song], metrics, seeds=(3, 4)).songs] == [3, 4]
    assert generative.inference.seed == 4, "the sampler was seeded with each evaluation seed"
    assert [r.seed for r in evaluate(copy, [song], metrics, seeds=(3, 4)).songs] == [3]


def test_evaluation_reports_generated_codes_beside_the_reference_codes(tiny_run, tmp_path) -> None:
    registry = load_registry(autoload=False)
    generative = registry.build("separator", {"name": "generative", "params": {"checkpoint": str(tiny_run[0]), "device": "cpu"}})
    songs = []
    for n in range(2):
        stems = {
            stem: 0.05 * torch.randn(2, 4000, generator=torch.Generator().manual_seed(10 * n + i))
            for i, stem in enumerate(generative.stems)
        }
        songs.append(Song(f"song{n}", 16000, sum(stems.values()), stems))
    codec = generative.pipeline.codec
    evaluation = evaluate(generative, songs, build_metrics(registry, [MetricSpec(name="si_sdr")]))
    assert set(evaluation.codes) == set(generative.stems)
    for health in evaluation.codes.values():
        generated, reference = health["generated"], health["reference"]
        assert len(generated) == len(reference) == codec.num_codebooks
        # every frame of both channels of both songs is counted once: a perplexity of at least 1 and ids within the codebook
        assert all(1 <= h["used"] <= codec.codebook_size and h["perplexity"] >= 1 for h in generated + reference)
    # the reference ids are the codec's own encoding of the stems
    items = songs[0].stems["bass"].unsqueeze(1)
    expected = code_histogram(codec.encode(items), codec.codebook_size)
    items = songs[1].stems["bass"].unsqueeze(1)
    expected = expected + code_histogram(codec.encode(items), codec.codebook_size)
    assert [h["used"] for h in evaluation.codes["bass"]["reference"]] == (expected > 0).sum(dim=1).tolist()
    summary = write_evaluation(evaluation, tmp_path)["summary.md"].read_text()
    assert "## Codes" in summary and "reference perplexity" in summary
