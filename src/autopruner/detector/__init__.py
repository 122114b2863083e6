"""Stage 1b, the ATLAS-like detector: tracks with impact parameters and calorimeter towers from a particle table."""
