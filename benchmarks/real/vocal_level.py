"""Does a model route a voice to "other" when it sits lower in the mix? Each song of a folder
(MUSDB layout, vocals not silent) is remixed twice: as built, and with its vocal stem turned down
by ``--down`` dB (the other stems unchanged). Both are separated with ``tokensep separate`` and
scored with :func:`stem_proxies.routing`: the share of the true vocals' energy that reaches each
output. Prints the mean shares of both mixes and the paired change of the vocal share, with a
bootstrap interval over songs × seeds.

    OMP_NUM_THREADS=1 python benchmarks/real/vocal_level.py runs/corpus-44k/valid --down 4 --seeds 0,1
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from stem_proxies import STEMS, routing  # noqa: E402  (benchmarks/stem_proxies.py)


def read_stems(song: Path) -> dict[str, np.ndarray]:
    """``{stem: [T, C]}`` of one song folder (any extension libsndfile reads)."""
    return {stem: sf.read(next(song.glob(f"{stem}.*")), always_2d=True)[0] for stem in STEMS}


def vocal_routing(model: str, mixture: np.ndarray, references: dict[str, np.ndarray], rate: int, seed: int, work: Path) -> np.ndarray:
    """Separate ``mixture [T, C]`` with ``tokensep separate -n model --seed seed`` -> the true
    vocals' shares ``[4]`` (vocals, drums, bass, other outputs)."""
    wav = work / "mixture.wav"
    sf.write(wav, mixture.astype(np.float32), rate, subtype="FLOAT")
    out = work / f"out{seed}"
    command = [sys.executable, "-m", "tokensep_core.cli.main", "separate", str(wav), "-n", model, "-o", str(out)]
    subprocess.run([*command, "--seed", str(seed), "--float32", "--clip-mode", "none"], check=True, capture_output=True)
    folder = next(out.glob("*/mixture"))
    estimates = np.stack([sf.read(folder / f"{stem}.wav", always_2d=True)[0] for stem in STEMS])
    return routing(estimates, np.stack([references[stem] for stem in STEMS]), rate)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("songs", type=Path, help="a folder of song folders (MUSDB layout)")
    parser.add_argument("--down", type=float, default=4.0, help="dB the vocal stem is turned down by")
    parser.add_argument("--seeds", default="0", help="sampling seeds, comma-separated")
    parser.add_argument("-n", "--model", default="separator-small")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    shares: dict[str, list[np.ndarray]] = {"as built": [], "turned down": []}
    songs = [song for song in sorted(args.songs.iterdir()) if song.is_dir()]
    with tempfile.TemporaryDirectory() as tmp:
        for song in songs:
            stems = read_stems(song)
            if not np.abs(stems["vocals"]).any():
                continue
            rate = sf.info(next(song.glob("vocals.*"))).samplerate
            for label, gain in (("as built", 1.0), ("turned down", 10 ** (-args.down / 20))):
                references = dict(stems, vocals=stems["vocals"] * gain)
                mixture = sum(references.values())
                for seed in seeds:
                    shares[label].append(vocal_routing(args.model, mixture, references, rate, seed, Path(tmp)))
            print(f"{song.name}: vocal share {shares['as built'][-1][0]:.3f} -> {shares['turned down'][-1][0]:.3f}", flush=True)
    built, down = np.array(shares["as built"]), np.array(shares["turned down"])
    for label, values in (("as built", built), (f"vocals -{args.down:g} dB", down)):
        print(f"{label}: {len(values)} separations; true vocals -> vocals / drums / bass / other {np.round(values.mean(0), 3)}")
    change = down[:, 0] - built[:, 0]
    draws = np.random.default_rng(0).choice(change, (2000, len(change))).mean(1)
    print(
        f"vocal share change {change.mean():+.3f} [{np.percentile(draws, 2.5):+.3f}, {np.percentile(draws, 97.5):+.3f}] "
        f"(95% bootstrap over songs x seeds), lower in {int((change < 0).sum())}/{len(change)}"
    )


if __name__ == "__main__":
    main()
