"""``tokensep eval codec``: bitrate, codebook statistics, and the command on a tiny trained codec."""

import csv
import json
import math
import re
import shlex
import sys

import pytest
import torch

from tokensep_codecs.evaluation import bitrate_kbps
from tokensep_codecs.hcodec import HCodec, HCodecConfig
from tokensep_core.cli.main import main
from tokensep_core.plugins import load_registry


def test_bitrate_is_frame_rate_times_bits_per_frame_per_channel():
    mono = HCodec(HCodecConfig(preset="tiny"))  # 100 Hz, 2 + 2 codebooks x 64 (6 bits)
    assert bitrate_kbps(mono) == pytest.approx(100 * 4 * 6 / 1000)
    stereo = HCodec(HCodecConfig(preset="tiny", channels=2))  # twice the codebooks for two channels
    assert stereo.num_codebooks == 8 and bitrate_kbps(stereo) == pytest.approx(2.4)
    dac = load_registry().build(
        "codec",
        {
            "name": "dac",
            "params": {
                "sample_rate": 16000,
                "encoder_dim": 4,
                "encoder_rates": [2, 4, 5, 8],
                "decoder_dim": 64,
                "decoder_rates": [8, 5, 4, 2],
                "n_codebooks": 3,
                "codebook_size": 1024,
            },
        },
    )
    assert bitrate_kbps(dac) == pytest.approx(50 * 3 * 10 / 1000)


def _summary(out):
    with (out / "summary.csv").open() as f:
        return {row["stem"]: row for row in csv.DictReader(f)}


@pytest.mark.slow
def test_eval_codec_on_a_checkpoint_and_untrained(tiny_codec_run, tiny_songs, tmp_path, capsys, monkeypatch):
    out = tmp_path / "trained"
    argv = ["eval", "codec", str(tiny_codec_run), str(tiny_songs), "-o", str(out), "--seconds", "1.25", "--stems", "drums", "bass"]
    assert main(argv) == 0
    assert "| drums |" in capsys.readouterr().out
    summary = _summary(out)
    assert list(summary) == ["drums", "bass", "all"]
    for row in summary.values():
        for key in ("si_sdr", "mel_distance", "visqol", "usage", "perplexity", "encode_rtf", "decode_rtf"):
            assert math.isfinite(float(row[key])), key
        assert float(row["bitrate_kbps"]) == pytest.approx(2.4)
        assert 0 < float(row["usage"]) <= 1 and 1 <= float(row["perplexity"]) <= 64
    results = json.loads((out / "results.json").read_text())
    checkpoint = tiny_codec_run / "checkpoints" / "step_00000002"
    sums = json.loads((checkpoint / "checksums.json").read_text())["sha256"]
    assert results["codec"]["weights_sha256"] == sums["codec.safetensors"]
    assert [(r["song"], r["stem"]) for r in results["results"]] == [("synth_00002", "drums"), ("synth_00002", "bass")]
    assert results["results"][0]["audio_seconds"] == pytest.approx(1.25)  # --seconds, at the codec's 16 kHz
    assert len(results["codebooks"]) == 4
    assert (out / "codebooks.csv").read_text().startswith("codebook,usage,perplexity")

    untrained = tmp_path / "untrained"
    spec = json.dumps({"name": "hcodec", "params": {"preset": "tiny"}})
    argv = [
        "eval",
        "codec",
        "untrained",
        str(tiny_songs),
        "--codec-spec",
        spec,
        "-o",
        str(untrained),
        "--seconds",
        "1.25",
        "--stems",
        "drums",
        "--metrics",
        "si_sdr",
    ]
    monkeypatch.setattr(sys, "argv", ["/venv/bin/tokensep", *argv])  # as the console script sees it
    assert main(argv) == 0
    data = json.loads((untrained / "results.json").read_text())
    assert data["command"] == "tokensep " + shlex.join(argv) and data["code_version"] != ""
    assert f"- Command: {data['command']}\n- Code: tokensep {data['code_version']}\n" in (untrained / "summary.md").read_text()
    assert data["codec"]["checkpoint"] is None and data["label"] == "hcodec (untrained)"
    # two steps of training already change the reconstruction
    assert data["summary"]["drums"]["si_sdr"] != results["summary"]["drums"]["si_sdr"]


