"""The ``tokensep`` command line."""
