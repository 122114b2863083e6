"""Validation: the toy generator against Pythia 8 through the same detector, reconstruction and tagger."""
