"""Facial action units as landmark displacements, and the 7 basic expressions as AU prototypes.

Each action unit (FACS) is a displacement field on the 68 iBUG landmarks at full intensity, in
units of the outer inter-ocular distance (IOD), x to the right, y down (see
:mod:`ferlib.data.landmarks68`). Lateral motion is written as *outward* (away from the face's
midline) so that one entry serves both sides. The magnitudes are hand-set to read clearly at a
64-pixel face; they are a generator's choice, not measurements.

Expressions follow the EMFACS prototypes named in the design: happy AU6+12; sad 1+4+15;
surprise 1+2+5+26; fear 1+2+4+5+7+20+26; anger 4+5+7+23; disgust 9+15+16; contempt unilateral
12+14 (on the subject's left side, image right).
"""

from __future__ import annotations

import numpy as np

from ferlib.data.labels import BASIC7, NEUTRAL, canonical_class
from ferlib.data.landmarks68 import MEAN_SHAPE

# AU -> list of (landmark indices, outward dx, dy) at intensity 1, in IOD units
_AU_TABLE: dict[int, list[tuple[tuple[int, ...], float, float]]] = {
    1: [((21, 22), 0.0, -0.13), ((20, 23), 0.0, -0.09), ((19, 24), 0.0, -0.04)],
    2: [((17, 26), 0.0, -0.10), ((18, 25), 0.0, -0.11), ((19, 24), 0.0, -0.07), ((20, 23), 0.0, -0.03)],
    4: [((21, 22), -0.06, 0.08), ((20, 23), -0.04, 0.07), ((19, 24), -0.02, 0.05), ((17, 18, 25, 26), 0.0, 0.03),
        ((37, 38, 43, 44), 0.0, 0.015)],
    5: [((37, 38, 43, 44), 0.0, -0.05)],
    6: [((40, 41, 46, 47), 0.0, -0.035), ((36, 45), 0.0, -0.01), ((1, 2, 14, 15), 0.0, -0.02)],
    7: [((40, 41, 46, 47), 0.0, -0.03), ((37, 38, 43, 44), 0.0, 0.02)],
    9: [((31, 35), 0.0, -0.05), ((32, 34), 0.0, -0.04), ((33,), 0.0, -0.035), ((29,), 0.0, -0.02),
        ((49, 50, 52, 53), 0.0, -0.04), ((51,), 0.0, -0.04), ((61, 62, 63), 0.0, -0.03),
        ((21, 22), -0.02, 0.04), ((20, 23), -0.01, 0.03)],
    12: [((48, 54), 0.09, -0.09), ((60, 64), 0.08, -0.08), ((49, 53), 0.04, -0.05), ((59, 55), 0.04, -0.05),
         ((61, 63, 67, 65), 0.02, -0.03), ((50, 52), 0.01, -0.02), ((2, 3, 13, 14), 0.01, -0.01)],
    14: [((48, 54), 0.03, 0.0), ((60, 64), 0.03, 0.0), ((49, 53, 59, 55), 0.01, 0.0)],
    15: [((48, 54), 0.01, 0.08), ((60, 64), 0.01, 0.07), ((59, 55), 0.0, 0.04), ((49, 53), 0.0, 0.03)],
    16: [((55, 59), 0.0, 0.05), ((56, 58), 0.0, 0.06), ((57,), 0.0, 0.07), ((65, 67), 0.0, 0.06), ((66,), 0.0, 0.065)],
    20: [((48, 54), 0.10, 0.02), ((60, 64), 0.09, 0.02), ((49, 53, 59, 55), 0.05, 0.01), ((61, 63, 65, 67), 0.03, 0.0)],
    # AU25 (lips part): the inner lips separate, the lower lip drops a little; not in any prototype,
    # the photo renderer adds it to strong smiles so their teeth show (ferlib.synth.photo)
    25: [((61, 62, 63), 0.0, -0.025), ((65, 67), 0.0, 0.05), ((66,), 0.0, 0.06), ((56, 58), 0.0, 0.03), ((57,), 0.0, 0.035),
         ((55, 59), 0.0, 0.015), ((8,), 0.0, 0.02), ((7, 9), 0.0, 0.015)],
    23: [((48, 54), -0.04, 0.0), ((60, 64), -0.04, 0.0), ((49, 50, 51, 52, 53), 0.0, 0.02),
         ((55, 56, 57, 58, 59), 0.0, -0.02)],
    26: [((55, 59), 0.0, 0.26), ((56, 58), 0.0, 0.29), ((57,), 0.0, 0.30), ((65, 67), 0.0, 0.25), ((66,), 0.0, 0.27),
         ((60, 64), 0.0, 0.05), ((48, 54), -0.01, 0.06), ((61, 62, 63), 0.0, -0.01),
         ((8,), 0.0, 0.30), ((7, 9), 0.0, 0.27), ((6, 10), 0.0, 0.22), ((5, 11), 0.0, 0.15), ((4, 12), 0.0, 0.09),
         ((3, 13), 0.0, 0.04)],
}

