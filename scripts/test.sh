#!/usr/bin/env bash
# The whole test suite: set up if needed, lint and format-check with ruff, then run pytest
# (tokensep's tests and every plugin's own tests).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest -q "$@"
