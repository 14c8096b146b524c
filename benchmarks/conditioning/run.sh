#!/usr/bin/env bash
# Conditioning grid (issue #16): prefix (the paper) vs frame-aligned vs both, on separator-small's
# codec, cached tokens and validation songs (run benchmarks/separator_small/run.sh up to its
# tokenize stage first). Each mode trains 10 minutes on one torch thread (the same compute on
# this machine, one after the other), then is scored on the 8 validation songs with the
# mismatched control; report.py prints the conditioning gain and the controls per mode.
set -euo pipefail
cd "$(dirname "$0")/../.."
T=.venv/bin/tokensep
OUT=${OUT:-runs/grid}
mkdir -p "$OUT"
for mode in prefix frame both; do
  OMP_NUM_THREADS=1 $T train separator "benchmarks/conditioning/$mode.yaml" --run-dir "$OUT/$mode"
  [ -f "$OUT/eval-$mode/results.json" ] || OMP_NUM_THREADS=1 $T eval separator "$OUT/$mode" benchmarks/separator_small/runs/valid \
    -o "$OUT/eval-$mode" --metrics mel_distance --no-stems
done
.venv/bin/python benchmarks/conditioning/report.py "$OUT/prefix" "$OUT/frame" "$OUT/both"
