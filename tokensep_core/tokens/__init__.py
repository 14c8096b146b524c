"""From codec codes to LM sequences and back: codebook patterns, track orders, the token
layout that combines them, special ids, and the codebook embeddings/heads LMs and encoders share."""
