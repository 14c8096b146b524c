"""tokensep's built-in token language models."""