#: class -> {AU: weight}; contempt's AUs act on one side only (see _UNILATERAL)
CLASS_AUS: dict[str, dict[int, float]] = {
    "happy": {6: 1.0, 12: 1.0},
    "sad": {1: 1.0, 4: 0.6, 15: 1.0},
    "surprise": {1: 1.0, 2: 1.0, 5: 1.0, 26: 1.0},
    "fear": {1: 1.0, 2: 0.8, 4: 0.7, 5: 1.0, 7: 0.5, 20: 1.0, 26: 0.5},
    "anger": {4: 1.0, 5: 0.6, 7: 1.0, 23: 1.0},
    "disgust": {9: 1.0, 15: 0.8, 16: 0.8},
    "contempt": {12: 0.9, 14: 1.0},
    NEUTRAL: {},
}
_UNILATERAL = {"contempt": "left"}  # the subject's left side: x > 0 in MEAN_SHAPE

ACTION_UNITS: tuple[int, ...] = tuple(sorted(_AU_TABLE))


def au_offsets(au: int, side: str = "both") -> np.ndarray:
    """Displacement ``(68, 2)`` (IOD units) of action unit ``au`` at full intensity.

    ``side``: ``"both"``, ``"left"`` (subject's left, x > 0) or ``"right"``.
    """
    if au not in _AU_TABLE:
        raise ValueError(f"unknown action unit {au!r}; expected one of {ACTION_UNITS}")
    if side not in ("both", "left", "right"):
        raise ValueError(f"side must be 'both', 'left' or 'right', got {side!r}")
    out = np.zeros((68, 2), np.float32)
    for idx, dx, dy in _AU_TABLE[au]:
        idx_arr = np.array(idx)
        sign = np.sign(MEAN_SHAPE[idx_arr, 0])
        keep = {"both": np.ones_like(sign, bool), "left": sign >= 0, "right": sign <= 0}[side]
        out[idx_arr[keep], 0] += dx * sign[keep]
        out[idx_arr[keep], 1] += dy
    return out


def class_aus(class_name: str) -> dict[int, float]:
    """The AU prototype ``{AU: weight}`` of a class (any accepted spelling)."""
    canon = canonical_class(class_name)
    if canon not in CLASS_AUS:
        raise ValueError(f"the generator has no expression for class {class_name!r}; expected one of {(*BASIC7, NEUTRAL)}")
    return CLASS_AUS[canon]


def expression_offsets(class_name: str, intensity: float | np.ndarray) -> np.ndarray:
    """Landmark displacement of an expression at the given intensity.

    ``intensity`` is a scalar or an array ``(T,)`` in [0, 1]; returns ``(68, 2)`` or ``(T, 68, 2)``
    in IOD units. Displacement is linear in intensity: ``Σ_au w_au · intensity · D_au``.
    """
    canon = canonical_class(class_name)
    side = _UNILATERAL.get(canon, "both")
    field = np.zeros((68, 2), np.float32)
    for au, w in class_aus(canon).items():
        field += w * au_offsets(au, side)
    inten = np.asarray(intensity, dtype=np.float32)
    return inten[..., None, None] * field


def au_activations(class_name: str, intensity: float | np.ndarray) -> dict[int, np.ndarray]:
    """Per-AU activation ``w_au · intensity`` (shape of ``intensity``), for appearance cues."""
    inten = np.asarray(intensity, dtype=np.float32)
    return {au: w * inten for au, w in class_aus(class_name).items()}
