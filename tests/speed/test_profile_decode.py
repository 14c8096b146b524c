"""benchmarks/profile_decode.py runs on the paper LM in both modes and prints a profile table."""

import re
import sys

import pytest

from tests.conftest import REPO_ROOT, load_script

BENCHMARKS = REPO_ROOT / "benchmarks"


@pytest.fixture(scope="module")
def profile_decode():
    sys.path.insert(0, str(BENCHMARKS))  # --generate imports speed.py from beside it, as when run as a script
    try:
        yield load_script("benchmarks/profile_decode.py", "profile_decode_benchmark")
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.mark.slow  # builds the paper-size separator (~10 s, ~2 GB)
def test_decode_steps_and_a_whole_generation_are_profiled(profile_decode, capsys) -> None:
    profile_decode.main(["--batch", "1", "--prefix", "4", "--context", "2", "--steps", "2"])
    steps = capsys.readouterr().out
    assert float(re.search(r"([\d.]+) steps/s", steps).group(1)) > 0
    assert "scaled_dot_product" in steps and "Self CPU time total" in steps
    profile_decode.main(["--generate", "2", "--batch", "1", "--prefix", "4"])
    whole = capsys.readouterr().out
    assert whole.startswith("Command: `python benchmarks/profile_decode.py --generate 2 --batch 1 --prefix 4`")
    assert float(re.search(r"generate: ([\d.]+) s", whole).group(1)) > 0
    assert "top_k=50" in whole and "Self CPU time total" in whole
