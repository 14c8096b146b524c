#!/usr/bin/env bash
# Wheels of what `tokensep train separator` and `tokensep export` import that the lent GPU machine
# lacks (its list: /work/.library/device/KINDS.md, "Python packages already there"), for its
# CPython 3.12 on manylinux x86-64, into .carry/whl (ignored: .git/info/exclude has /.carry/).
# The list is what benchmarks/real/gpu/imports.py prints as "missing on device" (plugin autoload off),
# plus pycparser (cffi's dependency) and typing-extensions (on the device too, but pydantic 2.14 and
# pydantic-core need >= 4.16.0, the newest, and the device's version is not known here; installed
# first on PYTHONPATH it shadows the device's, which is backward compatible), at the versions
# installed in .venv (pip show); and demucs, for benchmarks/speed.py's htdemucs section (device.sh's SPEED
# step; it imports demucs, julius, einops and tqdm only). Sdist-only
# pure-Python packages are built here into py3-none-any wheels (pip wheel --no-deps).
#   bash benchmarks/real/gpu/wheels.sh                  # -> .carry/whl, for the device
#   PYVER=3.11 DEST=/tmp/whl311 bash benchmarks/real/gpu/wheels.sh   # the same set for CPython 3.11 (a check here)
set -euo pipefail
cd "$(dirname "$0")/../../.."
PYVER=${PYVER:-3.12}
DEST=${DEST:-.carry/whl}
PIP=${PIP:-.venv/bin/python -m pip}
NAMES=(annotated-types argbind cffi pycparser demucs descript-audio-codec descript-audiotools docstring-parser einx encodec
       ffmpy flatten-dict frozendict importlib-resources julius loguru mido pretty-midi pydantic pydantic-core
       randomname soundfile torch-einops-utils typing-extensions typing-inspection x-transformers)
mkdir -p "$DEST"
build=$(mktemp -d)
trap 'rm -rf "$build"' EXIT
for name in "${NAMES[@]}"; do
  ver=$($PIP show "$name" 2>/dev/null | sed -n 's/^Version: //p')
  [ -n "$ver" ] || { echo "wheels.sh: $name is not installed in .venv" >&2; exit 1; }
  stem=$(echo "$name" | tr '-' '_')
  if ls "$DEST" | grep -qi "^${stem}-${ver}-"; then continue; fi
  if ! $PIP download -q --no-deps --only-binary=:all: --python-version "$PYVER" --implementation cp \
        --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
        -d "$DEST" "$name==$ver" 2>/dev/null; then
    # no binary wheel: build one from the sdist; only a pure-Python one may travel
    $PIP wheel -q --no-deps -w "$build" "$name==$ver"
    whl=$(ls "$build"/*.whl)
    case "$whl" in *-py3-none-any.whl|*-py2.py3-none-any.whl) mv "$whl" "$DEST/";;
      *) echo "wheels.sh: $name $ver built a platform wheel ($(basename "$whl")): not usable on the device" >&2; exit 1;; esac
    echo "built $(basename "$whl") from its sdist"
  fi
done
echo "$(ls "$DEST"/*.whl | wc -l) wheels in $DEST, $(du -cb "$DEST"/*.whl | tail -1 | awk '{printf "%.1f MB", $1/1e6}')"
