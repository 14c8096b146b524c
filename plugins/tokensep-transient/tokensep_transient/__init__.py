"""Transient-aware HCodec variants for drums (issue 7): see this package's README."""
