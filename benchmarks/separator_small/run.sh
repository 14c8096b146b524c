#!/usr/bin/env bash
# The separator-small benchmark (issue 5): synthetic data -> codec -> separator -> inference
# settings chosen on validation songs -> evaluation on held-out test songs against the
# mixture-copy and codec-oracle bounds. Outputs go to runs/ here; every stage resumes where it
# stopped. Usage: bash benchmarks/separator_small/run.sh
set -euo pipefail
cd "$(dirname "$0")"
TOKENSEP=${TOKENSEP:-../../.venv/bin/tokensep}
PYTHON=${PYTHON:-../../.venv/bin/python}
mkdir -p runs
$TOKENSEP data synth runs/data --songs 40 --seconds 8 --sample-rate 16000 --seed 2026 --test-fraction 0.2
$TOKENSEP train codec codec.yaml --run-dir runs/codec
$TOKENSEP train separator separator.yaml --run-dir runs/separator
# Sampling settings are compared on 8 fresh validation songs (seed 4242), never on the test songs.
$TOKENSEP data synth runs/valid --songs 8 --seconds 8 --sample-rate 16000 --seed 4242 --test-fraction 1.0
SETTINGS=(
  't0.8:{}'
  't0.8-cfg3:{"sampling": {"cfg_scale": 3.0}}'
  't0.5:{"sampling": {"temperature": 0.5}}'
  't0.5-cfg3:{"sampling": {"temperature": 0.5, "cfg_scale": 3.0}}'
  't0.3:{"sampling": {"temperature": 0.3}}'
  't0.3-cfg3:{"sampling": {"temperature": 0.3, "cfg_scale": 3.0}}'
  'greedy:{"sampling": {"greedy": true}}'
)
for setting in "${SETTINGS[@]}"; do
  name=${setting%%:*}
  mkdir -p "runs/sweep/$name" && printf '%s\n' "${setting#*:}" > "runs/sweep/$name/params.json"
  $TOKENSEP eval separator runs/separator runs/valid -o "runs/sweep/$name" --metrics mel_distance --no-stems --params "${setting#*:}"
done
BEST=$($PYTHON report.py --best)
METRICS=mel_distance,si_sdr,visqol
CODEC=$($PYTHON -c "import json, yaml; print(json.dumps({'codec': yaml.safe_load(open('codec.yaml'))['codec'], 'checkpoint': 'runs/codec', 'segment_seconds': 2.0}))")
$TOKENSEP eval separator runs/separator runs/data -o runs/eval/tokensep --metrics $METRICS --no-stems --params "$BEST"
$TOKENSEP eval separator mixture_copy runs/data -o runs/eval/mixture_copy --metrics $METRICS --no-stems
$TOKENSEP eval separator codec_oracle runs/data -o runs/eval/codec_oracle --params "$CODEC" --metrics $METRICS --no-stems
$PYTHON report.py
$TOKENSEP export runs/separator ../../pretrained/separator-small --dtype float16 --inference "$BEST"
# Confirmation of the exported model (the settings above) on 16 more fresh songs (seed 9090).
$TOKENSEP data synth runs/confirm --songs 16 --seconds 8 --sample-rate 16000 --seed 9090 --test-fraction 1.0
$TOKENSEP eval separator ../../pretrained/separator-small runs/confirm -o runs/confirm-eval/tokensep --metrics mel_distance --no-stems
$TOKENSEP eval separator mixture_copy runs/confirm -o runs/confirm-eval/mixture_copy --metrics mel_distance --no-stems
$PYTHON report.py
