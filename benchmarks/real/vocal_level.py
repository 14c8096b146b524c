"""Does a model route a voice to "other" when it sits lower in the mix? Each song of a folder
(MUSDB layout, vocals not silent) is remixed twice: as built, and with its vocal stem turned down
by ``--down`` dB (the other stems unchanged). Both are separated with ``tokensep separate`` and
scored with :func:`stem_proxies.routing`: the share of the true vocals' energy that reaches each
output. Prints the mean shares of both mixes and the paired change of the vocal share, with a
bootstrap interval over songs (each song's seeds averaged first). One ``tokensep separate`` call
per seed separates every remix, so the model loads once per seed.

    OMP_NUM_THREADS=1 python benchmarks/real/vocal_level.py runs/corpus-44k/valid --down 4 --seeds 0,1

Two saved outputs on the same songs (e.g. two models) compare paired per song:

    python benchmarks/real/vocal_level.py --compare quiet.txt held.txt
"""

from __future__ import annotations

import argparse
import re
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


LABELS = ("as built", "turned down")


def separate_all(model: str, mixtures: dict[str, np.ndarray], rate: int, seed: int, work: Path) -> dict[str, np.ndarray]:
    """Separate every ``{name: mixture [T, C]}`` in one ``tokensep separate -n model --seed seed``
    call (one model load) -> ``{name: estimates [4, T, C]}`` (vocals, drums, bass, other)."""
    inputs, out = work / "mixtures", work / f"out{seed}"
    inputs.mkdir(exist_ok=True)
    for name, mixture in mixtures.items():
        sf.write(inputs / f"{name}.wav", mixture.astype(np.float32), rate, subtype="FLOAT")
    command = [sys.executable, "-m", "tokensep_core.cli.main", "separate", str(inputs), "-n", model, "-o", str(out)]
    subprocess.run([*command, "--seed", str(seed), "--float32", "--clip-mode", "none"], check=True, capture_output=True)
    folders = {folder.name: folder for folder in out.glob("*/*") if folder.is_dir()}
    return {name: np.stack([sf.read(folders[name] / f"{stem}.wav", always_2d=True)[0] for stem in STEMS]) for name in mixtures}


def song_bootstrap(change: np.ndarray, draws: int = 2000) -> tuple[float, float]:
    """95 % interval of the mean of ``change [songs, seeds]``, resampling songs (a song's seeds
    stay together: they share its voice)."""
    rng = np.random.default_rng(0)
    per_song = change.mean(axis=1)
    means = per_song[rng.integers(0, len(per_song), (draws, len(per_song)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


SONG_LINE = re.compile(r"^(\S+): vocal share ([\d.]+) -> ([\d.]+) ")


def read_song_shares(path: Path) -> dict[str, tuple[float, float]]:
    """A saved run's per-song lines -> ``{song: (share as built, share turned down)}``."""
    shares = {m[1]: (float(m[2]), float(m[3])) for m in map(SONG_LINE.match, path.read_text().splitlines()) if m}
    if not shares:
        sys.exit(f"vocal_level: no per-song lines in {path}")
    return shares


def compare(first: Path, second: Path) -> None:
    """Two saved runs on the same songs -> the first's vocal share minus the second's, as built,
    turned down, and the change of the drop, paired per song with a bootstrap over songs."""
    a, b = read_song_shares(first), read_song_shares(second)
    if a.keys() != b.keys():
        sys.exit(f"vocal_level: {first} and {second} hold different songs")
    songs = sorted(a)
    pairs = {
        "as built": [a[s][0] - b[s][0] for s in songs],
        "turned down": [a[s][1] - b[s][1] for s in songs],
        "drop (turned down - as built)": [(a[s][1] - a[s][0]) - (b[s][1] - b[s][0]) for s in songs],
    }
    for label, values in pairs.items():
        change = np.array(values)[:, None]
        low, high = song_bootstrap(change)
        print(f"{label}: {change.mean():+.3f} [{low:+.3f}, {high:+.3f}], first higher in {int((change > 0).sum())}/{len(songs)} songs")


def main() -> None:
    if sys.argv[1:2] == ["--compare"]:
        if len(sys.argv) != 4:
            sys.exit("usage: vocal_level.py --compare FIRST.txt SECOND.txt (two saved outputs of this script)")
        compare(Path(sys.argv[2]), Path(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("songs", type=Path, help="a folder of song folders (MUSDB layout)")
    parser.add_argument("--down", type=float, default=4.0, help="dB the vocal stem is turned down by")
    parser.add_argument("--seeds", default="0", help="sampling seeds, comma-separated")
    parser.add_argument("-n", "--model", default="separator-small")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    mixtures: dict[str, np.ndarray] = {}
    references: dict[str, dict[str, np.ndarray]] = {}
    rates = set()
    for song in sorted(path for path in args.songs.iterdir() if path.is_dir()):
        stems = read_stems(song)
        if not np.abs(stems["vocals"]).any():
            continue
        rates.add(sf.info(next(song.glob("vocals.*"))).samplerate)
        for label, gain in zip(LABELS, (1.0, 10 ** (-args.down / 20)), strict=True):
            name = f"{song.name}.{LABELS.index(label)}"
            references[name] = dict(stems, vocals=stems["vocals"] * gain)
            mixtures[name] = sum(references[name].values())
    if len(rates) != 1:
        sys.exit(f"vocal_level: the songs under {args.songs} need one sample rate, found {sorted(rates)}")
    rate = rates.pop()
    # shares[label][song, seed] = the true vocals' shares [4]
    songs = sorted({name.rsplit(".", 1)[0] for name in mixtures})
    shares = {label: np.zeros((len(songs), len(seeds), len(STEMS))) for label in LABELS}
    with tempfile.TemporaryDirectory() as tmp:
        for j, seed in enumerate(seeds):
            estimates = separate_all(args.model, mixtures, rate, seed, Path(tmp))
            for i, song in enumerate(songs):
                for k, label in enumerate(LABELS):
                    name = f"{song}.{k}"
                    truth = np.stack([references[name][stem] for stem in STEMS])
                    shares[label][i, j] = routing(estimates[name], truth, rate)[0]
            print(f"seed {seed}: {len(mixtures)} mixtures separated", flush=True)
    built, down = shares["as built"], shares["turned down"]
    for i, song in enumerate(songs):
        print(f"{song}: vocal share {built[i, :, 0].mean():.3f} -> {down[i, :, 0].mean():.3f} (mean of {len(seeds)} seeds)")
    for label, values in (("as built", built), (f"vocals -{args.down:g} dB", down)):
        print(
            f"{label}: {len(songs)} songs x {len(seeds)} seeds; true vocals -> vocals / drums / bass / other {np.round(values.mean((0, 1)), 3)}"
        )
    change = down[:, :, 0] - built[:, :, 0]
    low, high = song_bootstrap(change)
    print(
        f"vocal share change {change.mean():+.3f} [{low:+.3f}, {high:+.3f}] (95% bootstrap over {len(songs)} songs, "
        f"each the mean of its {len(seeds)} seeds), lower in {int((change.mean(1) < 0).sum())}/{len(songs)} songs "
        f"and {int((change < 0).sum())}/{change.size} separations"
    )


if __name__ == "__main__":
    main()
