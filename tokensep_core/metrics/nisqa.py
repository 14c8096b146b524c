"""NISQA v2 (Mittag et al., 2021): a no-reference speech quality predictor, reimplemented in
PyTorch to run the official weights (``nisqa.tar``: MOS + noisiness, discontinuity, coloration,
loudness; ``nisqa_mos_only.tar``: MOS).

Pipeline: mono mixdown at the native sample rate -> 48-band log-mel spectrogram (20 ms Hann
window, 10 ms hop, n_fft 4096, 0-20 kHz, Slaney) -> segments of 15 frames every 4 frames ->
framewise CNN with adaptive max-pooling -> self-attention over segments -> one attention-pooling
head per output. Predictions are not clipped to [1, 5] (the reference implementation does not).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
import torchaudio
from pydantic import Field
from torch import Tensor, nn

from tokensep_core.config import ComponentConfig
from tokensep_core.errors import CheckpointError
from tokensep_core.interfaces import Metric
from tokensep_core.metrics.common import MetricError, check_pair, to_mono

DIMENSIONS: tuple[str, ...] = ("mos", "noi", "dis", "col", "loud")
"""Output order of the NISQA_DIM heads; the MOS-only model has the first one."""

# Checkpoint prefixes (upstream module names) -> ours.
_KEY_PREFIXES: tuple[tuple[str, str], ...] = (
    ("cnn.model.", "framewise."),
    ("time_dependency.model.layers.", "time.layers."),
    ("time_dependency.model.", "time."),
    ("pool.model.", "heads.0."),
)


class NisqaFeatures(nn.Module):
    """wav ``[T]`` at ``sample_rate`` -> segments ``[N, 1, n_mels, seg_length]`` of the log-mel
    spectrogram (dB, floor at max - 80 dB)."""

    def __init__(self, sample_rate: int, args: dict[str, Any]) -> None:
        super().__init__()
        self.seg_length = int(args["ms_seg_length"])
        self.seg_hop = int(args["ms_seg_hop_length"])
        hop_length = int(sample_rate * args["ms_hop_length"])
        # reflect padding needs more than n_fft / 2 samples; segmenting needs seg_length frames
        self.min_samples = max(int(args["ms_n_fft"]) // 2 + 1, (self.seg_length - 1) * hop_length + 1)
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate,
            n_fft=int(args["ms_n_fft"]),
            win_length=int(sample_rate * args["ms_win_length"]),
            hop_length=hop_length,
            f_min=0.0,
            f_max=float(args["ms_fmax"]),
            n_mels=int(args["ms_n_mels"]),
            power=1.0,
            center=True,
            pad_mode="reflect",
            norm="slaney",
            mel_scale="slaney",
        )

    def forward(self, wav: Tensor) -> Tensor:
        if wav.shape[-1] < self.min_samples:
            raise MetricError(f"metric nisqa: signal too short ({wav.shape[-1]} samples, needs at least {self.min_samples})")
        spec = 20 * torch.log10(self.mel(wav).clamp_min(1e-4))
        spec = torch.maximum(spec, spec.max() - 80.0)
        # [F, W] -> [N, F, seg_length]: windows of seg_length frames, every seg_hop frames
        segments = spec.unfold(-1, self.seg_length, self.seg_hop).transpose(0, 1)
        return segments.unsqueeze(1)


class FramewiseCNN(nn.Module):
    """Six 3x3 conv + batch-norm + ReLU layers with adaptive max-pooling:
    segments ``[N, 1, F, W]`` -> features ``[N, c3 * pool_3[0]]``."""

    def __init__(self, args: dict[str, Any]) -> None:
        super().__init__()
        c1, c2, c3 = args["cnn_c_out_1"], args["cnn_c_out_2"], args["cnn_c_out_3"]
        kernel = tuple(args["cnn_kernel_size"]) if not isinstance(args["cnn_kernel_size"], int) else (args["cnn_kernel_size"],) * 2
        self.pools = [tuple(args["cnn_pool_1"]), tuple(args["cnn_pool_2"]), tuple(args["cnn_pool_3"])]
        channels = [(1, c1), (c1, c2), (c2, c3), (c3, c3), (c3, c3)]
        for i, (cin, cout) in enumerate(channels, start=1):
            setattr(self, f"conv{i}", nn.Conv2d(cin, cout, kernel, padding=(1, 1)))
            setattr(self, f"bn{i}", nn.BatchNorm2d(cout))
        # the last kernel spans the remaining width, collapsing it to one column
        self.conv6 = nn.Conv2d(c3, c3, (kernel[0], self.pools[2][1]), padding=(1, 0))
        self.bn6 = nn.BatchNorm2d(c3)
        self.output_dim = c3 * self.pools[2][0]

    def _block(self, i: int, x: Tensor) -> Tensor:
        return F.relu(getattr(self, f"bn{i}")(getattr(self, f"conv{i}")(x)))

    def forward(self, x: Tensor) -> Tensor:
        x = F.adaptive_max_pool2d(self._block(1, x), self.pools[0])
        x = F.adaptive_max_pool2d(self._block(2, x), self.pools[1])
        x = F.adaptive_max_pool2d(self._block(4, self._block(3, x)), self.pools[2])
        x = self._block(6, self._block(5, x))
        return x.flatten(1)


class TimeDependency(nn.Module):
    """Linear projection, layer norm, post-norm self-attention layers: ``[B, N, D_in]`` -> ``[B, N, D]``."""

    def __init__(self, input_dim: int, args: dict[str, Any]) -> None:
        super().__init__()
        dim = args["td_sa_d_model"]
        self.linear = nn.Linear(input_dim, dim)
        self.norm1 = nn.LayerNorm(dim)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(dim, args["td_sa_nhead"], args["td_sa_h"], dropout=0.0, batch_first=True)
            for _ in range(args["td_sa_num_layers"])
        )

    def forward(self, x: Tensor) -> Tensor:
        x = self.norm1(self.linear(x))
        for layer in self.layers:
            x = layer(x)
        return x


class AttentionPoolHead(nn.Module):
    """Attention pooling over segments with a feed-forward scorer: ``[B, N, D]`` -> ``[B]``."""

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.linear1 = nn.Linear(dim, hidden)
        self.linear2 = nn.Linear(hidden, 1)
        self.linear3 = nn.Linear(dim, 1)

    def forward(self, x: Tensor) -> Tensor:
        weights = self.linear2(F.relu(self.linear1(x))).softmax(dim=1)  # [B, N, 1]
        return self.linear3((weights * x).sum(dim=1)).squeeze(-1)


class NisqaNet(nn.Module):
    """The NISQA v2 network: segments ``[B, N, 1, F, W]`` -> scores ``[B, heads]``."""

    def __init__(self, args: dict[str, Any]) -> None:
        super().__init__()
        self.args = args
        self.outputs = DIMENSIONS if args["model"] == "NISQA_DIM" else DIMENSIONS[:1]
        self.framewise = FramewiseCNN(args)
        self.time = TimeDependency(self.framewise.output_dim, args)
        self.heads = nn.ModuleList(AttentionPoolHead(args["td_sa_d_model"], args["pool_att_h"]) for _ in self.outputs)

    def forward(self, segments: Tensor) -> Tensor:
        batch, count = segments.shape[:2]
        x = self.framewise(segments.flatten(0, 1)).view(batch, count, -1)
        x = self.time(x)
        return torch.stack([head(x) for head in self.heads], dim=-1)


def _check_supported(path: Path, args: dict[str, Any]) -> None:
    expected = {
        "model": ("NISQA", "NISQA_DIM"),
        "cnn_model": ("adapt",),
        "cnn_fc_out_h": (None,),
        "td": ("self_att",),
        "td_2": (None, "skip"),
        "pool": ("att",),
        "double_ended": (False, None),
    }
    for key, allowed in expected.items():
        if args.get(key) not in allowed:
            raise CheckpointError(f"{path}: unsupported NISQA variant: {key}={args.get(key)!r} (supported: {allowed})")
    if args.get("td_sa_pos_enc") or args.get("pool_att_h") is None:
        raise CheckpointError(f"{path}: unsupported NISQA variant: positional encoding or plain attention pooling")


def load_nisqa(path: str | Path) -> NisqaNet:
    """Build the network from an official NISQA checkpoint (a torch pickle with ``args`` and
    ``model_state_dict``), in eval mode."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: NISQA weights not found")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many types for corrupt or unsafe pickles
        raise CheckpointError(
            f"{path}: not a loadable NISQA checkpoint ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})"
        ) from None
    if not isinstance(checkpoint, dict) or not {"args", "model_state_dict"} <= checkpoint.keys():
        raise CheckpointError(f"{path}: expected a dict with 'args' and 'model_state_dict'")
    args = checkpoint["args"]
    _check_supported(path, args)
    net = NisqaNet(args)
    state = {}
    for key, value in checkpoint["model_state_dict"].items():
        if key.startswith("pool_layers."):
            index, rest = key[len("pool_layers.") :].split(".model.", 1)
            key = f"heads.{index}.{rest}"
        for old, new in _KEY_PREFIXES:
            if key.startswith(old):
                key = new + key[len(old) :]
                break
        state[key] = value
    try:
        net.load_state_dict(state)
    except RuntimeError as err:
        raise CheckpointError(f"{path}: weights do not fit the NISQA architecture in its args ({str(err).splitlines()[0]})") from None
    return net.eval()


