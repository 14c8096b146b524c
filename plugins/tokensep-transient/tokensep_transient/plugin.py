"""The entry point tokensep loads (group ``tokensep``): registers the transient-aware codecs,
imported inside the hook: listing the commands imports no torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokensep_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tokensep_core.registry import ProviderRegistry


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    from tokensep_transient.dual_rate import DualRateHCodec
    from tokensep_transient.onset_tokens import OnsetTokenHCodec
    from tokensep_transient.transient_loss import TransientLossHCodec

    registry.add("codec", "hcodec_transient_loss", TransientLossHCodec)
    registry.add("codec", "hcodec_dual_rate", DualRateHCodec)
    registry.add("codec", "hcodec_onset_tokens", OnsetTokenHCodec)
