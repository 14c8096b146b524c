"""The two deprecation warnings descript-audio-codec (``dac``) makes torch print, silenced where
tokensep imports ``dac`` or builds its modules, and nowhere else.

``dac.nn.layers`` calls ``torch.jit.script`` when imported and builds its convolutions with
``torch.nn.utils.weight_norm``; both print a FutureWarning a user of tokensep cannot act on
(``dac``'s checkpoints store the old ``weight_g``/``weight_v`` parameters, so the code cannot
switch to ``torch.nn.utils.parametrizations.weight_norm``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

DAC_DEPRECATIONS: tuple[str, ...] = (
    r"`torch\.jit\.script` is deprecated",
    r"`torch\.nn\.utils\.weight_norm` is deprecated",
)
"""Message patterns (matched at the start) of the FutureWarnings torch gives for dac."""


@contextmanager
def dac_deprecations_silenced() -> Iterator[None]:
    """Within the block, ignore exactly the FutureWarnings of :data:`DAC_DEPRECATIONS`; the
    filters in force before are restored after it, so other code still sees these warnings."""
    with warnings.catch_warnings():
        for pattern in DAC_DEPRECATIONS:
            warnings.filterwarnings("ignore", message=pattern, category=FutureWarning)
        yield