class NISQAConfig(ComponentConfig):
    weights: Path | None = Field(None, description="official NISQA v2 checkpoint (nisqa.tar or nisqa_mos_only.tar)")
    output: Literal["mos", "noi", "dis", "col", "loud"] = "mos"
    chunk_seconds: float = Field(
        45.0,
        gt=1.0,
        description="longer signals are scored in equal chunks of at most this length, averaged (NISQA's model takes at most ~52 s)",
    )


class NISQA(Metric):
    """NISQA v2 no-reference quality (MOS or a dimension) of the estimate, official weights.

    The reference is not used (only shape-checked); mono mixdown at the native sample rate."""

    Config = NISQAConfig
    name = "nisqa"
    higher_is_better = True

    def __init__(self, config: NISQAConfig) -> None:
        if config.weights is None:
            raise CheckpointError("metric nisqa: params.weights is not set; give the path of the official NISQA v2 weights (nisqa.tar)")
        self.config = config
        self.net = load_nisqa(config.weights)
        if config.output not in self.net.outputs:
            raise CheckpointError(f"{config.weights}: this NISQA model predicts only {list(self.net.outputs)}, not {config.output!r}")
        self._features: dict[int, NisqaFeatures] = {}

    def predict(self, wav: Tensor, sample_rate: int) -> dict[str, float]:
        """wav ``[C, T]`` -> ``{output: score}`` for every head of the model."""
        if sample_rate not in self._features:
            self._features[sample_rate] = NisqaFeatures(sample_rate, self.net.args)
        features = self._features[sample_rate]
        mono = to_mono(wav.detach().to("cpu", torch.float32))
        chunks = torch.tensor_split(mono, max(1, math.ceil(mono.shape[-1] / (self.config.chunk_seconds * sample_rate))))
        with torch.inference_mode():
            scores = torch.stack([self.net(features(chunk)[None])[0] for chunk in chunks])
        weights = torch.tensor([chunk.shape[-1] for chunk in chunks], dtype=scores.dtype)
        mean = (scores * weights[:, None]).sum(0) / weights.sum()
        return dict(zip(self.net.outputs, mean.tolist()))

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference (unused, shape-checked), estimate ``[C, T]`` -> predicted score."""
        check_pair(self.name, reference, estimate)
        return self.predict(estimate, sample_rate)[self.config.output]
