import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tokensep_core import __version__
from tokensep_core.cli.main import main


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"tokensep {__version__}"


def test_plugins_lists_builtin_components_with_provider(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    assert "codec:" in out and "encoder:" in out and "lm:" in out
    assert any(line.split()[:2] == ["debug", "tokensep"] for line in out.splitlines())


def test_plugins_schema_is_the_config_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--schema", "codec", "debug"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["additionalProperties"] is False and "hop_length" in schema["properties"]


def test_unknown_component_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plugins", "--schema", "codec", "debgu"]) == 1
    err = capsys.readouterr().err
    assert err.strip() == "tokensep: error: unknown codec 'debgu'; known codecs: " + err.split("known codecs: ")[1].strip()
    assert err.count("\n") == 1


STEM_LINE = ("vocals", "drums", "bass", "other")


def test_demo_scores_a_trained_model_against_mixture_copy_and_the_mismatched_control(tiny_run, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "-n", str(tiny_run[0]), "--songs", "2", "--seconds", "1"]) == 0
    out = capsys.readouterr().out
    scores, controls = out.split("input dependence  ")[0], out.split("input dependence  ")[1]
    rows = [line.split() for line in scores.splitlines() if line.startswith(STEM_LINE)]
    labels = ["tokensep", "tokensep (mismatched)", "tokensep (no mixture)", "mixture copy"]
    assert [" ".join(row[1:-2]) for row in rows[:4]] == labels, out
    assert len(rows) == 16 and all(len(row) in (4, 5, 6) for row in rows)
    assert all(float(row[-1]) == float(row[-1]) for row in rows)  # numbers, not placeholders
    verdict_rows = [line.split(maxsplit=2) for line in controls.splitlines() if line.startswith(STEM_LINE)]
    assert [row[0] for row in verdict_rows] == list(STEM_LINE), out
    for row in verdict_rows:  # one verdict against the mismatched control, one against the no-mixture ablation
        texts = re.split(r"\s{2,}", row[2].strip())
        assert len(texts) == 2 and all(t == "uses the mixture" or t.startswith("does not use the mixture (") for t in texts), row
    assert all(float(row[1]) >= 0 for row in verdict_rows)


def test_demo_with_one_song_says_the_controls_need_two(tiny_run, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "-n", str(tiny_run[0]), "--songs", "1", "--seconds", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines() if line.startswith(STEM_LINE)]
    assert len(rows) == 12 and all(len(row) in (4, 5, 6) for row in rows), out
    assert [" ".join(row[1:-2]) for row in rows[:3]] == ["tokensep", "tokensep (no mixture)", "mixture copy"], out
    assert "controls not computed: the mismatched-reference control needs at least 2 songs (got 1)." in out


def test_demo_without_a_model_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "-n", str(tmp_path / "none")]) == 1
    assert (
        capsys.readouterr().err.strip()
        == f"tokensep: error: {tmp_path / 'none'}: no such model; train one with benchmarks/separator_small/run.sh or pass -n"
    )


def test_train_config_typo_exits_nonzero(tmp_path: Path) -> None:
    config = tmp_path / "exp.yaml"
    config.write_text(
        "model:\n  codec: {name: debug}\n  encoder: {name: debug}\n  lm: {name: debug, params: {layer: 2}}\n"
        "data: {name: synthetic}\naugment: {seconds: 1}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "tokensep_core.cli.main", "train", "separator", str(config), "--run-dir", str(tmp_path / "run")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"tokensep: error: {config}: lm 'debug': field 'layer': unknown field"
    assert not (tmp_path / "run").exists(), "a bad config must not leave a run directory behind"
