#!/usr/bin/env bash
# The separator-small benchmark (issue 5): synthetic data -> codec -> separator -> evaluation on
# held-out songs against the mixture-copy and codec-oracle bounds. Outputs go to runs/ here;
# every stage resumes where it stopped. Usage: bash benchmarks/separator_small/run.sh
set -euo pipefail
cd "$(dirname "$0")"
TOKENSEP=${TOKENSEP:-../../.venv/bin/tokensep}
mkdir -p runs
$TOKENSEP data synth runs/data --songs 40 --seconds 8 --sample-rate 16000 --seed 2026 --test-fraction 0.2
$TOKENSEP train codec codec.yaml --run-dir runs/codec
$TOKENSEP train separator separator.yaml --run-dir runs/separator
