"""ferlib.viz."""
