"""Device selection."""

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` -> cuda if available, then mps, then cpu; any other name is passed to torch."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")
