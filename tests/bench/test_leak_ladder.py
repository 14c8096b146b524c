"""benchmarks/real/leak_ladder.py draws the leaky-oracle ladder of a committed grid and refuses
results without one."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "benchmarks" / "real" / "leak_ladder.py"
FALCON = ROOT / "benchmarks" / "real" / "results" / "falcon69-decoder" / "results.json"


def test_draws_the_ladder_of_the_falcon_grid(tmp_path) -> None:
    out = tmp_path / "ladder.png"
    done = subprocess.run([sys.executable, str(SCRIPT), str(FALCON), str(out)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_refuses_results_without_ladder_rows_or_with_an_unknown_row(tmp_path) -> None:
    data = json.loads(FALCON.read_text())
    without = tmp_path / "results.json"
    without.write_text(json.dumps({**data, "rows": [r for r in data["rows"] if not r["row"].startswith("oracle_leak")]}))
    done = subprocess.run([sys.executable, str(SCRIPT), str(without), str(tmp_path / "a.png")], capture_output=True, text=True)
    assert done.returncode == 1 and "no oracle_leakNN rows" in done.stderr and not (tmp_path / "a.png").exists()
    done = subprocess.run(
        [sys.executable, str(SCRIPT), str(FALCON), str(tmp_path / "b.png"), "--rows", "nope"], capture_output=True, text=True
    )
    assert done.returncode == 1 and "no finished row nope" in done.stderr and not (tmp_path / "b.png").exists()
