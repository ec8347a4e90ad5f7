"""ferlib.synth."""
