"""Face boxes and 68 landmarks for every frame of a clip (dlib HOG detector + shape predictor).

Per frame (:func:`detect_face`):

1. the frame is scaled by :meth:`DetectorConfig.scale_for` (``detect_scale``, capped so the
   longer side is at most ``detect_max_side``): HOG cost grows with the pixel count, and faces in
   FER videos are large;
2. the rungs of a fallback *ladder* are tried in order until one finds a face: by default plain
   HOG, HOG on a 2x upsampled image (faces down to ~40 px), and HOG on the upsampled grey image
   after CLAHE (dark or low-contrast frames);
3. boxes scoring below ``threshold`` are dropped (a false positive on clothing or background
   typically scores below 0; frontal faces above 1); among the rest, the best-scoring box that
   overlaps the previous frame's box (IoU >= ``track_iou``) is kept, else the best-scoring box.

The 68 landmarks are predicted on the full-resolution frame inside the box mapped back to it.

Per clip (:func:`track_faces`): with ``detect_every=k`` the detector runs on every k-th frame;
in between, while a face is followed, the box is propagated from the
previous frame's landmarks and the predictor runs in it (flag ``FLAG_INTERPOLATED``). Without a
face to follow, frames between detection frames are not searched either, so long stretches
without a face cost 1/k too. Transitions are found to the frame by looking backwards: when a
detection frame finds no face, the propagated frames before it are checked with the detector until
one has a face (a face that left is not tracked into empty frames); when a detection frame finds
a face after frames without one, those are checked until one has none. The last frame is always
searched when no face is being followed.

A frame without a face takes the box and landmarks of the nearest frame that has one (ties: the
earlier frame) and is flagged ``FLAG_NO_FACE``; it is never dropped, so T in = T out. A clip
without any face raises :class:`NoFaceError`.

Boxes are ``(left, top, right, bottom)`` float pixels of the source frame with dlib's inclusive
convention; landmarks are ``(x, y)`` pixel centres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from ferlib.data.store import FLAG_INTERPOLATED, FLAG_NO_FACE
from ferlib.preprocess import dlib_models

DetectFn = Callable[[np.ndarray, "np.ndarray | None"], "tuple[np.ndarray, float] | None"]
PredictFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


class NoFaceError(RuntimeError):
    """No frame of a clip holds a face the detector accepts."""


@dataclass(frozen=True)
class Rung:
    """One step of the detection fallback ladder."""

    upsample: int = 0  #: dlib's pyramid upsampling (each step halves the smallest face found, x4 cost)
    clahe: bool = False  #: run on the grey image after contrast-limited adaptive histogram equalisation


DEFAULT_LADDER: tuple[Rung, ...] = (Rung(0), Rung(1), Rung(1, clahe=True))


@dataclass(frozen=True)
class DetectorConfig:
    """How faces are found. ``predictor``: path of a 68-point model (default: face-recognition-models)."""

    threshold: float = 0.0
    ladder: tuple[Rung, ...] = DEFAULT_LADDER
    detect_scale: float = 1.0
    detect_max_side: int | None = 640
    track_iou: float = 0.3
    clahe_clip: float = 2.0
    predictor: str | None = None

    def __post_init__(self) -> None:
        if not self.ladder:
            raise ValueError("the detection ladder needs at least one rung")
        if not math.isfinite(self.threshold):
            raise ValueError(f"threshold must be a finite detector score, got {self.threshold}")
        if not math.isfinite(self.detect_scale) or self.detect_scale <= 0:
            raise ValueError(f"detect_scale must be > 0, got {self.detect_scale}")
        if not 0 <= self.track_iou <= 1:
            raise ValueError(f"track_iou must be in [0, 1], got {self.track_iou}")
        if self.detect_max_side is not None and self.detect_max_side < 32:
            raise ValueError(f"detect_max_side must be >= 32 pixels or None, got {self.detect_max_side}")
        object.__setattr__(self, "ladder", tuple(r if isinstance(r, Rung) else Rung(*r) for r in self.ladder))

    def scale_for(self, height: int, width: int) -> float:
        """Factor applied to a ``height x width`` frame before detection."""
        scale = self.detect_scale
        if self.detect_max_side is not None:
            scale = min(scale, self.detect_max_side / max(height, width))
        return float(scale)


@dataclass
class ClipFaces:
    """Per-frame face geometry of one clip (T frames)."""

    boxes: np.ndarray  #: (T, 4) float32 left, top, right, bottom in source pixels
    landmarks: np.ndarray  #: (T, 68, 2) float32 (x, y) in source pixels
    flags: np.ndarray  #: (T,) uint8 FLAG_NO_FACE / FLAG_INTERPOLATED
    scores: np.ndarray  #: (T,) float32 detector score; NaN where the detector did not run or found nothing
    detector_calls: int = 0  #: frames on which the detector ran

    @property
    def n_no_face(self) -> int:
        return int(np.count_nonzero(self.flags & FLAG_NO_FACE))

    @property
    def n_interpolated(self) -> int:
        return int(np.count_nonzero(self.flags & FLAG_INTERPOLATED))


# -- geometry helpers --------------------------------------------------------------------------
def iou(boxes: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Intersection over union of boxes ``(N, 4)`` with one box ``(4,)``, as ``(N,)``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    box = np.asarray(box, dtype=np.float64)
    ix = np.clip(np.minimum(boxes[:, 2], box[2]) - np.maximum(boxes[:, 0], box[0]), 0, None)
    iy = np.clip(np.minimum(boxes[:, 3], box[3]) - np.maximum(boxes[:, 1], box[1]), 0, None)
    inter = ix * iy
    area = lambda b: np.clip(b[..., 2] - b[..., 0], 0, None) * np.clip(b[..., 3] - b[..., 1], 0, None)  # noqa: E731
    union = area(boxes) + area(box) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def choose_box(
    boxes: np.ndarray, scores: np.ndarray, threshold: float, prev_box: np.ndarray | None = None, track_iou: float = 0.3
) -> int | None:
    """Index of the box to keep among ``boxes (N, 4)`` with ``scores (N,)``, or None.

    Boxes below ``threshold`` are dropped. With ``prev_box``, the best-scoring box overlapping it
    by at least ``track_iou`` wins (temporal consistency beats a higher-scoring distractor);
    otherwise, or when none overlaps, the best-scoring box.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    keep = np.flatnonzero(scores >= threshold)
    if keep.size == 0:
        return None
    if prev_box is not None:
        near = keep[iou(np.asarray(boxes)[keep], prev_box) >= track_iou]
        if near.size:
            keep = near
    return int(keep[np.argmax(scores[keep])])


