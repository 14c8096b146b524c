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
METRICS=mel_distance,si_sdr,visqol
CODEC=$(../../.venv/bin/python -c "import json, yaml; print(json.dumps({'codec': yaml.safe_load(open('codec.yaml'))['codec'], 'checkpoint': 'runs/codec', 'segment_seconds': 2.0}))")
$TOKENSEP eval separator runs/separator runs/data -o runs/eval/tokensep --metrics $METRICS --no-stems
$TOKENSEP eval separator mixture_copy runs/data -o runs/eval/mixture_copy --metrics $METRICS --no-stems
$TOKENSEP eval separator codec_oracle runs/data -o runs/eval/codec_oracle --params "$CODEC" --metrics $METRICS --no-stems
../../.venv/bin/python report.py
$TOKENSEP export runs/separator ../../pretrained/separator-small --dtype float16
