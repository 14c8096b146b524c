"""The shared trainer used by every trainable component."""
