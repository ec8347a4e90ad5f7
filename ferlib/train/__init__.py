"""ferlib.train."""
