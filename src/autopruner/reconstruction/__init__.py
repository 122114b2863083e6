"""Stage 2, reconstruction: trimmed large-R jets, VR track jets, substructure, b-tagging and the 39 features."""
