"""Generated faces framed exactly as preprocessing frames a real face.

Real clips reach the models through :mod:`ferlib.preprocess`: per frame, the square holding dlib's
box and the 68 landmarks (``crop_box="union"``) grown by ``extend`` (25 %), rotated so the eyes
are level (:func:`ferlib.preprocess.align.crop_matrices`). The generated data set calls that same
function, so a generated face fills its frame as a preprocessed real face does (inter-ocular
distance / frame width, eye height, how much jaw and forehead show):

* the photo renderer gives it dlib's box on the neutral photo (found by the preprocessing's own
  detector, :func:`ferlib.preprocess.face.detect_face`) and each frame's target landmarks;
* the procedural renderer has no detector box (dlib does not run on a cartoon): it estimates one
  from the frame's *neutral* landmarks (the face without its expression, under the same head pose)
  by :data:`DETECTOR_BOX_RELATION`, where dlib's box lies relative to the landmarks' bounding box,
  measured on the 20 neutral photos of the London-set subset.

The settings are those of :class:`ferlib.preprocess.pipeline.PreprocessConfig` (``extend``,
``align``, ``crop_box``); per-frame crops (``smooth = 1``, the preprocessing default), so a
dropping jaw widens the union box and the face gets smaller in the frame, as it does in
preprocessed real video.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferlib.preprocess.align import crop_matrices
from ferlib.preprocess.face import box_from_landmarks

__all__ = ["DETECTOR_BOX_RELATION", "Framing", "detector_boxes"]

#: dlib's box (left, top, right, bottom) in units of the landmarks' bounding box (0 = its left/top
#: edge, 1 = its right/bottom edge; :func:`ferlib.preprocess.face.landmark_box_relation`): mean over
#: the 20 neutral London-set photos (std 0.04-0.05 per side) with the preprocessing's detector.
DETECTOR_BOX_RELATION: np.ndarray = np.array([-0.001, -0.096, 1.036, 0.946])

_CROP_BOXES = ("union", "detector")


def detector_boxes(landmarks: np.ndarray, relation: np.ndarray = DETECTOR_BOX_RELATION) -> np.ndarray:
    """Detector-like boxes ``(T, 4)`` for neutral landmarks ``(T, 68, 2)`` (see the module doc)."""
    lm = np.asarray(landmarks, dtype=np.float64)
    return np.stack([box_from_landmarks(p, relation) for p in lm.reshape(-1, 68, 2)])


@dataclass(frozen=True)
class Framing:
    """The preprocessing crop settings a generated clip is framed with (defaults: the preprocessing's)."""

    extend: float = 0.25
    align: bool = True
    crop_box: str = "union"

    def __post_init__(self) -> None:
        if self.crop_box not in _CROP_BOXES:
            raise ValueError(f"crop_box must be one of {_CROP_BOXES}, got {self.crop_box!r}")
        if not self.extend > -1:
            raise ValueError(f"extend must be > -1 (the crop side is box side x (1 + extend)), got {self.extend}")

    def matrices(self, boxes: np.ndarray, landmarks: np.ndarray, side: int) -> np.ndarray:
        """Transforms ``(T, 2, 3)`` from source pixels to each frame's ``side`` x ``side`` crop, for
        boxes ``(T, 4)`` and landmarks ``(T, 68, 2)``: :func:`ferlib.preprocess.align.crop_matrices`."""
        return crop_matrices(np.asarray(boxes, np.float64), np.asarray(landmarks, np.float64), int(side),
                             self.extend, self.align, 1, self.crop_box)
