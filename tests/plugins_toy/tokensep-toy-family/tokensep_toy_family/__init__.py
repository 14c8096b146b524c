"""A third LM family for tests: a frame classifier that predicts every code of every stem in one
forward pass (tests/separation/test_lm_family_plugin.py installs it as a real distribution)."""
