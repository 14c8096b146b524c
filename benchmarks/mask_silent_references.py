"""Re-score a grid's stored results as the evaluation scores now: no metric against a silent
reference (a stem absent from the song), in a song's own scores or in the mismatched control.

Results stored before the evaluation skipped silent references kept ViSQOL's 4.73 (its maximum,
whatever the estimate) and SI-SDR's -100 dB there. This rewrites each finished run's
``result.json`` under OUT/rows (atomically; a second pass changes nothing); run ``tokensep bench
GRID -o OUT`` afterwards to write the report again from them.

Usage: python benchmarks/mask_silent_references.py GRID OUT
"""

from __future__ import annotations

import sys
from pathlib import Path

from tqdm import tqdm

from tokensep_core.bench.grid import load_grid
from tokensep_core.bench.runner import RESULT, prepare_data, stored_result
from tokensep_core.evaluation import Evaluation
from tokensep_core.evaluation.tables import write_json
from tokensep_core.metrics.common import is_silent
from tokensep_core.plugins import load_plugins


def silent_references(grid_path: Path, out: Path) -> set[tuple[str, str]]:
    """``(song, stem)`` of every silent reference among the grid's test songs."""
    registry = load_plugins().registry
    _, test_spec, _ = prepare_data(load_grid(grid_path), out, registry)
    test = registry.build("dataset", test_spec, source=f"{grid_path}: data.test")
    silent = set()
    for index in tqdm(range(len(test)), desc="references", unit="song", leave=False):
        song = test[index]
        silent |= {(song.name, stem) for stem, wav in song.stems.items() if is_silent(wav)}
    return silent


def main(grid_path: Path, out: Path) -> None:
    silent = silent_references(grid_path, out)
    print(f"{len(silent)} silent references: " + ", ".join(f"{song} / {stem}" for song, stem in sorted(silent)))
    for path in sorted(out.glob(f"rows/*/{RESULT}")) + sorted(out.glob(f"rows/*/seed_*/{RESULT}")):
        result = stored_result(path.parent)
        if result is None or result.get("status") != "ok" or not result.get("evaluation"):
            continue
        evaluation = Evaluation.from_dict(result["evaluation"])
        masked = evaluation.mask_silent_references(silent)
        if masked:
            write_json(path, {**result, "evaluation": evaluation.to_dict()})
        print(f"{path.relative_to(out)}: {masked} scores masked")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-1])
    main(Path(sys.argv[1]), Path(sys.argv[2]))
