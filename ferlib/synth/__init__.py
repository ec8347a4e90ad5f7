"""The generated data set: faces deformed by action units along known intensity courses."""

from ferlib.synth.generate import SynthConfig, generate, generate_clip
from ferlib.synth.courses import COURSES, intensity_course

__all__ = ["COURSES", "SynthConfig", "generate", "generate_clip", "intensity_course"]
