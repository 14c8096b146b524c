#!/usr/bin/env bash
# Prefix vs frame-aligned conditioning at the same wall-clock budget (8 minutes each, one torch
# thread each, run side by side on a 2-core CPU). Prints the held-out conditioning gain per eval.
set -euo pipefail
cd "$(dirname "$0")/../.."
T=.venv/bin/tokensep
[ -d runs/conditioning/data ] || $T data synth runs/conditioning/data --songs 40 --seconds 8 --sample-rate 16000 --seed 1
[ -d runs/conditioning/heldout ] || $T data synth runs/conditioning/heldout --songs 8 --seconds 6 --sample-rate 16000 --seed 777
for mode in prefix frame; do
  OMP_NUM_THREADS=1 $T train separator benchmarks/conditioning/$mode.yaml --run-dir runs/conditioning/$mode > runs/conditioning/$mode.log 2>&1 &
done
wait
.venv/bin/python benchmarks/conditioning/report.py runs/conditioning/prefix runs/conditioning/frame