def test_user_errors_are_one_line(tiny_songs, tmp_path, capsys):
    assert main(["eval", "codec", "untrained", str(tiny_songs), "-o", str(tmp_path)]) == 1
    assert "needs --codec-spec" in capsys.readouterr().err
    assert main(["eval", "codec", str(tmp_path), str(tiny_songs), "-o", str(tmp_path / "o")]) == 1
    assert "no complete checkpoint" in capsys.readouterr().err
    assert main(["eval", "codec", "untrained", str(tiny_songs), "--codec-spec", "{bad", "-o", str(tmp_path)]) == 1
    assert "not valid JSON" in capsys.readouterr().err


def test_codec_scores_aggregate_by_each_metrics_rule():
    """The codec summary uses the core rule: cSDR the median over songs, the others the mean."""
    from tokensep_codecs.evaluation import ALL, CodecEvaluation, StemResult

    results = [StemResult(f"s{i}", "bass", 1.0, 0.1, 0.2, {"csdr": v, "si_sdr": v}) for i, v in enumerate([1.0, 2.0, 10.0])]
    evaluation = CodecEvaluation("x", {"bitrate_kbps": 1.0}, ["csdr", "si_sdr"], results, {"bass": torch.ones(2, 4, dtype=torch.int64)})
    summary = evaluation.summary()
    assert summary["bass"]["csdr"] == summary[ALL]["csdr"] == 2.0
    assert summary["bass"]["si_sdr"] == pytest.approx(13 / 3)


def test_codec_evaluation_is_the_core_evaluation_of_the_codec_oracle(tiny_songs):
    """Scores come from the core evaluate(); codes are counted over the valid frames only."""
    from tokensep_codecs.evaluation import evaluate_codec
    from tokensep_codecs.inference import load_codec
    from tokensep_core.config import ComponentSpec
    from tokensep_core.evaluation import MetricSpec, build_metrics

    registry = load_registry()
    torch.manual_seed(0)
    loaded = load_codec(registry, spec=ComponentSpec(name="debug", params={"sample_rate": 8000, "hop_length": 160}))
    dataset = registry.build("dataset", {"name": "musdb", "params": {"root": str(tiny_songs), "split": "all", "sample_rate": 16000}})
    songs = [dataset[i] for i in range(2)]
    metrics = build_metrics(registry, [MetricSpec(name="si_sdr")])
    evaluation = evaluate_codec(loaded, songs, metrics, ["drums", "bass"], seconds=1.0, segment_seconds=0.3)
    assert [(r.song, r.stem) for r in evaluation.results] == [(s.name, stem) for s in songs for stem in ("drums", "bass")]
    frames = 8000 // 160  # 1 s at the codec's 8 kHz (segments of 15 frames, the last one short): no padding codes counted
    channels = songs[0].mixture.shape[0]  # the mono codec codes each channel as an item
    assert int(evaluation.histograms["drums"].sum()) == 2 * channels * frames * loaded.codec.num_codebooks
    values = [r.scores["si_sdr"] for r in evaluation.results if r.stem == "drums"]
    assert all(math.isfinite(v) for v in values)
    assert evaluation.summary()["drums"]["si_sdr"] == pytest.approx(sum(values) / 2)


def test_a_silent_reference_is_not_scored():
    from tokensep_codecs.evaluation import evaluate_codec
    from tokensep_codecs.inference import load_codec
    from tokensep_core.config import ComponentSpec
    from tokensep_core.evaluation import MetricSpec, build_metrics
    from tokensep_core.interfaces import Song

    registry = load_registry()
    torch.manual_seed(0)
    loaded = load_codec(registry, spec=ComponentSpec(name="debug"))
    loud = 0.1 * torch.randn(1, 3200, generator=torch.Generator().manual_seed(1))
    song = Song("s", 16000, loud, {"bass": loud, "vocals": torch.zeros(1, 3200)})
    evaluation = evaluate_codec(loaded, [song], build_metrics(registry, [MetricSpec(name="si_sdr")]), ["bass", "vocals"])
    scores = {r.stem: r.scores["si_sdr"] for r in evaluation.results}
    assert math.isfinite(scores["bass"]) and math.isnan(scores["vocals"])
    assert evaluation.issues == ["s / vocals: silent reference, not scored"]
    assert evaluation.summary()["all"]["si_sdr"] == pytest.approx(scores["bass"])


