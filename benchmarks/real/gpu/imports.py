"""Which installed distributions `tokensep train separator` and `tokensep export` import: run both
in this process (one CPU training step of separator_gpu.yaml on TOKEN_DIR, then an fp16 export),
then map every loaded top-level module to its distribution (plugin autoload off, as on the device). With --device-packages (the package
list of the device machine: the device tool's KINDS.md), also print the ones the device
lacks: what benchmarks/real/gpu/wheels.sh must carry.

    python benchmarks/real/gpu/imports.py TOKEN_DIR [--device-packages KINDS.md]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
from importlib.metadata import packages_distributions, version
from pathlib import Path

import yaml

CONFIG = Path(__file__).resolve().parents[1] / "train" / "separator_gpu.yaml"
OWN = {"tokensep"}


def normalize(name: str) -> str:
    """PEP 503 name: lower case, runs of ``-_.`` as one ``-``."""
    return re.sub(r"[-_.]+", "-", name).lower()


def device_packages(path: Path) -> set[str]:
    """The normalized names after 'Packages:' in KINDS.md's "Python packages already there"."""
    text = path.read_text()
    match = re.search(r"Packages:\s*(.+?)\.\s*$", text.split("## Python packages already there", 1)[-1], re.S | re.M)
    if match is None:
        raise SystemExit(f"imports: no 'Packages:' list in {path}")
    return {normalize(n.strip()) for n in match.group(1).replace("\n", " ").split(",") if n.strip()}


def loaded_distributions() -> dict[str, set[str]]:
    """``{distribution: {top-level modules}}`` of every loaded module that belongs to an installed
    distribution (the standard library belongs to none)."""
    owners = packages_distributions()
    found: dict[str, set[str]] = {}
    for name in list(sys.modules):
        top = name.split(".", 1)[0]
        for dist in owners.get(top, []):
            found.setdefault(dist, set()).add(top)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("tokens", type=Path, help="a complete token folder of the shipped codec")
    parser.add_argument("--device-packages", type=Path, help="KINDS.md (or a file with 'Packages: a, b, c.')")
    args = parser.parse_args()

    os.environ["TOKENSEP_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # as on the device: the repo's own plugins stay behind
    from tokensep_core.cli.main import main as tokensep

    with tempfile.TemporaryDirectory() as tmp:
        config = yaml.safe_load(CONFIG.read_text())
        config["tokens"]["root"] = str(args.tokens)
        config["trainer"].update(steps=1, max_minutes=None, batch_size=2, checkpoint_every=0, device="cpu")
        derived = Path(tmp) / "config.json"
        derived.write_text(json.dumps(config))
        for argv in (
            ["train", "separator", str(derived), "--run-dir", f"{tmp}/run"],
            ["export", f"{tmp}/run", f"{tmp}/model", "--dtype", "float16"],
        ):
            if tokensep(argv) != 0:
                raise SystemExit(f"imports: tokensep {' '.join(argv)} failed")
    found = {normalize(d): tops for d, tops in loaded_distributions().items() if normalize(d) not in OWN}
    lacking = device_packages(args.device_packages) if args.device_packages else None
    for dist in sorted(found):
        mark = "" if lacking is None else ("  (on device)" if dist in lacking else "  MISSING on device")
        print(f"{dist}=={version(dist)}  [{', '.join(sorted(found[dist]))}]{mark}")
    if lacking is not None:
        missing = sorted(d for d in found if d not in lacking)
        print("missing on device:", " ".join(f"{d}=={version(d)}" for d in missing))
    return 0


if __name__ == "__main__":
    sys.exit(main())
