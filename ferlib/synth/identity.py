"""Synthetic identities: face shape, size, colours and pose habits of one generated subject.

An :class:`Identity` is drawn from ``np.random.default_rng([seed, subject])`` so that the same
seed and subject number always give the same person, whatever else is generated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferlib.data.landmarks68 import MEAN_SHAPE

#: skin tones (RGB) spanning light to dark; an identity mixes two neighbours
SKIN_TONES = np.array(
    [[255, 224, 196], [241, 194, 160], [224, 172, 130], [198, 134, 90], [161, 102, 62], [120, 74, 44], [86, 54, 34]],
    dtype=np.float32,
)
HAIR_COLOURS = np.array([[30, 24, 20], [70, 45, 25], [120, 85, 50], [190, 160, 110], [110, 110, 110], [20, 20, 25]], np.float32)


@dataclass(frozen=True)
class Identity:
    """One synthetic person. ``shape`` is the neutral 68-point face in IOD units (see landmarks68)."""

    subject: int
    shape: np.ndarray  # (68, 2)
    skin: np.ndarray  # (3,) RGB 0..255
    hair: np.ndarray  # (3,)
    lips: np.ndarray  # (3,)
    iris: np.ndarray  # (3,)
    background: np.ndarray  # (2, 3) two colours of a vertical gradient
    iod_fraction: float  # inter-ocular distance as a fraction of the frame side
    hair_volume: float  # how far the hair extends above the brows (IOD units)


def _deform_shape(rng: np.random.Generator) -> np.ndarray:
    s = MEAN_SHAPE.astype(np.float64).copy()
    jaw = np.arange(0, 17)
    s[jaw, 0] *= rng.uniform(0.88, 1.12)  # face width
    s[jaw, 1] = s[jaw, 1] * rng.uniform(0.9, 1.1)  # face length
    s[17:27, 1] += rng.uniform(-0.05, 0.05)  # brow height
    nose = np.arange(27, 36)
    s[nose, 1] = s[27, 1] + (s[nose, 1] - s[27, 1]) * rng.uniform(0.9, 1.12)  # nose length
    mouth = np.arange(48, 68)
    centre = s[mouth].mean(0)
    s[mouth, 0] = centre[0] + (s[mouth, 0] - centre[0]) * rng.uniform(0.85, 1.15)  # mouth width
    s[mouth, 1] += rng.uniform(-0.04, 0.04)
    for eye in (np.arange(36, 42), np.arange(42, 48)):
        c = s[eye].mean(0)
        s[eye, 1] = c[1] + (s[eye, 1] - c[1]) * rng.uniform(0.8, 1.25)  # eye openness
    s += rng.normal(0, 0.008, size=s.shape)
    return s.astype(np.float32)


def make_identity(seed: int, subject: int) -> Identity:
    """The subject-th person of a generator seeded with ``seed``."""
    rng = np.random.default_rng([int(seed), int(subject), 101])
    i = rng.integers(0, len(SKIN_TONES) - 1)
    w = rng.uniform()
    skin = (1 - w) * SKIN_TONES[i] + w * SKIN_TONES[i + 1]
    lips = skin * np.array([0.82, 0.55, 0.55]) + rng.uniform(-8, 8, 3)
    bg_a = rng.uniform(40, 220, 3)
    bg_b = np.clip(bg_a + rng.uniform(-60, 60, 3), 0, 255)
    return Identity(
        subject=int(subject),
        shape=_deform_shape(rng),
        skin=skin.astype(np.float32),
        hair=HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))] + rng.uniform(-10, 10, 3).astype(np.float32),
        lips=np.clip(lips, 0, 255).astype(np.float32),
        iris=np.array(rng.choice([[60, 40, 25], [90, 120, 160], [80, 100, 60], [40, 30, 20]]), np.float32),
        background=np.stack([bg_a, bg_b]).astype(np.float32),
        iod_fraction=float(rng.uniform(0.31, 0.37)),
        hair_volume=float(rng.uniform(0.45, 0.75)),
    )
