"""Videos to run the preprocessing on when no licensed data set is at hand (notebook 01, tests).

:func:`make_demo_videos` writes generated clips as an AFEW-style copy
(``Train_AFEW|Val_AFEW/<Emotion>/<clip>.avi``, MJPG-compressed; :mod:`ferlib.synth.export`) with
their ground truth kept aside in a clip store, plus a corrupt file (:data:`CORRUPT_VIDEO`) and a valid video without a face
(:data:`NO_FACE_VIDEO`, :func:`write_no_face_video`), so that the failures report is never empty.
The AFEW adapter then indexes the copy exactly as a real one. It sits in :mod:`ferlib.synth` (it
generates clips), one layer above the :mod:`ferlib.preprocess` it feeds.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from ferlib.data.store import ClipStore
from ferlib.synth.export import AFEW_FOLDERS, export_layout
from ferlib.synth.generate import SynthConfig, generate

__all__ = ["CORRUPT_VIDEO", "NO_FACE_VIDEO", "write_no_face_video", "make_demo_videos"]

#: file names (inside the AFEW-style copy) of the two bad videos :func:`make_demo_videos` adds
CORRUPT_VIDEO = Path("Train_AFEW") / "Happy" / "corrupt_video.avi"
NO_FACE_VIDEO = Path("Train_AFEW") / "Neutral" / "no_face_video.avi"


def write_no_face_video(path: str | Path, n_frames: int = 8, side: int = 128, fps: int = 25) -> Path:
    """A valid MJPG video of ``n_frames`` ``side × side`` frames showing a scene without a face
    (a shaded wall and a drifting box): it decodes fine, so its failure is the detector's
    "no face", not a decoding error."""
    if n_frames < 1 or side < 16:
        raise ValueError(f"need n_frames >= 1 and side >= 16, got {n_frames} and {side}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (side, side))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path} (MJPG codec missing?)")
    y, x = np.mgrid[0:side, 0:side]
    wall = (90 + 60 * x / side + 30 * y / side).astype(np.uint8)
    for t in range(n_frames):
        frame = np.stack([wall, wall * 0.9, wall * 0.7], axis=-1).astype(np.uint8)
        left = int(side * (0.15 + 0.4 * t / max(1, n_frames)))
        cv2.rectangle(frame, (left, side // 3), (left + side // 4, side // 3 + side // 5), (40, 70, 150), -1)
        writer.write(np.ascontiguousarray(frame))
    writer.release()
    return path


def make_demo_videos(
    out_dir: str | Path,
    synth_course: str = "lab",
    n_subjects: int = 3,
    classes: Sequence[str] = ("happy",),
    n_frames: int = 8,
    side: int = 128,
    seed: int = 0,
) -> tuple[ClipStore, Path]:
    """Generated clips written as a real data set's videos, with their ground truth.

    Writes ``<out_dir>/truth`` (a generated clip store: frames, landmarks ``(T, 68, 2)`` and
    intensity per clip) and ``<out_dir>/afew`` (the same clips in the AFEW layout, subjects split 80/20; its
    ``export.csv`` names each video's generated clip), then adds :data:`CORRUPT_VIDEO` (bytes that are not a
    video) and :data:`NO_FACE_VIDEO` (:func:`write_no_face_video`). ``n_subjects >= 3`` so that the
    Val split is not empty. Returns the ground-truth store and the layout's root, which
    ``ferlib.data.adapters.load_index("afew", root)`` indexes like a real copy of AFEW.
    """
    if n_subjects < 3:
        raise ValueError(f"n_subjects must be >= 3 (one subject goes to the Val split), got {n_subjects}")
    unknown = [c for c in classes if c not in AFEW_FOLDERS]
    if unknown:
        raise ValueError(f"classes {unknown} have no AFEW folder; choose among {sorted(AFEW_FOLDERS)}")
    out = Path(out_dir)
    cfg = SynthConfig(n_subjects=n_subjects, course=synth_course, classes=tuple(classes), n_frames=n_frames,
                      side=side, seed=seed)
    truth = generate(out / "truth", cfg, progress=False)
    layout = out / "afew"
    if layout.is_dir():  # this function's own copy of an earlier call: written anew (seconds), never mixed
        shutil.rmtree(layout)
    export_layout(truth, layout, "afew")
    (layout / CORRUPT_VIDEO).parent.mkdir(parents=True, exist_ok=True)
    (layout / CORRUPT_VIDEO).write_bytes(b"RIFF\x00\x10\x00\x00AVI LIST" + bytes(range(256)) * 4)
    write_no_face_video(layout / NO_FACE_VIDEO, n_frames, side)
    return truth, layout
