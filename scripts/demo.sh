#!/usr/bin/env bash
# The main job on a built-in default: set up if needed, then run `tokensep demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/tokensep demo "$@"
