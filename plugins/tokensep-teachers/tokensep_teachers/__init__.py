"""tokensep plugin: HTDemucs and BS-RoFormer separators (teachers and baselines)."""
