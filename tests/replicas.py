"""Exact replicas of the real data sets' layouts as distributed, and of the renamed copies the
field's best-known code expects, with tiny media in the real formats (MJPG AVI videos, JPEG
frames, the label files' own formats). Written by the tests into their temporary folders; nothing
here ships as data."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np


@lru_cache(maxsize=None)
def _video_bytes(frames: int = 3, side: int = 32) -> bytes:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "clip.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 25, (side, side))
        for i in range(frames):
            writer.write(np.full((side, side, 3), 40 * i, np.uint8))
        writer.release()
        return path.read_bytes()


@lru_cache(maxsize=None)
def _jpeg_bytes(side: int = 16) -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((side, side, 3), 128, np.uint8))
    assert ok
    return buf.tobytes()


def video(path: Path) -> Path:
    """A 3-frame 32×32 MJPG AVI at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(_video_bytes())
    return path


def frames(folder: Path, n: int = 2, name: str = "{i:05d}.jpg") -> Path:
    """``n`` 16×16 JPEG frames in ``folder`` named by ``name`` (``i`` from 1)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, n + 1):
        (folder / name.format(i=i)).write_bytes(_jpeg_bytes())
    return folder


def text(path: Path, content: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    return path


# -- MMI ---------------------------------------------------------------------------------------
_SESSION = """<?xml version="1.0" encoding="utf-8"?>
<session sessionId="{sid}" recordingDate="2005-06-01">
  <subject id="{subject}" />
  <track id="0" type="Video" view="{view}" filename="{stem}.avi" fps="25" />
  <annotation id="1" type="FACS" filename="{stem}.xml" />
</session>
"""
_ANNOTATION = """<?xml version="1.0" encoding="utf-8"?>
<ActionUnits>
  <ActionUnit Number="12"><Marker Frame="12" Type="1" /><Marker Frame="40" Type="3" /></ActionUnit>
  {emotion}
  <Metatag Name="Left right" Value="0" />
