#!/usr/bin/env bash
# Train (or resume) separator_long.yaml into runs/separator_long after run.sh's data, codec and
# token stages (it reads runs/tokens and runs/valid). Each call resumes from the last checkpoint
# (every 200 steps). Threads: OMP_NUM_THREADS. Usage: bash benchmarks/separator_small/train_long.sh
set -euo pipefail
cd "$(dirname "$0")"
${TOKENSEP:-../../.venv/bin/tokensep} train separator separator_long.yaml --run-dir runs/separator_long
