"""tokensep's built-in condition encoders: mixture -> LM prefix embeddings."""
