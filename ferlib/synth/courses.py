"""Per-frame intensity courses of the generated clips.

* ``lab`` — neutral → apex and held, like CK+ and Oulu-CASIA sequences (which end at the apex).
* ``lab-return`` — neutral → apex → neutral, like MMI.
* ``wild`` — a peak at a random position with random width and amplitude, a small baseline and
  jitter, like in-the-wild clips (DFEW, AFEW); the generator adds distractors, occlusion, pose
  and illumination changes on top.

Every course returns intensity ``(T,)`` in [0, 1]; it is the ground truth stored with the clip.
"""

from __future__ import annotations

import numpy as np

COURSES = ("lab", "lab-return", "wild")


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def intensity_course(course: str, n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Intensity ``(n_frames,)`` in [0, 1] for one clip of the given course."""
    if course not in COURSES:
        raise ValueError(f"unknown intensity course {course!r}; expected one of {COURSES}")
    if not isinstance(n_frames, (int, np.integer)) or n_frames < 2:
        raise ValueError(f"n_frames must be an integer >= 2, got {n_frames!r}")
    t = np.arange(n_frames, dtype=np.float64) / (n_frames - 1)
    amp = rng.uniform(0.8, 1.0)
    if course == "lab":
        onset = rng.uniform(0.05, 0.3)
        apex = rng.uniform(0.75, 1.0)
        y = amp * _smoothstep((t - onset) / (apex - onset))
    elif course == "lab-return":
        onset = rng.uniform(0.0, 0.15)
        apex = rng.uniform(0.4, 0.6)
        hold = rng.uniform(0.0, 0.1)
        offset = rng.uniform(0.85, 1.0)
        rise = _smoothstep((t - onset) / (apex - onset))
        fall = 1 - _smoothstep((t - apex - hold) / (offset - apex - hold))
        y = amp * np.minimum(rise, fall)
    else:
        amp = rng.uniform(0.55, 1.0)
        peak = rng.uniform(0.15, 0.85)
        width = rng.uniform(0.12, 0.35)
        base = rng.uniform(0.0, 0.1)
        y = base + (amp - base) * np.exp(-0.5 * ((t - peak) / width) ** 2)
        y = y + rng.normal(0, 0.03, n_frames)
    return np.clip(y, 0.0, 1.0).astype(np.float32)
