#!/usr/bin/env bash
# The one command of a lent GPU machine for issue 19 (runbook: benchmarks/real/gpu/README.md):
# install the carried wheels (.carry/whl) into /tmp/site, unpack the carried corpus tokens
# (.carry/pack, benchmarks/real/gpu/pack.py) into runs/real/corpus-tokens-gpu, train
# benchmarks/real/train/separator_gpu.yaml into runs/real/separator-gpu, export the last checkpoint
# and those of EXPORT_STEPS (fp16, as benchmarks/real/RESULTS.md exports corpus_lm) and put into
# $OUT, flat (at most 8 files of 16 MiB come back):
#   train.log    the trainer's output          metrics.csv  the trainer's metrics
#   device.txt   nvidia-smi, versions, timings, steps/s
#   model.tar, model-step<N>.tar   one exported model each (tar -xf F -C DIR gives DIR/separator-gpu*/)
#   speed.txt    benchmarks/speed.py's report, when SPEED is set
# Env overrides (all optional): STEPS, MAXMIN (trainer.max_minutes), BATCH, WORKERS (trainer.num_workers),
# SPEED (benchmarks/speed.py's arguments, run before training; empty: skipped), SPEED_TIMEOUT (150 s), TRAIN (0:
# stop after SPEED, nothing unpacked or trained),
# CKPT_EVERY, EXPORT_STEPS ("2000 4000"; only checkpoints that exist; the last is always exported), OUT (default
# runs/real/gpu-out), RUN, TOKENS, PACK, WHL (empty: install no wheels, use this Python's packages),
# SITE, PY, DEVICE (trainer.device), INIT (init_from and model.codec_checkpoint: the model to start
# from; the recipe names benchmarks/real/separators/shipped_v5_mid, which tree.sh aside moves out,
# so a trip sets INIT, e.g. pretrained/separator-small), DEADLINE (default 570: max_minutes is cut so that everything
# ends by then, counted from this script's start; 0: no cut), RESERVE (default 75 s). CPU dry run here:
#   WHL= PY=.venv/bin/python STEPS=3 MAXMIN=1 BATCH=2 CKPT_EVERY=2 EXPORT_STEPS=2 OUT=/tmp/gpu-out RUN=/tmp/gpu-run bash benchmarks/real/gpu/device.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
start=$(date +%s)
OUT=${OUT:-runs/real/gpu-out}
RUN=${RUN:-runs/real/separator-gpu}
TOKENS=${TOKENS:-runs/real/corpus-tokens-gpu}
PACK=${PACK:-.carry/pack}
WHL=${WHL-.carry/whl}
SITE=${SITE:-/tmp/site}
PY=${PY:-python3}
EXPORT_STEPS=${EXPORT_STEPS:-2000 4000}
CONFIG=benchmarks/real/train/separator_gpu.yaml
mkdir -p "$OUT" "$(dirname "$RUN")"
info="$OUT/device.txt"
say() { echo "[device.sh +$(($(date +%s) - start))s] $*" | tee -a "$info"; }

{ nvidia-smi 2>&1 || echo "no nvidia-smi"; echo "$(nproc) cores, $(uname -m), $(date -u)"; } | tee -a "$info"
if [ -n "$WHL" ]; then
  rm -rf "$SITE"
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" "$WHL"/*.whl
  export PYTHONPATH="$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH}"
else
  export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
fi
export TOKENSEP_DISABLE_PLUGIN_AUTOLOAD=1 PYTHONUNBUFFERED=1 TQDM_MININTERVAL=10
"$PY" - <<'EOF' | tee -a "$info"  # fails here, before any work, if an import is missing
import sys
from importlib.metadata import version
import torch, pydantic, soundfile, x_transformers, dac, encodec, pretty_midi  # noqa: F401
import tokensep_core.cli.main  # noqa: F401
print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.cuda.is_available(), "libsndfile", soundfile.__libsndfile_version__)
print(", ".join(f"{d} {version(d)}" for d in ("numpy", "einops", "typing-extensions", "pydantic", "safetensors", "torchaudio", "x-transformers")))
EOF
say "wheels installed"

# optional: benchmarks/speed.py with SPEED's arguments first, cut at SPEED_TIMEOUT s (training then
# gets what is left before DEADLINE); its report goes to $OUT/speed.txt
if [ -n "${SPEED:-}" ]; then
  say "speed.py $SPEED"
  set +e
  # shellcheck disable=SC2086
  timeout "${SPEED_TIMEOUT:-150}" "$PY" benchmarks/speed.py $SPEED 2>&1 | tee "$OUT/speed.txt"
  say "speed.py exited ${PIPESTATUS[0]}"
  set -e
