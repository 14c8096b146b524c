"""Example tokensep plugin: a mu-law sample codec, an STFT condition encoder and a loudness-envelope metric."""
