"""Device selection."""

import torch

from tokensep_core.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> cuda if available, then mps, then cpu; any other name (``cpu``, ``cuda``,
    ``cuda:1``, ``mps``) must name a device this machine has, else a :class:`ConfigError`."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ConfigError(f"device {name!r}: not a device name (auto, cpu, cuda, cuda:N, mps)") from None
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ConfigError(f"device {name!r}: CUDA is not available on this machine")
        if device.index is not None and device.index >= count:
            raise ConfigError(f"device {name!r}: this machine has {count} CUDA device(s)")
    if device.type == "mps" and not _mps_available():
        raise ConfigError(f"device {name!r}: MPS is not available on this machine")
    return device


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return mps is not None and mps.is_available()
