"""The London Set's clips: photo pairs → neutral → smile morph clips in a clip store.

The Face Research Lab London Set (:mod:`ferlib.data.adapters.london`) holds photos, not videos;
:func:`build_london_store` turns each person into two clips with known per-frame intensity s:

* ``happy``: s follows an intensity course of :mod:`ferlib.synth.courses` (``lab``: neutral →
  apex, held; ``lab-return``: neutral → apex → neutral). Frame t shows the morph at s = s_t:
  target landmarks L = (1 − s)·L_neutral + s·L_smile; both photos are warped to L with
  :func:`ferlib.synth.warp.piecewise_affine_warp` and cross-dissolved with weight s.
* ``neutral``: s = 0 throughout (the neutral photo).

Both classes get the same small random similarity per frame (rotation, scale, shift; the same for
pixels and landmarks), so a neutral clip is not trivially static and motion alone does not give the
class away. Before morphing, the smiling photo is aligned onto the neutral one by a similarity
fitted on rigid landmarks (outer jaw ends, nose bridge, eye corners) so that the morph moves the
expression rather than the head (``align_pair``). The crop is FAN's: the neutral photo's dlib box
grown by 25 % of its side on every side, square.

It sits in :mod:`ferlib.synth` (not :mod:`ferlib.data` or :mod:`ferlib.preprocess`) because it makes
clips with the photo warping of :mod:`ferlib.synth`: data sets are indexed in ``data``, faces found
in ``preprocess``, clips generated in ``synth``.
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from ferlib.data.adapters.london import ADAPTER, LONDON_CLASSES, london_index
from ferlib.data.store import ClipStore
from ferlib.progress import progress_iter
from ferlib.synth.photo import (
    RIGID_POINTS,
    FacePhoto,
    Landmarker,
    compose,
    dlib_landmarker,
    downscale_points,
    face_crop_matrix,
    load_face_photo,
    pair_alignment,
    similarity_jitter,
    transform_points,
)
from ferlib.synth.courses import COURSES, intensity_course
from ferlib.synth.warp import piecewise_affine_warp

__all__ = ["RIGID_POINTS", "build_london_store", "morph_clip", "pair_alignment"]

# -- morphing -------------------------------------------------------------------------------------
def morph_clip(
    neutral: FacePhoto,
    smile: FacePhoto | None,
    intensity: np.ndarray,
    side: int,
    rng: np.random.Generator,
    box_extend: float = 0.25,
    supersample: int = 2,
    jitter: tuple[float, float, float] = (1.5, 0.015, 0.015),
    align_pair: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Frames ``(T, side, side, 3)`` uint8 and landmarks ``(T, 68, 2)`` float32 of the neutral → smile morph.

    ``intensity`` ``(T,)``: the morph weight s per frame (0 = the neutral photo; ``smile`` may be
    ``None`` only when every s is 0). Per frame: a random similarity (``jitter`` = rotation in
    degrees, relative scale, shift as a fraction of the side) moves the crop of both photos alike;
    targets L = (1 − s)·L_n + s·L_s; frame = (1 − s)·warp(neutral, L_n → L) + s·warp(smile, L_s → L).
    """
    intensity = np.asarray(intensity, dtype=np.float64)
    if intensity.ndim != 1 or len(intensity) == 0 or not np.isfinite(intensity).all():
        raise ValueError(f"intensity must be a finite 1-D array (T,), got shape {intensity.shape}")
    if smile is None and np.any(intensity != 0):
        raise ValueError("a smiling photo is needed for frames with intensity > 0")
    work = side * supersample
    crop = face_crop_matrix(neutral.box, work, box_extend)
    to_neutral = pair_alignment(neutral.landmarks, smile.landmarks) if (smile is not None and align_pair) else np.eye(3)
    frames = np.empty((len(intensity), side, side, 3), np.uint8)
    landmarks = np.empty((len(intensity), 68, 2), np.float32)
    for t, s in enumerate(intensity):  # rendering: one morph per frame
        m_n = compose(similarity_jitter(rng, work, *jitter), crop)
        img_n = cv2.warpAffine(neutral.image, m_n, (work, work), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        lm_n = transform_points(m_n, neutral.landmarks)
        if s == 0:
            frame, target = img_n, lm_n
        else:
            assert smile is not None
            m_s = compose(m_n, to_neutral)
            img_s = cv2.warpAffine(smile.image, m_s, (work, work), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            lm_s = transform_points(m_s, smile.landmarks)
            target = ((1 - s) * lm_n + s * lm_s).astype(np.float32)
            a = piecewise_affine_warp(img_n, lm_n, target).astype(np.float32)
            b = piecewise_affine_warp(img_s, lm_s, target).astype(np.float32)
            frame = np.clip(np.round((1 - s) * a + s * b), 0, 255).astype(np.uint8)
        frames[t] = frame if supersample == 1 else cv2.resize(frame, (side, side), interpolation=cv2.INTER_AREA)
        landmarks[t] = downscale_points(target, supersample)
    return frames, landmarks


# -- the store ------------------------------------------------------------------------------------
def _clip_rng(seed: int, subject: str, label: int) -> np.random.Generator:
    """A generator per clip, independent of the order clips are made in (so a resumed run matches)."""
    return np.random.default_rng([int(seed), zlib.crc32(subject.encode()), int(label)])


def build_london_store(
    photos_root: str | Path | Sequence[str | Path],
    store_dir: str | Path,
    n_frames: int = 16,
    side: int = 64,
    course: str = "lab",
    seed: int = 0,
    *,
    subjects: list[str] | None = None,
    box_extend: float = 0.25,
    supersample: int = 2,
    jitter: tuple[float, float, float] = (1.5, 0.015, 0.015),
    align_pair: bool = True,
    landmarker: Landmarker | None = None,
    progress: bool = True,
) -> ClipStore:
    """Render the London-set clips (see the module docstring) into a clip store at ``store_dir``.

    ``course``: the happy clips' intensity course (``lab`` or ``lab-return``; ``wild`` works too).
    ``subjects``: restrict to these face ids. Clips already in the store are skipped (resume); a
    photo without a detectable face is recorded in the store's ``failures.csv`` and the other
    clips go on (the file is rewritten from the store at the end: one line a clip not stored).
    Deterministic from ``seed``.
    """
    if course not in COURSES:
        raise ValueError(f"unknown intensity course {course!r}; expected one of {COURSES}")
    if not isinstance(n_frames, (int, np.integer)) or n_frames < 2:
        raise ValueError(f"n_frames must be an integer >= 2, got {n_frames!r}")
    index = london_index(photos_root)
    df = index.df
    if subjects is not None:
        wanted = {str(s) for s in subjects}
        missing = sorted(wanted - set(df["subject"]))
        if missing:
            raise ValueError(f"face ids {missing} are not in the London set under {photos_root}")
        df = df[df["subject"].isin(wanted)]
    store = ClipStore.create(store_dir, "london", LONDON_CLASSES, ADAPTER.protocol)
    store.remove_stale_tmp()
    todo = df[[not store.has(c) for c in df["clip_id"]]]
    landmarker = landmarker or dlib_landmarker()
    work = side * supersample
    cache: dict[str, FacePhoto | Exception] = {}

    def photo(path: str) -> FacePhoto:
        if path not in cache:
            try:
                cache[path] = load_face_photo(path, work, box_extend, landmarker)
            except (ValueError, OSError) as exc:  # no face, unreadable file
                cache[path] = exc
        got = cache[path]
        if isinstance(got, Exception):
            raise got
        return got

    for row in progress_iter(todo.to_dict("records"), desc=f"London set -> {store.root}", enabled=progress):
        rng = _clip_rng(seed, row["subject"], row["label"])
        happy = row["label_name"] == "happy"
        intensity = intensity_course(course, int(n_frames), rng) if happy else np.zeros(int(n_frames), np.float32)
        try:
            neutral = photo(row["neutral_photo"])
            smile = photo(row["smile_photo"]) if happy else None
        except (ValueError, OSError) as exc:
            store.record_failure(row["clip_id"], row["source"], str(exc))
            continue
        frames, landmarks = morph_clip(neutral, smile, intensity, side, rng, box_extend, supersample, jitter, align_pair)
        store.write({**row, "course": course if happy else "static", "seed": int(seed)}, frames, landmarks, intensity=intensity)
    store.settle_failures()
    return store
