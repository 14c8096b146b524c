"""tokensep's built-in codecs: waveform ⇄ discrete tokens."""
