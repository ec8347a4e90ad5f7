"""ferlib.models."""