def landmark_box_relation(box: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
    """The box ``(4,)`` in coordinates of the landmarks' bounding box (0 = its left/top, 1 = right/bottom)."""
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    span = np.maximum(hi - lo, 1e-6)
    return np.array([(box[0] - lo[0]) / span[0], (box[1] - lo[1]) / span[1],
                     (box[2] - lo[0]) / span[0], (box[3] - lo[1]) / span[1]], dtype=np.float64)


def box_from_landmarks(landmarks: np.ndarray, relation: np.ndarray) -> np.ndarray:
    """A detector-like box ``(4,)`` for ``landmarks (68, 2)``, given :func:`landmark_box_relation`.

    The relation is measured at the last detection of the track, so a propagated box keeps the
    detector's framing of that face (the shape predictor expects boxes like the detector's).
    """
    lo, hi = landmarks.min(axis=0), landmarks.max(axis=0)
    span = hi - lo
    return np.array([lo[0] + relation[0] * span[0], lo[1] + relation[1] * span[1],
                     lo[0] + relation[2] * span[0], lo[1] + relation[3] * span[1]], dtype=np.float64)


def nearest_with_face(has_face: np.ndarray) -> np.ndarray:
    """For each frame the index of the nearest frame with a face (ties: the earlier one).

    ``has_face (T,)`` bool with at least one True; returns ``(T,)`` int.
    """
    has_face = np.asarray(has_face, dtype=bool)
    pos = np.flatnonzero(has_face)
    if pos.size == 0:
        raise ValueError("nearest_with_face needs at least one frame with a face")
    t = np.arange(has_face.size)
    right = np.clip(np.searchsorted(pos, t, side="left"), 0, pos.size - 1)
    left = np.clip(right - 1, 0, pos.size - 1)
    d_left, d_right = np.abs(t - pos[left]), np.abs(pos[right] - t)
    return np.where(d_left <= d_right, pos[left], pos[right])


def clahe_grey(image_rgb: np.ndarray, clip_limit: float = 2.0) -> np.ndarray:
    """Grey ``(H, W)`` uint8 version of an RGB image after CLAHE (8x8 tiles)."""
    grey = cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2GRAY)
    return cv2.createCLAHE(clipLimit=clip_limit, tileGridSize=(8, 8)).apply(grey)


