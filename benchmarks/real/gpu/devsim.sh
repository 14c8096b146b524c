#!/usr/bin/env bash
# A check here, on CPU, that the carried wheels complete the device's packages: a fresh Python 3.11
# venv ($DEVSIM, default /tmp/devsim) that sees only the .venv distributions the device machine
# lists (/work/.library/device/KINDS.md, "Python packages already there"; symlinked into
# $DEVSIM/device-site, no download) plus the wheel set of wheels.sh built for CPython 3.11
# ($DEVSIM/whl), then device.sh's CPU dry run with that Python and PYTHONPATH alone.
# Versions are .venv's (torch 2.14.1 here, 2.11.0 on the device), so this proves the list of
# packages, not the device's versions.
#   bash benchmarks/real/gpu/devsim.sh [PACK]   # PACK: a pack folder (default .carry/pack)
set -euo pipefail
cd "$(dirname "$0")/../../.."
DEVSIM=${DEVSIM:-/tmp/devsim}
PACK=${1:-.carry/pack}
KINDS=${KINDS:-/work/.library/device/KINDS.md}
[ -f "$KINDS" ] || { echo "devsim.sh: $KINDS not found: set KINDS to the device tool's KINDS.md (its package list)" >&2; exit 1; }
[ -x "$DEVSIM/bin/python" ] || "$(.venv/bin/python -c 'import sys; print(sys.base_prefix)')/bin/python3" -m venv "$DEVSIM"
rm -rf "$DEVSIM/device-site" && mkdir -p "$DEVSIM/device-site"
.venv/bin/python - "$KINDS" "$DEVSIM/device-site" <<'EOF'
import sys
from importlib.metadata import distributions
from pathlib import Path
sys.path.insert(0, "benchmarks/real/gpu")
from imports import device_packages, normalize

listed, site = device_packages(Path(sys.argv[1])), Path(sys.argv[2])
linked = set()
for dist in distributions():
    if normalize(dist.metadata["Name"]) not in listed:
        continue
    for file in dist.files or []:
        top = file.parts[0]
        if top in ("..", "__pycache__") or top in linked:
            continue
        source = Path(dist.locate_file(top))
        if source.exists():
            (site / top).symlink_to(source)
            linked.add(top)
print(f"devsim: {len(linked)} top-level entries of the device's listed packages linked into {site}")
EOF
PYVER=3.11 DEST="$DEVSIM/whl" bash benchmarks/real/gpu/wheels.sh
rm -rf "$DEVSIM/tokens" "$DEVSIM/run" "$DEVSIM/out"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} PYTHONPATH="$DEVSIM/device-site" PY="$DEVSIM/bin/python" WHL="$DEVSIM/whl" SITE="$DEVSIM/site" \
  PACK="$PACK" TOKENS="$DEVSIM/tokens" RUN="$DEVSIM/run/separator-gpu" OUT="$DEVSIM/out" \
  STEPS=${STEPS:-3} MAXMIN=${MAXMIN:-1} BATCH=${BATCH:-2} CKPT_EVERY=${CKPT_EVERY:-2} EXPORT_STEPS=${EXPORT_STEPS:-2} DEVICE=cpu \
  bash benchmarks/real/gpu/device.sh
