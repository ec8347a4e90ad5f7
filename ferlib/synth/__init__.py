"""The generated data set: faces deformed by action units along known intensity profiles."""

from ferlib.synth.generate import SynthConfig, generate, generate_clip
from ferlib.synth.profiles import PROFILES, intensity_profile

__all__ = ["PROFILES", "SynthConfig", "generate", "generate_clip", "intensity_profile"]
