"""``tokensep bench benchmarks/smoke.yaml`` end to end (plus one deliberately broken row): two
seeds, the declared comparisons and the provenance block; then a re-run that only re-tries the
broken row."""

import json
import re
from pathlib import Path

import pytest
import torch
import yaml

from tokensep_core.cli.main import main

SMOKE = Path(__file__).resolve().parents[2] / "benchmarks" / "smoke.yaml"


@pytest.mark.slow
def test_smoke_grid_reports_every_row_and_resumes(tmp_path, capsys) -> None:
    grid = yaml.safe_load(SMOKE.read_text())
    grid["baselines"].append(
        {"name": "broken_codec", "separator": {"name": "codec_oracle", "params": {"codec": {"name": "no_such_codec"}}}}
    )
    path = tmp_path / "smoke.yaml"
    path.write_text(yaml.safe_dump(grid))
    out = tmp_path / "out"

    assert main(["bench", str(path), "-o", str(out)]) == 1  # a failed row makes the exit code non-zero
    printed = capsys.readouterr().out
    assert "4 rows run" not in printed and "1 failed" in printed
    markdown = (out / "results.md").read_text()
    for row in ("silence", "mixture_copy", "oracle", "codec_oracle"):
        assert f"| {row} | " in markdown and (out / "rows" / row / "result.json").is_file()
    for row in ("sequential", "independent"):  # trained once per seed
        assert [p.parent.name for p in sorted((out / "rows" / row).glob("seed_*/result.json"))] == ["seed_0", "seed_1"]
        assert f"| {row} | generative | ok | 10 |" in markdown and f"| {row} | 2 | cpu |" in markdown
    assert "| broken_codec | separator | failed | – | – | – | – | – | – | unknown codec 'no_such_codec'" in markdown
    comparisons = markdown.split("## Comparisons")[1].split("## Controls")[0]
    assert comparisons.count("| sequential | independent | ") == comparisons.count("| sequential | mixture_copy | ") == 13
    usdr, csdr = markdown.split("## usdr ↑")[1].split("## onset_f ↑")[0].split("## csdr ↑")
    assert "| silence | " + "0.00 [0.00, 0.00] | " * 4 + "0.00 | – |" in usdr  # the floor: 0 dB on every stem
    assert "| silence | – | – | – | – | – | – |" in csdr  # BSSEval skips windows with a silent estimate
    comparison_plots = [f"compare_{c['a']}_vs_{c['b']}.png" for c in grid["comparisons"]]
    assert sorted(p.name for p in (out / "plots").iterdir()) == sorted(
        [f"{m}{suffix}.png" for m in ("si_sdr", "usdr", "csdr", "onset_f") for suffix in ("", "_vs_rtf")] + comparison_plots
    )
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 8 + len(comparison_plots) and "broken_codec" in page
    header = next(line for line in markdown.splitlines() if line.startswith("| row | kind |")).split(" | ")
    sequential = next(line for line in markdown.splitlines() if line.startswith("| sequential | generative | ok |")).split(" | ")
    assert 0 < float(sequential[header.index("CPU share")]) < 1.5  # CPU time over wall time x threads: about 1
    # the provenance block: the exact command, the code version (git commit), the machine with its threads, the seeds
    provenance = markdown.split("\n## Provenance\n\n")[1]
    assert f"- Command: tokensep bench {path} -o {out}\n" in provenance
    version = json.loads((out / "results.json").read_text())["provenance"]["code_version"]
    assert re.fullmatch("[0-9a-f]{40}(-dirty)?", version) and f"- Code: tokensep {version}\n" in provenance  # a git commit
    threads = torch.get_num_threads()
    machine = re.search("^- Machine: (.+)$", provenance, re.MULTILINE).group(1)
    assert f", torch {torch.__version__}, {threads} thread{'s' if threads != 1 else ''}, device " in machine
    assert "- Seeds: 0, 1 (each trained row trains once per seed)\n" in provenance

    stamp = (out / "rows" / "sequential" / "seed_1" / "result.json").stat().st_mtime_ns
    assert main(["bench", str(path), "-o", str(out)]) == 1
    assert "1 rows run, 6 already done, 1 failed" in capsys.readouterr().out
    assert (out / "rows" / "sequential" / "seed_1" / "result.json").stat().st_mtime_ns == stamp
    assert "| oracle | inf [inf, inf] |" in (out / "results.md").read_text()  # the oracle's cSDR survives the JSON round trip

    # --report-only runs nothing, not even the failed row, and reports it as it was stored
    before = (out / "results.md").read_text()
    assert main(["bench", str(path), "-o", str(out), "--report-only"]) == 1
    assert "0 rows run, 7 already done, 1 failed" in capsys.readouterr().out
    after = (out / "results.md").read_text()
    assert "| broken_codec | separator | failed |" in after and f"- Command: tokensep bench {path} -o {out} --report-only\n" in after
    assert before.split("## Provenance")[0].replace(" --report-only", "") == after.split("## Provenance")[0].replace(" --report-only", "")
    assert main(["bench", str(path), "-o", str(out), "--report-only", "--rows", "oracle"]) != 0
    assert "--report-only runs no row, so --rows cannot apply" in capsys.readouterr().err
