"""ferlib.preprocess."""
