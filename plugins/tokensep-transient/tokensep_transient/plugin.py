"""The entry point tokensep loads (group ``tokensep``): registers the transient-aware codecs."""

from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry
from tokensep_transient.dual_rate import DualRateHCodec
from tokensep_transient.onset_tokens import OnsetTokenHCodec
from tokensep_transient.transient_loss import TransientLossHCodec


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    registry.add("codec", "hcodec_transient_loss", TransientLossHCodec)
    registry.add("codec", "hcodec_dual_rate", DualRateHCodec)
    registry.add("codec", "hcodec_onset_tokens", OnsetTokenHCodec)