</ActionUnits>
"""


def make_mmi(root: Path, more_subjects: int = 0) -> dict[str, str]:
    """MMI as distributed: ``Sessions/<n>/{S0ss-0qq.avi, session.xml, S0ss-0qq.xml}``; the emotion a
    Metatag of the annotation file, the view a number of ``session.xml``. Sessions: three frontal
    labelled (kept), one profile and one dual view (left out by the frontal filter), one action-unit
    only (not indexed), one with emotion code 7 (left out and reported); ``more_subjects`` frontal
    happy sessions of further subjects. Returns clip → label."""
    rows = [  # session, subject, view, emotion code (None: AU only)
        (1766, 1, 0, 4), (1767, 1, 0, 1), (1800, 5, 0, 6), (1801, 5, 1, 2), (1802, 6, 2, 3), (1803, 6, 0, None),
        (1804, 6, 0, 7),
    ] + [(2000 + i, 10 + i, 0, 4) for i in range(more_subjects)]
    for sid, subject, view, code in rows:
        folder = root / "Sessions" / str(sid)
        stem = f"S{subject:03d}-{sid % 100:03d}"
        video(folder / f"{stem}.avi")
        text(folder / "session.xml", _SESSION.format(sid=sid, subject=subject, view=view, stem=stem))
        tag = f'<Metatag Name="Emotion" Value="{code}" />' if code is not None else ""
        text(folder / f"{stem}.xml", _ANNOTATION.format(emotion=tag))
    return {"1766": "happy", "1767": "anger", "1800": "surprise", **{str(2000 + i): "happy" for i in range(more_subjects)}}


# -- AFEW --------------------------------------------------------------------------------------
AFEW_VARIANTS = {  # name: (train folder, val folder, clips as frame folders)
    "distributed": ("Train_AFEW", "Val_AFEW", False),
    "former_dfer": ("train", "validation", False),
    "emotion_fan": ("train_afew", "val_afew", True),
}


def make_afew(root: Path, variant: str = "distributed") -> dict[str, str]:
    """AFEW 8.0 as unzipped (``Train_AFEW``/``Val_AFEW`` with an ``AlignedFaces_LBPTOP_Points``
    folder inside the train split) or a renamed copy (:data:`AFEW_VARIANTS`). Returns clip id → label."""
    train, val, as_frames = AFEW_VARIANTS[variant]
    truth = {}
    for split, folder in (("train", train), ("val", val)):
        for emo, label in (("Angry", "anger"), ("Happy", "happy"), ("Neutral", "neutral")):
            for k in range(2):
                name = f"{(len(truth) + 1) * 1234567:09d}"  # AFEW names clips by 9 digits
                if as_frames:
                    frames(root / folder / emo / name, name="{i:03d}.jpg")
                else:
                    video(root / folder / emo / f"{name}.avi")
                truth[f"{split}_{emo}_{name}"] = label
    stray = root / train / "AlignedFaces_LBPTOP_Points"
    frames(stray / "Faces" / "Angry" / "000046280")
    text(stray / "LBPTOP" / "Angry" / "000046280.mat", "not a clip")
    return truth


# -- Aff-Wild2 ---------------------------------------------------------------------------------
AFFWILD2_RELEASES = {  # name: (label folder, train split folder, frame folder)
    "abaw2": ("EXPR_Set", "Train_Set", "cropped_aligned"),
    "abaw3": ("annotations/EXPR_Classification_Challenge", "Train_Set", "cropped_aligned"),
    "abaw1": ("annotations/EXPR_Set", "Training_Set", "cropped_aligned/cropped_aligned"),
}
_EXPR_HEADER = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"


def make_affwild2(root: Path, release: str = "abaw2", window: int = 3) -> dict[str, str]:
    """Aff-Wild2's expression track as a release unpacks it (:data:`AFFWILD2_RELEASES`): per-frame
    label files with the header line, JPEG faces numbered from 1. Each video holds one run of
    ``window`` frames of one kept label, then an invalid frame. Returns window clip id → label."""
    labels_dir, train_dir, frames_dir = AFFWILD2_RELEASES[release]
    truth = {}
    for split, folder, videos in (("train", train_dir, (("1-30-1280x720", 4, "happy"), ("video2", 0, "neutral"))),
                                  ("val", "Validation_Set", (("118-30-640x480", 6, "surprise"),))):
        for name, code, label in videos:
            text(root / labels_dir / folder / f"{name}.txt", "\n".join([_EXPR_HEADER] + [str(code)] * window + ["-1"]) + "\n")
            frames(root / frames_dir / name, n=window + 1)
            truth[f"{name}_000001"] = label
    return truth


# -- DFEW --------------------------------------------------------------------------------------
def make_dfew_authors(root: Path, n: int = 10, videos: bool = False) -> dict[str, tuple[int, int]]:
    """DFEW as its authors' code lays it out: ``data/<clip>/`` frame folders (or ``data/<clip>.mp4``)
    + ``label/single_{train,test}set_{1..5}.csv`` (``video_name,label``, codes 1–7). Clip i is in
    test fold 1 + (i-1) % 5 with code 1 + (i-1) % 7. Returns clip → (code, fold)."""
    truth = {f"{i:05d}": (1 + (i - 1) % 7, 1 + (i - 1) % 5) for i in range(1, n + 1)}
    for k in range(1, 6):
        for kind in ("train", "test"):
            rows = [f"{int(c)},{code}" for c, (code, fold) in truth.items() if (fold == k) == (kind == "test")]
            text(root / "label" / f"single_{kind}set_{k}.csv", "\n".join(["video_name,label", *rows]) + "\n")
    for c in truth:
        if videos:
            video(root / "data" / f"{c}.mp4")
        else:
            frames(root / "data" / c, name=c + "_{i:05d}.jpg")
    return truth
