"""Alignment and cropping: from a face box and 68 landmarks to a square, eye-level face crop.

The crop of a frame is one similarity transform ``M (2, 3)`` (rotation, uniform scale,
translation) mapping source pixels ``p`` to crop pixels ``q = A p + b``:

* rotation: by ``-theta`` where ``theta`` is the angle of the line from the image-left eye centre
  (landmarks 36-41, the subject's right eye) to the image-right eye centre (42-47), so the eyes are
  level in the crop (``align=False`` keeps ``theta = 0``);
* face box: ``crop_box="union"`` (default) takes, in the eye-level frame, the union of the
  detector's box and the landmarks' bounding box, so the chin and jaw (often just below dlib's
  box) stay inside the crop and every landmark has pixels around it, which the landmark-guided
  models need; ``crop_box="detector"`` takes dlib's box alone, the literal reading of FAN;
* centre: the centre ``c`` of that face box;
* scale: the crop covers a square of side ``max(box w, box h) * (1 + extend)`` around ``c``.
  FAN (Meng et al., ICIP 2019, Sec. 4) "extend[s] the face bounding box with a ratio of 25 %"; the
  sentence does not say whether 25 % is added in total or on each side. ferlib reads it as the
  side growing by 25 % in total (``extend=0.25``, 12.5 % per side); the official FAN code used
  dlib face chips with padding 0.25 on each side, about ``extend=0.5`` here.

``A = s R(-theta)`` with ``s = crop_side / side`` and ``b = (crop_side - 1) / 2 - A c`` (OpenCV's
pixel-centre convention, the one ``cv2.warpAffine`` uses), so the same ``M`` moves pixels and
landmarks: ``landmarks_crop = transform_points(M, landmarks)``. Reducing by more than 2x first
warps to an integer multiple of the crop side and then averages blocks (``cv2.INTER_AREA``), which
avoids aliasing without changing the mapping.
"""

from __future__ import annotations

import cv2
import numpy as np

from ferlib.data.landmarks68 import REGIONS

IMAGE_LEFT_EYE = np.array(REGIONS["right_eye"])  #: subject's right eye, on the image's left
IMAGE_RIGHT_EYE = np.array(REGIONS["left_eye"])


