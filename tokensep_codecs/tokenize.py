"""``tokenize``: encode every stem and the mixture of a dataset's songs once and store the codes in
shards with an index (format: tokensep_core.data.token_shards), so LM training never runs the
codec encoder again.

Songs go to shards in a fixed order (``songs_per_shard`` each). Each shard is written atomically
and then the index, listing the songs done so far, is rewritten atomically; a killed run
restarted with the same codec and data skips the shards already listed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from tqdm import tqdm

from tokensep_codecs.inference import LoadedCodec, encode_long, segment_frames, to_items
from tokensep_core.audio.io import atomic_path, convert
from tokensep_core.data.token_shards import FORMAT_VERSION, INDEX_FILE, MIXTURE, codes_key, mixture_key, read_index, torch_dtype_for
from tokensep_core.errors import ConfigError
from tokensep_core.evaluation.tables import write_json
from tokensep_core.interfaces import StemDataset


@dataclass(frozen=True)
class SongRef:
    """Song ``index`` of the dataset of ``split``."""

    split: str
    index: int


def _header(loaded: LoadedCodec, stems: Sequence[str], source: dict[str, Any], songs_per_shard: int) -> dict[str, Any]:
    """What identifies a token folder: a resumed run must match it exactly."""
    codec = loaded.codec
    return {
        "format": FORMAT_VERSION,
        "codec": {
            **loaded.describe(),
            "sample_rate": codec.sample_rate,
            "channels": codec.channels,
            "frame_rate": codec.frame_rate,
            "hop_length": codec.hop_length,
            "num_codebooks": codec.num_codebooks,
            "codebook_size": codec.codebook_size,
        },
        "source": source,
        "stems": list(stems),
        "songs_per_shard": songs_per_shard,
        "code_dtype": str(torch_dtype_for(codec.codebook_size)).removeprefix("torch."),
        "audio_dtype": "float16",
    }


def tokenize(
    loaded: LoadedCodec,
    datasets: dict[str, StemDataset],
    out: str | Path,
    source: dict[str, Any],
    songs_per_shard: int = 16,
    segment_seconds: float = 30.0,
    progress: bool = True,
) -> dict[str, Any]:
    """Encode every song of ``datasets`` ``{split: dataset}`` into ``out``; -> the final index.

    ``source`` describes the data (stored in the index and compared on resume). Stems are the
    first dataset's; every song must have them all."""
    out = Path(out)
    if not datasets:
        raise ConfigError("tokenize: no dataset splits given")
    stems = list(next(iter(datasets.values())).stems)
    songs = [SongRef(split, i) for split, dataset in datasets.items() for i in range(len(dataset))]
    if not songs:
        raise ConfigError("tokenize: the data has no songs")
    shards = [songs[i : i + songs_per_shard] for i in range(0, len(songs), songs_per_shard)]
    header = _header(loaded, stems, {**source, "songs": len(songs)}, songs_per_shard)
    index = read_index(out)
    if index is not None:
        previous = {key: index.get(key) for key in header}
        if json.loads(json.dumps(previous)) != json.loads(json.dumps(header)):
            raise ConfigError(f"{out / INDEX_FILE}: written with another codec, data or layout; tokenize into a new folder")
        entries = index["songs"]
    else:
        entries = []
    done = len(entries) // songs_per_shard if len(entries) < len(songs) else len(shards)
    entries = entries[: done * songs_per_shard]
    codec = loaded.codec
    device = next(codec.parameters()).device
    frames = segment_frames(codec, segment_seconds)
    dtype = torch_dtype_for(codec.codebook_size)
    bar = tqdm(total=len(songs), initial=sum(len(s) for s in shards[:done]), desc="tokenize", unit="song", disable=not progress)
    for number in range(done, len(shards)):
        tensors: dict[str, torch.Tensor] = {}
        shard_file = f"shards/{number:05d}.safetensors"
        for ref in shards[number]:
            song = datasets[ref.split][ref.index]
            missing = [s for s in stems if s not in song.stems]
            if missing:
                raise ConfigError(f"tokenize: song {song.name!r} ({ref.split}) has no stem {', '.join(missing)}")
            key = str(len(entries))
            for name, wav in [*((s, song.stems[s]) for s in stems), (MIXTURE, song.mixture)]:
                codes = encode_long(codec, to_items(codec, wav.float(), song.sample_rate).to(device), frames)
                tensors[codes_key(key, name)] = codes.to("cpu", dtype).contiguous()
            num_frames = tensors[codes_key(key, MIXTURE)].shape[-1]
            mixture = convert(song.mixture.float(), song.sample_rate, codec.sample_rate, song.mixture.shape[0])
            mixture = F.pad(mixture, (0, num_frames * codec.hop_length - mixture.shape[-1]))
            tensors[mixture_key(key)] = mixture.to(torch.float16).contiguous()
            entries.append(
                {
                    "name": song.name,
                    "split": ref.split,
                    "frames": num_frames,
                    "channels": song.mixture.shape[0],
                    "shard": shard_file,
                    "key": key,
                }
            )
            bar.update()
        with atomic_path(out / shard_file) as tmp:
            save_file(tensors, str(tmp))
        write_json(out / INDEX_FILE, {**header, "complete": number == len(shards) - 1, "songs": entries})
    bar.close()
    index = {**header, "complete": True, "songs": entries}
    write_json(out / INDEX_FILE, index)
    return index
