#!/usr/bin/env bash
# Installs everything tokensep needs on a fresh machine: system packages, a venv in .venv, the
# package with its development extras. Safe to run again: it only adds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(fluidsynth fluid-soundfont-gm ffmpeg)  # ffmpeg: museval imports stempeg, which requires it
missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing system packages: ${missing[*]}"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: system packages missing (${missing[*]}); the soundfont renderer will be unavailable" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# pip warns about every absent local index folder on these machines; keep its real messages
quiet_pip() {
  .venv/bin/python -m pip install --quiet --disable-pip-version-check "$@" 2>&1 \
    | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}
quiet_pip -e ".[dev]"
quiet_pip -e plugins/tokensep-teachers
quiet_pip -e plugins/tokensep-transient
.venv/bin/python -c "import tokensep_core, tokensep_teachers, tokensep_transient, torch, torchaudio" \
  || { echo "setup: tokensep failed to install" >&2; exit 1; }