# -- one frame ---------------------------------------------------------------------------------
def detect_candidates(image: np.ndarray, upsample: int, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """All dlib HOG boxes ``(N, 4)`` scoring at least ``threshold`` in an RGB or grey image, with scores ``(N,)``."""
    dets, scores, _ = dlib_models.load_detector().run(np.ascontiguousarray(image), int(upsample), float(threshold))
    boxes = np.array([(d.left(), d.top(), d.right(), d.bottom()) for d in dets], dtype=np.float64).reshape(-1, 4)
    return boxes, np.asarray(scores, dtype=np.float64).reshape(-1)


def detect_face(image_rgb: np.ndarray, config: DetectorConfig = DetectorConfig(), prev_box: np.ndarray | None = None
                ) -> tuple[np.ndarray, float] | None:
    """The face box ``(4,)`` in ``image_rgb`` pixels and its score, or None (see the module doc)."""
    h, w = image_rgb.shape[:2]
    scale = config.scale_for(h, w)
    small = image_rgb if scale == 1.0 else cv2.resize(
        image_rgb, (max(1, round(w * scale)), max(1, round(h * scale))),
        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    sx, sy = small.shape[1] / w, small.shape[0] / h
    prev_small = None if prev_box is None else np.asarray(prev_box) * [sx, sy, sx, sy]
    grey = None
    for rung in config.ladder:
        if rung.clahe and grey is None:
            grey = clahe_grey(small, config.clahe_clip)
        boxes, scores = detect_candidates(grey if rung.clahe else small, rung.upsample, config.threshold)
        k = choose_box(boxes, scores, config.threshold, prev_small, config.track_iou)
        if k is not None:
            box = boxes[k] / [sx, sy, sx, sy]
            return box, float(scores[k])
    return None


def predict_landmarks(image_rgb: np.ndarray, box: np.ndarray, predictor: str | None = None) -> np.ndarray:
    """68 landmarks ``(68, 2)`` float32 of the face in ``box`` (dlib shape predictor)."""
    return dlib_models.landmarks_in_box(image_rgb, tuple(int(round(v)) for v in box), predictor)


# -- one clip ----------------------------------------------------------------------------------
def track_faces(
    frames: np.ndarray,
    config: DetectorConfig = DetectorConfig(),
    detect_every: int = 1,
    source: str = "",
    detect: DetectFn | None = None,
    predict: PredictFn | None = None,
) -> ClipFaces:
    """Box, 68 landmarks and flags for every frame of ``frames (T, H, W, 3)`` uint8 RGB.

    ``detect(frame, prev_box) -> (box, score) | None`` and ``predict(frame, box) -> (68, 2)``
    default to dlib with ``config``; tests and other detectors may pass their own.
    Raises :class:`NoFaceError` naming ``source`` when no frame has a face.
    """
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
        raise ValueError(f"{source or 'clip'}: frames must be (T>0, H, W, 3), got {frames.shape}")
    if detect_every < 1:
        raise ValueError(f"detect_every must be >= 1, got {detect_every}")
    detect = detect or (lambda img, prev: detect_face(img, config, prev))
    predict = predict or (lambda img, box: predict_landmarks(img, box, config.predictor))

    t_total = frames.shape[0]
    boxes = np.zeros((t_total, 4), np.float64)
    landmarks = np.zeros((t_total, 68, 2), np.float32)
    flags = np.zeros(t_total, np.uint8)
    scores = np.full(t_total, np.nan, np.float32)
    has_face = np.zeros(t_total, bool)
    relation: np.ndarray | None = None
    calls = 0
    skipped = np.zeros(t_total, bool)  # frames left without detection while no face was tracked
    for t in range(t_total):
        prev_ok = t > 0 and has_face[t - 1]
        if t % detect_every != 0:
            if prev_ok and relation is not None:
                box = box_from_landmarks(landmarks[t - 1], relation)
                landmarks[t] = predict(frames[t], box)
                boxes[t], has_face[t], flags[t] = box, True, FLAG_INTERPOLATED
                continue
            if t != t_total - 1:  # no face to follow: wait for the next detection frame
                skipped[t] = True
                continue
        calls += 1
        found = detect(frames[t], boxes[t - 1] if prev_ok else None)
        if found is None:
            # The face was lost somewhere since the last detection: check the propagated frames
            # backwards with the detector, so frames after the face left are not kept as faces.
            back = t - 1
            while back >= 0 and flags[back] & FLAG_INTERPOLATED:
                calls += 1
                again = detect(frames[back], boxes[back - 1] if back > 0 and has_face[back - 1] else None)
                if again is not None:
                    boxes[back], scores[back] = again
                    landmarks[back] = predict(frames[back], np.asarray(again[0]))
                    flags[back] = 0
                    break
                has_face[back], flags[back] = False, 0
                back -= 1
            continue
        box, score = found
        boxes[t], scores[t], has_face[t] = box, score, True
        landmarks[t] = predict(frames[t], np.asarray(box))
        relation = landmark_box_relation(np.asarray(box, dtype=np.float64), landmarks[t])
        # A face found after skipped frames: look backwards for the frame where it appeared.
        back = t - 1
        while back >= 0 and skipped[back]:
            calls += 1
            again = detect(frames[back], boxes[back + 1])
            if again is None:
                break
            boxes[back], scores[back] = again
            landmarks[back] = predict(frames[back], np.asarray(again[0]))
            has_face[back], skipped[back] = True, False
            back -= 1

    if not has_face.any():
        raise NoFaceError(
            f"no face found in any of the {t_total} frames of {source or 'the clip'} "
            f"(detector threshold {config.threshold}; lower it or check the video)"
        )
    src = nearest_with_face(has_face)
    missing = ~has_face
    boxes[missing], landmarks[missing] = boxes[src[missing]], landmarks[src[missing]]
    flags[missing] = FLAG_NO_FACE
    return ClipFaces(boxes.astype(np.float32), landmarks, flags, scores, calls)

