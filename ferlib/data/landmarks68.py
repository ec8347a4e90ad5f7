"""Facts about the 68-point iBUG / dlib landmark scheme shared by the whole package.

Indices are 0-based: jaw 0–16, right brow 17–21, left brow 22–26 (subject's right is image
left), nose bridge 27–30, lower nose 31–35, right eye 36–41, left eye 42–47, outer lip 48–59,
inner lip 60–67.

:data:`MEAN_SHAPE` is a frontal neutral face in units of the outer inter-ocular distance
(``|p45 − p36| = 1``), origin midway between the outer eye corners, x to the right, y down. It
is the mirror-symmetrised mean of dlib's landmarks on the 20 neutral photos of the Face Research
Lab London Set subset (CC BY 4.0), each aligned by a similarity transform on points 36 and 45.
"""

from __future__ import annotations

import numpy as np

REGIONS: dict[str, tuple[int, ...]] = {
    "jaw": tuple(range(0, 17)),
    "right_brow": tuple(range(17, 22)),
    "left_brow": tuple(range(22, 27)),
    "nose_bridge": tuple(range(27, 31)),
    "nose_lower": tuple(range(31, 36)),
    "right_eye": tuple(range(36, 42)),
    "left_eye": tuple(range(42, 48)),
    "outer_lip": tuple(range(48, 60)),
    "inner_lip": tuple(range(60, 68)),
}

#: index of each landmark's mirror image under a horizontal flip
FLIP_INDEX: np.ndarray = np.array(
    list(range(16, -1, -1))
    + list(range(26, 16, -1))
    + [27, 28, 29, 30]
    + [35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46]
    + [39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48]
    + [59, 58, 57, 56, 55]
    + [64, 63, 62, 61, 60]
    + [67, 66, 65]
)

MEAN_SHAPE: np.ndarray = np.array(
    [[-0.805, 0.048], [-0.786, 0.259], [-0.753, 0.463], [-0.717, 0.668], [-0.658, 0.861], [-0.549, 1.027],
     [-0.395, 1.158], [-0.21, 1.252], [0.0, 1.281], [0.21, 1.252], [0.395, 1.158], [0.549, 1.027],
     [0.658, 0.861], [0.717, 0.668], [0.753, 0.463], [0.786, 0.259], [0.805, 0.048], [-0.676, -0.143],
     [-0.582, -0.256], [-0.435, -0.302], [-0.282, -0.286], [-0.139, -0.228], [0.139, -0.228], [0.282, -0.286],
     [0.435, -0.302], [0.582, -0.256], [0.676, -0.143], [0.0, -0.056], [0.0, 0.075], [0.0, 0.204],
     [0.0, 0.338], [-0.146, 0.456], [-0.076, 0.482], [0.0, 0.502], [0.076, 0.482], [0.146, 0.456],
     [-0.5, 0.0], [-0.413, -0.063], [-0.302, -0.062], [-0.206, 0.009], [-0.307, 0.037], [-0.418, 0.041],
     [0.206, 0.009], [0.302, -0.062], [0.413, -0.063], [0.5, 0.0], [0.418, 0.041], [0.307, 0.037],
     [-0.293, 0.746], [-0.178, 0.684], [-0.076, 0.65], [0.0, 0.67], [0.076, 0.65], [0.178, 0.684],
     [0.293, 0.746], [0.182, 0.812], [0.081, 0.84], [0.0, 0.846], [-0.081, 0.84], [-0.182, 0.812],
     [-0.24, 0.746], [-0.078, 0.73], [0.0, 0.736], [0.078, 0.73], [0.24, 0.746], [0.077, 0.732],
     [0.0, 0.741], [-0.077, 0.732]],
    dtype=np.float32,
)
MEAN_SHAPE.setflags(write=False)


def flip_landmarks(landmarks: np.ndarray, width: float) -> np.ndarray:
    """Landmarks ``(..., 68, 2)`` of a horizontally flipped image of the given pixel width.

    x becomes ``width − 1 − x`` and the points are re-indexed so that index 36 is still the
    subject's right outer eye corner.
    """
    out = np.array(landmarks, dtype=np.float32, copy=True)
    out[..., 0] = (width - 1) - out[..., 0]
    return out[..., FLIP_INDEX, :]


def inter_ocular(landmarks: np.ndarray) -> np.ndarray:
    """Outer inter-ocular distance ``|p45 − p36|`` of landmarks ``(..., 68, 2)``."""
    return np.linalg.norm(landmarks[..., 45, :] - landmarks[..., 36, :], axis=-1)
