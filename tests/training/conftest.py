"""Make the tiny task importable by the trainer tests (and by the scripts they run)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
