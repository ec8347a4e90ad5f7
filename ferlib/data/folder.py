"""A folder of one's own videos as a :class:`~ferlib.data.index.ClipIndex`, and a short look at a large index.

* :func:`folder_index` — every video file and every folder of frames under a root, one clip each,
  unlabelled: for videos that follow no data set's layout (the adapters read those that do);
* :func:`limit_index` — a few clips spread over an index, each cut to its first frames.

:data:`VIDEO_EXTENSIONS` and :data:`IMAGE_EXTENSIONS` are the file kinds ferlib takes as clips
(:mod:`ferlib.preprocess.video` decodes them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ferlib.data.index import ClipIndex, safe_clip_id

__all__ = ["VIDEO_EXTENSIONS", "IMAGE_EXTENSIONS", "UNLABELLED", "folder_index", "limit_index"]

#: file suffixes read as videos (lower case)
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".flv", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})
#: file suffixes read as frames (a folder of them is one clip)
IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp"})
#: the one class of :func:`folder_index`
UNLABELLED = "unlabelled"


def folder_index(root: str | Path, dataset: str = "") -> ClipIndex:
    """Every video file and every folder of frames under ``root`` (recursively) as one clip.

    For a user's own videos that follow no data set's layout: the clips get the single class
    ``"unlabelled"``, ``subject`` = clip id, ``split`` ``""``; ``clip_id`` is the path relative to
    ``root`` made file-name safe. Raises ``FileNotFoundError`` naming ``root`` when it holds no clip.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder of videos")
    sources: list[Path] = []
    for p in sorted(root.rglob("*")):
        if p.name.startswith("."):
            continue
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS:
            sources.append(p)
        elif p.is_dir() and any(f.suffix.lower() in IMAGE_EXTENSIONS for f in p.iterdir() if f.is_file()):
            sources.append(p)
    if not sources:
        raise FileNotFoundError(
            f"no video files ({sorted(VIDEO_EXTENSIONS)}) and no folders of images under {root}")
    records = [{"clip_id": safe_clip_id(str(p.relative_to(root).with_suffix(""))), "label_name": UNLABELLED,
                "subject": safe_clip_id(str(p.relative_to(root).with_suffix(""))), "source": str(p)}
               for p in sources]
    return ClipIndex.from_records(records, (UNLABELLED,), dataset or root.name)


def limit_index(index: ClipIndex, max_clips: int = 0, max_frames: int = 0) -> ClipIndex:
    """At most ``max_clips`` clips spread evenly over the index (0 = all), each cut to its first
    ``max_frames`` frames (0 = all; a window's ``frame_start`` is kept and its length capped)."""
    if max_clips < 0 or max_frames < 0:
        raise ValueError(f"max_clips and max_frames must be >= 0, got {max_clips} and {max_frames}")
    df = index.df
    if max_clips and len(df) > max_clips:
        rows = np.unique(np.round(np.linspace(0, len(df) - 1, max_clips)).astype(int))
        df = df.iloc[rows]
    df = df.copy()
    if max_frames:
        start = pd.to_numeric(df.get("frame_start", pd.Series(np.nan, index=df.index)), errors="coerce").fillna(0)
        stop = pd.to_numeric(df.get("frame_stop", pd.Series(np.nan, index=df.index)), errors="coerce")
        capped = start + max_frames
        df["frame_start"] = start.astype(int)
        df["frame_stop"] = np.where(stop.isna(), capped, np.minimum(stop.fillna(np.inf), capped)).astype(int)
    return ClipIndex(df, index.classes, index.dataset)
