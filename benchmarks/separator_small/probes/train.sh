#!/usr/bin/env bash
# Train (or resume) probe NAME (probes/NAME.yaml) into runs/probes/NAME, after run.sh's data, codec
# and token stages (a probe reads runs/tokens and runs/valid). Each call resumes from the last
# checkpoint (every 200 steps), so a probe can span sessions. Threads: OMP_NUM_THREADS.
# Usage: bash benchmarks/separator_small/probes/train.sh long|mel1024
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: probes/train.sh NAME (a probes/NAME.yaml)}
[ -f "probes/$name.yaml" ] || { echo "probes/train.sh: no probes/$name.yaml" >&2; exit 2; }
mkdir -p runs/probes
${TOKENSEP:-../../.venv/bin/tokensep} train separator "probes/$name.yaml" --run-dir "runs/probes/$name"