def test_a_degenerate_codebook_is_flagged_in_the_tables_and_results(tmp_path):
    """Codebook 0 always emits one id (as the shipped model's acoustic codebooks did); codebook 1 uses 4 ids evenly."""
    from tokensep_codecs.evaluation import CodecEvaluation, StemResult, to_markdown, write_codec_evaluation

    hist = torch.tensor([[40, 0, 0, 0, 0, 0, 0, 0], [10, 10, 10, 10, 0, 0, 0, 0]])
    codec = {"spec": {"name": "x"}, "sample_rate": 16000, "frame_rate": 50.0, "num_codebooks": 2, "codebook_size": 8}
    evaluation = CodecEvaluation("x", {**codec, "checkpoint": "ckpt", "bitrate_kbps": 1.0}, ["si_sdr"])
    evaluation.results = [StemResult("s", "bass", 1.0, 0.1, 0.1, {"si_sdr": 1.0})]
    evaluation.histograms = {"bass": hist}
    books = evaluation.codebooks()
    assert [(b["used"], b["dead"], b["degenerate"]) for b in books] == [(1, 7, True), (4, 4, False)]
    assert books[1]["perplexity"] == pytest.approx(4.0)
    markdown = to_markdown(evaluation)
    assert "**WARNING: DEGENERATE CODES: codebook 0 (perplexity 1.00, 1 id used)" in markdown
    assert "| 0 | 1 | 7 | 1.00 | DEGENERATE |" in markdown and "| 1 | 4 | 4 | 4.00 | ok |" in markdown
    paths = write_codec_evaluation(evaluation, tmp_path)
    results = json.loads(paths["results.json"].read_text())
    assert results["degenerate_codebooks"] == [0] and "codebook 0" in results["degenerate_warning"]
    assert paths["codebooks.csv"].read_text().splitlines()[1] == "0,0.125,1.0,1,7,True"

    evaluation.histograms = {"bass": hist[1:]}
    assert "WARNING" not in to_markdown(evaluation) and evaluation.to_dict()["degenerate_warning"] is None


def test_the_summary_records_its_provenance(tmp_path):
    """summary.md ends with the command, code version (git commit) and the machine the times were
    measured on (threads, device); results.json records the same."""
    from tokensep_codecs.evaluation import CodecEvaluation, StemResult, write_codec_evaluation
    from tokensep_core.code_version import code_version
    from tokensep_core.evaluation.machine import describe_machine, machine_line

    codec = {"spec": {"name": "x"}, "sample_rate": 16000, "frame_rate": 50.0, "num_codebooks": 1, "codebook_size": 8}
    evaluation = CodecEvaluation("x", {**codec, "checkpoint": "ckpt", "bitrate_kbps": 1.0}, ["si_sdr"], machine=describe_machine())
    evaluation.results = [StemResult("s", "bass", 1.0, 0.1, 0.1, {"si_sdr": 1.0})]
    evaluation.histograms = {"bass": torch.tensor([[10, 10, 10, 10, 0, 0, 0, 0]])}
    command = "tokensep eval codec ckpt data -o out"
    paths = write_codec_evaluation(evaluation, tmp_path, command)
    results = json.loads(paths["results.json"].read_text())
    version = code_version()
    assert results["code_version"] == version and results["command"] == command and results["machine"]["threads"] == 1
    assert re.fullmatch("[0-9a-f]{40}(-dirty)?", version)  # the commit of this checkout
    block = paths["summary.md"].read_text().split("\n## Provenance\n\n")[1]
    assert block == f"- Command: {command}\n- Code: tokensep {version}\n- Machine: {machine_line(evaluation.machine)}\n"
    assert ", 1 thread, device cpu" in block  # the conftest runs codec tests on one thread
    paths = write_codec_evaluation(evaluation, tmp_path)  # not run as `tokensep` (python -m, a library call)
    assert "- Command: not recorded (not run as `tokensep`)\n" in paths["summary.md"].read_text()