fi

if [ "${TRAIN:-1}" = 0 ]; then say "TRAIN=0: no training"; exit 0; fi

if [ ! -f "$TOKENS/index.json" ]; then
  "$PY" benchmarks/real/gpu/pack.py unpack "$PACK" "$TOKENS" | tee -a "$info"
fi
say "tokens ready in $TOKENS"

# the config with the env overrides (tokensep train takes --steps and --device only)
derived="$RUN.config.json"
# and trainer.max_minutes cut so that training, checkpoints and exports end DEADLINE s after this
# script started (the device's command limit is 600 s; RESERVE s are kept for startup and exports)
INIT=${INIT:-} STEPS=${STEPS:-} MAXMIN=${MAXMIN:-} BATCH=${BATCH:-} WORKERS=${WORKERS:-} CKPT_EVERY=${CKPT_EVERY:-} DEVICE=${DEVICE:-} \
  DEADLINE=${DEADLINE:-570} RESERVE=${RESERVE:-75} ELAPSED=$(($(date +%s) - start)) \
  TOKENS="$TOKENS" "$PY" - "$CONFIG" "$derived" <<'EOF' | tee -a "$info"
import json, os, sys, yaml
config = yaml.safe_load(open(sys.argv[1]))
config["tokens"]["root"] = os.environ["TOKENS"]
if os.environ.get("INIT"):  # the model to start from, its codec included
    config["init_from"] = config["model"]["codec_checkpoint"] = os.environ["INIT"]
trainer = config["trainer"]
for env, key, cast in (("STEPS", "steps", int), ("MAXMIN", "max_minutes", float), ("BATCH", "batch_size", int),
                       ("WORKERS", "num_workers", int), ("CKPT_EVERY", "checkpoint_every", int), ("DEVICE", "device", str)):
    if os.environ.get(env):
        trainer[key] = cast(os.environ[env])
deadline = float(os.environ["DEADLINE"])
if deadline > 0:
    left = (deadline - float(os.environ["ELAPSED"]) - float(os.environ["RESERVE"])) / 60
    if left <= 0:
        sys.exit(f"device.sh: no time left for training before the {deadline:g} s deadline")
    if trainer.get("max_minutes") is None or trainer["max_minutes"] > left:
        trainer["max_minutes"] = round(left, 2)
json.dump(config, open(sys.argv[2], "w"), indent=1)
print("trainer:", json.dumps(trainer))
EOF
train_start=$(date +%s)
set +e
"$PY" -m tokensep_core.cli.main train separator "$derived" --run-dir "$RUN" 2>&1 | tee "$OUT/train.log"
train_rc=${PIPESTATUS[0]}
set -e
say "training exited $train_rc after $(($(date +%s) - train_start)) s"
cp "$RUN/metrics.csv" "$OUT/metrics.csv" 2>/dev/null || true
"$PY" - "$RUN/metrics.csv" "$(($(date +%s) - train_start))" <<'EOF' | tee -a "$info"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
times = [float(r["step_time"]) for r in rows if r.get("step_time")]
last = rows[-1] if rows else {}
print(f"last logged step {last.get('step')}, ce {last.get('model/ce')}; {int(last.get('step', 0)) / float(sys.argv[2]):.2f} steps/s over the "
      f"command's {sys.argv[2]} s (startup included); {len(times) / sum(times) if times else 0:.2f} steps/s from the logged steps' step_time")
EOF
[ "$train_rc" = 0 ] || exit "$train_rc"

export_one() {  # CHECKPOINT NAME: export fp16 and tar it into $OUT/NAME.tar
  local model="$RUN.export/$2"
  rm -rf "$model"
  "$PY" -m tokensep_core.cli.main export "$1" "$model" --dtype float16 | tee -a "$info"
  tar -cf "$OUT/$2.tar" -C "$(dirname "$model")" "$2"
}
mkdir -p "$RUN.export"
export_one "$RUN" separator-gpu
for step in $EXPORT_STEPS; do
  ckpt="$RUN/checkpoints/step_$(printf %08d "$step")"
  if [ -d "$ckpt" ]; then export_one "$ckpt" "separator-gpu-step$step"; else say "no checkpoint $ckpt to export"; fi
done
for f in "$OUT"/separator-gpu*.tar; do mv "$f" "$OUT/model${f#"$OUT"/separator-gpu}"; done
say "done"
ls -la "$OUT" | tee -a "$info"
