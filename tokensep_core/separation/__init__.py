"""Mixture -> stems: the pipeline of components, the generative separator, its training task,
baseline separators and pseudo-labelling with a teacher."""
