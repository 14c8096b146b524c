"""Device names: auto picks what exists; a named device this machine lacks is a one-line error."""

import pytest
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.runtime.device import resolve_device


def test_auto_and_cpu_resolve_to_a_usable_device() -> None:
    assert resolve_device("cpu") == torch.device("cpu")
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "mps" if mps else "cpu")
    assert torch.zeros(1, device=resolve_device("auto")).numel() == 1


def test_a_missing_or_unknown_device_is_a_config_error() -> None:
    bad = ["gpu0", "cuda:99"] + ([] if torch.cuda.is_available() else ["cuda"])
    for name in bad:
        with pytest.raises(ConfigError, match=repr(name)):
            resolve_device(name)
