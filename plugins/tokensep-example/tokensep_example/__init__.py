"""Example tokensep plugin: a mu-law sample codec and an STFT condition encoder."""