def eye_centres(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(..., 2)`` of the image-left eye (36-41) and image-right eye (42-47) of ``(..., 68, 2)``."""
    landmarks = np.asarray(landmarks, dtype=np.float64)
    return landmarks[..., IMAGE_LEFT_EYE, :].mean(axis=-2), landmarks[..., IMAGE_RIGHT_EYE, :].mean(axis=-2)


def eye_angle(landmarks: np.ndarray) -> np.ndarray:
    """Angle ``(...)`` in radians of the eye line (image-left to image-right eye), y pointing down."""
    left, right = eye_centres(landmarks)
    d = right - left
    return np.arctan2(d[..., 1], d[..., 0])


def box_centre_side(boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(..., 2)`` and sides ``(...)`` (the longer of width and height) of inclusive boxes ``(..., 4)``."""
    boxes = np.asarray(boxes, dtype=np.float64)
    centre = np.stack([(boxes[..., 0] + boxes[..., 2]) / 2, (boxes[..., 1] + boxes[..., 3]) / 2], axis=-1)
    side = np.maximum(boxes[..., 2] - boxes[..., 0] + 1, boxes[..., 3] - boxes[..., 1] + 1)
    return centre, side


def union_box(centres: np.ndarray, sides: np.ndarray, angles: np.ndarray, landmarks: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray]:
    """Centres ``(T, 2)`` and sides ``(T,)`` of the square holding both the detector box (a square of
    side ``sides`` at ``centres``) and the landmarks ``(T, 68, 2)``, measured in the frame rotated by
    ``-angles`` (the crop's frame)."""
    cos, sin = np.cos(angles)[:, None], np.sin(angles)[:, None]
    d = np.asarray(landmarks, dtype=np.float64) - centres[:, None, :]
    u = cos * d[..., 0] + sin * d[..., 1]  # R(-theta) (p - c)
    v = -sin * d[..., 0] + cos * d[..., 1]
    half = sides / 2
    lo_u, hi_u = np.minimum(u.min(1), -half), np.maximum(u.max(1), half)
    lo_v, hi_v = np.minimum(v.min(1), -half), np.maximum(v.max(1), half)
    mu, mv = (lo_u + hi_u) / 2, (lo_v + hi_v) / 2
    shift = np.stack([cos[:, 0] * mu - sin[:, 0] * mv, sin[:, 0] * mu + cos[:, 0] * mv], axis=-1)  # R(theta) m
    return centres + shift, np.maximum(hi_u - lo_u, hi_v - lo_v)


def crop_transforms(centres: np.ndarray, sides: np.ndarray, angles: np.ndarray, crop_side: int) -> np.ndarray:
    """Similarity transforms ``(..., 2, 3)`` from source pixels to a ``crop_side x crop_side`` crop.

    ``centres (..., 2)``: crop centre in the source; ``sides (...)``: source extent of the crop;
    ``angles (...)``: rotation removed (radians). Implements ``q = s R(-theta) (p - c) + (crop_side - 1) / 2``.
    """
    centres = np.asarray(centres, dtype=np.float64)
    s = crop_side / np.asarray(sides, dtype=np.float64)
    cos, sin = np.cos(angles) * s, np.sin(angles) * s
    a = np.stack([np.stack([cos, sin], -1), np.stack([-sin, cos], -1)], -2)  # (..., 2, 2) = s R(-theta)
    b = (crop_side - 1) / 2 - np.einsum("...ij,...j->...i", a, centres)
    return np.concatenate([a, b[..., None]], axis=-1)


def transform_points(m: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply transforms ``(..., 2, 3)`` to points ``(..., N, 2)``; returns ``(..., N, 2)`` float32."""
    m = np.asarray(m, dtype=np.float64)
    points = np.asarray(points, dtype=np.float64)
    out = np.einsum("...ij,...nj->...ni", m[..., :2], points) + m[..., None, :, 2]
    return out.astype(np.float32)


def warp_crop(frame: np.ndarray, m: np.ndarray, crop_side: int, antialias: bool = True) -> np.ndarray:
    """The ``crop_side x crop_side`` crop of ``frame (H, W, C)`` under transform ``m (2, 3)``; outside is black."""
    scale = float(np.sqrt(abs(np.linalg.det(np.asarray(m)[:, :2]))))
    factor = int(min(8, np.floor(1.0 / scale))) if antialias and scale < 0.5 else 1
    if factor <= 1:
        return cv2.warpAffine(frame, m, (crop_side, crop_side), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    # q_big = f (q + 0.5) - 0.5: the crop at f times the crop side, then f x f block means.
    big = np.asarray(m, dtype=np.float64) * factor
    big[:, 2] += (factor - 1) / 2
    out = cv2.warpAffine(frame, big, (crop_side * factor, crop_side * factor), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_CONSTANT)
    return cv2.resize(out, (crop_side, crop_side), interpolation=cv2.INTER_AREA)


def crop_matrices(
    boxes: np.ndarray,
    landmarks: np.ndarray,
    crop_side: int = 112,
    extend: float = 0.25,
    align: bool = True,
    smooth: int = 1,
    crop_box: str = "union",
) -> np.ndarray:
    """The crop geometry of :func:`align_crop_clip`: transforms ``(T, 2, 3)`` from source pixels to
    each frame's ``crop_side x crop_side`` crop, from boxes ``(T, 4)`` and landmarks ``(T, 68, 2)`` in source
    pixels (see the module doc). The generated data set frames its faces with this same function."""
    if crop_side < 8:
        raise ValueError(f"crop_side must be >= 8 pixels, got {crop_side}")
    if extend <= -1:
        raise ValueError(f"extend must be > -1 (the crop side is box side * (1 + extend)), got {extend}")
    if smooth < 1:
        raise ValueError(f"smooth must be >= 1 frame, got {smooth}")
    if crop_box not in ("union", "detector"):
        raise ValueError(f"crop_box must be 'union' or 'detector', got {crop_box!r}")
    t = len(boxes)
    if np.shape(boxes) != (t, 4) or np.shape(landmarks) != (t, 68, 2):
        raise ValueError(f"expected boxes ({t}, 4) and landmarks ({t}, 68, 2), got {np.shape(boxes)} and {np.shape(landmarks)}")
    centres, sides = box_centre_side(boxes)
    angles = eye_angle(landmarks) if align else np.zeros(t)
    if crop_box == "union":
        centres, sides = union_box(centres, sides, angles, landmarks)
    sides = sides * (1.0 + extend)
    if smooth > 1:
        from scipy.ndimage import uniform_filter1d

        centres = uniform_filter1d(centres, smooth, axis=0, mode="nearest")
        sides = uniform_filter1d(sides, smooth, axis=0, mode="nearest")
        angles = uniform_filter1d(np.unwrap(angles), smooth, axis=0, mode="nearest")
    return crop_transforms(centres, sides, angles, crop_side)


def align_crop_clip(
    frames: np.ndarray,
    boxes: np.ndarray,
    landmarks: np.ndarray,
    crop_side: int = 112,
    extend: float = 0.25,
    align: bool = True,
    smooth: int = 1,
    antialias: bool = True,
    crop_box: str = "union",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Crop every frame of a clip around its face.

    frames ``(T, H, W, 3)`` uint8, boxes ``(T, 4)`` and landmarks ``(T, 68, 2)`` in source pixels.
    ``crop_box``: ``"union"`` or ``"detector"`` (see the module doc).
    ``smooth``: length of a moving average over frames applied to the crop centre, side and angle
    (1 = per-frame crops as in FAN; 3-5 removes detector jitter in videos).
    Returns crops ``(T, crop_side, crop_side, 3)`` uint8, landmarks in crop pixels ``(T, 68, 2)`` float32
    and the transforms ``(T, 2, 3)`` (:func:`crop_matrices`).
    """
    t = frames.shape[0]
    if boxes.shape != (t, 4) or landmarks.shape != (t, 68, 2):
        raise ValueError(f"expected boxes ({t}, 4) and landmarks ({t}, 68, 2), got {boxes.shape} and {landmarks.shape}")
    m = crop_matrices(boxes, landmarks, crop_side, extend, align, smooth, crop_box)
    crops = np.stack([warp_crop(frames[i], m[i], crop_side, antialias) for i in range(t)])
    return crops, transform_points(m, landmarks), m
