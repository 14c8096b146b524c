"""LM families: how each one teaches (objective) and generates (sampling, autoregressive and
masked parallel decoding), looked up through the registry's ``lm`` entries."""
