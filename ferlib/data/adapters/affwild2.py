"""Aff-Wild2 (ABAW expression track): per-frame labels cut into fixed windows of one label.

Layout as distributed (ABAW 2)::

    <root>/cropped_aligned/<video>/00001.jpg …              aligned faces, numbered from 1
    <root>/EXPR_Set/Train_Set/<video>.txt                   per-frame labels
    <root>/EXPR_Set/Validation_Set/<video>.txt

and the other releases, detected without options: ABAW 3–5 put the labels in
``annotations/EXPR_Classification_Challenge/{Train_Set,Validation_Set}/``; ABAW 1 names the
training split ``Training_Set`` (``annotations/EXPR_Set/Training_Set/``) and unpacks the faces one
level deeper, ``cropped_aligned/cropped_aligned/<video>/``. The label folder is the first of
:data:`ANNOTATION_DIRS` holding a training split, each split folder the first of
:data:`SPLIT_DIRS` there, the frame folder the first of :data:`FRAMES_DIRS` (``annotation_dir``,
``split_dirs`` and ``frames_dir`` override them).

Label files: a header line naming the classes
(``Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other``), then one integer a line: line
i (1-based, after the header) is frame ``0000i.jpg``; −1 marks an invalid frame. When the header
is present its names define the codes (so a release with another order is read right); without a
header the order above is used. A code outside the header's range raises naming file and line.

The ST-GCN post uses the 5 classes Happy, Sad, Neutral, Anger, Surprise in 45-frame samples of
one label (1,200 train / 586 val after the author's cleaning, which is not published). This
adapter cuts, inside every run of consecutive frames that carry the same kept label *and* have a
face image, windows of ``window`` frames every ``stride`` frames (default ``stride = window``:
non-overlapping). Frames with −1, Other, Disgust, Fear or no image break runs. Counts differ
from the post's hand-cleaned set; ``max_windows_per_video`` caps how many one video contributes
(evenly spaced), which keeps long one-label videos from dominating.

Index: one row a window; ``clip_id`` ``<video>_000451`` (first frame number), ``source`` the
video's frame folder, ``frame_start`` / ``frame_stop`` the window as a python slice of that
folder's frames sorted by number (frames missing from the folder are accounted for), ``first_frame``
the 1-based frame number, ``n_frames``, ``video``; ``subject`` = the video name; ``split``
``train`` / ``val``. Protocol: train → val.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ferlib.data.adapters.base import (
    IMAGE_EXTS,
    Adapter,
    LabelError,
    LayoutError,
    build_index,
    first_existing,
    report_missing,
    require_dir,
)
from ferlib.data.index import ClipIndex, safe_clip_id
from ferlib.data.labels import canonical_class

AFFWILD2_CLASSES: tuple[str, ...] = ("happy", "sad", "neutral", "anger", "surprise")
EXPR_ORDER: tuple[str, ...] = ("neutral", "anger", "disgust", "fear", "happy", "sad", "surprise", "other")
ANNOTATION_DIRS: tuple[str, ...] = (
    "EXPR_Set",
    "annotations/EXPR_Set",
    "Annotations/EXPR_Set",
    "EXPR_Classification_Challenge",
    "annotations/EXPR_Classification_Challenge",
    "Annotations/EXPR_Classification_Challenge",
    "EXPR_Recognition_Challenge",
    "annotations/EXPR_Recognition_Challenge",
    "Annotations/EXPR_Recognition_Challenge",
)
#: split folder names of the releases (ABAW 1 says Training_Set)
SPLIT_DIRS: dict[str, tuple[str, ...]] = {"train": ("Train_Set", "Training_Set"), "val": ("Validation_Set",)}
#: face frame folders of the releases (ABAW 1 unpacks one level deeper)
FRAMES_DIRS: tuple[str, ...] = ("cropped_aligned/cropped_aligned", "cropped_aligned")


def _class_name(name: str) -> str:
    key = name.strip().lower()
    return "other" if key in ("other", "others") else canonical_class(key)


def read_expr_file(path: Path) -> tuple[np.ndarray, tuple[str, ...]]:
    """Per-frame codes ``(N,)`` int (−1 invalid) and the class names the codes index."""
    lines = [ln.strip() for ln in path.read_text(errors="replace").splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    if not lines:
        raise LayoutError(f"{path} is empty; expected a header line and one label a line")
    names, first = EXPR_ORDER, 0
    if not lines[0].lstrip("+-").isdigit():
        try:
            names = tuple(_class_name(n) for n in lines[0].split(",") if n.strip())
        except ValueError as exc:
            raise LabelError(f"{path} line 1: header {lines[0]!r} names an unknown class ({exc})") from None
        first = 1
    try:
        codes = np.array([int(v) for v in lines[first:]], dtype=np.int64)
    except ValueError:
        bad = next(i for i, v in enumerate(lines[first:]) if not v.lstrip("+-").isdigit())
        raise LabelError(f"{path} line {bad + first + 1}: label value {lines[first + bad]!r} is not an integer") from None
    bad = np.flatnonzero((codes < -1) | (codes >= len(names)))
    if len(bad):
        i = int(bad[0])
        raise LabelError(f"{path} line {i + first + 1}: unknown label value {codes[i]}; expected -1 (invalid) or 0..{len(names) - 1} {names}")
    return codes, names


def window_starts(labels: np.ndarray, window: int, stride: int) -> np.ndarray:
    """Starts (0-based) of windows lying inside runs of one label ≥ 0, every ``stride`` frames per run.

    ``labels``: ``(N,)`` class index per frame, −1 where the frame cannot be used.
    """
    n = len(labels)
    if n < window:
        return np.zeros(0, dtype=np.int64)
    change = np.flatnonzero(np.diff(labels)) + 1
    run_start = np.concatenate([[0], change])
    run_end = np.concatenate([change, [n]])
    keep = (labels[run_start] >= 0) & (run_end - run_start >= window)
    starts = [np.arange(s, e - window + 1, stride) for s, e in zip(run_start[keep], run_end[keep])]
    return np.concatenate(starts).astype(np.int64) if starts else np.zeros(0, dtype=np.int64)


def _frame_numbers(folder: Path) -> np.ndarray:
    """Sorted frame numbers of the images in ``folder`` (``00042.jpg`` → 42)."""
    nums = []
    for name in os.listdir(folder):
        stem, ext = os.path.splitext(name)
        if ext.lower() in IMAGE_EXTS and stem.isdigit():
            nums.append(int(stem))
    return np.sort(np.asarray(nums, dtype=np.int64))


def affwild2_index(
    root: Path,
    frames_dir: str | None = None,
    annotation_dir: str | None = None,
    split_dirs: Mapping[str, str] | None = None,
    classes: Sequence[str] = AFFWILD2_CLASSES,
    window: int = 45,
    stride: int | None = None,
    max_windows_per_video: int | None = None,
    allow_missing: bool = False,
) -> ClipIndex:
    """Index one-label windows of Aff-Wild2's expression annotations (see the module docstring)."""
    if window < 1 or (stride is not None and stride < 1):
        raise ValueError(f"window and stride must be positive, got window={window}, stride={stride}")
    stride = window if stride is None else stride
    classes = tuple(canonical_class(c) for c in classes)
    if frames_dir is None:
        frames_root = first_existing(root, FRAMES_DIRS, "Aff-Wild2's face frames (<root>/cropped_aligned/<video>/*.jpg)",
                                     override="frames_dir")
    else:
        frames_root = require_dir(root / frames_dir, "Aff-Wild2's face frames (<root>/cropped_aligned/<video>/*.jpg)")
    firsts = [split_dirs[next(iter(split_dirs))]] if split_dirs else list(SPLIT_DIRS["train"])
    if annotation_dir is None:
        ann_root = first_existing(root, [f"{d}/{f}" for d in ANNOTATION_DIRS for f in firsts],
                                  "Aff-Wild2's expression labels", override="annotation_dir").parent
    else:
        ann_root = require_dir(root / annotation_dir, "Aff-Wild2's expression label folder")
    if not split_dirs:
        split_dirs = {split: next((n for n in names if (ann_root / n).is_dir()), names[0]) for split, names in SPLIT_DIRS.items()}
    split_dirs = dict(split_dirs)
    records, missing, total = [], [], 0
    for split, rel in split_dirs.items():
        folder = require_dir(ann_root / rel, f"the Aff-Wild2 {split} labels (<annotations>/{rel}/<video>.txt)")
        files = sorted(folder.glob("*.txt"))
        if not files:
            raise LayoutError(f"expected label files matching {folder}/*.txt; the folder holds none")
        for label_file in files:
            total += 1
            video = label_file.stem
            video_frames = frames_root / video
            if not video_frames.is_dir():
                missing.append(video)
                continue
            codes, names = read_expr_file(label_file)
            lut = np.array([classes.index(n) if n in classes else -1 for n in names] + [-1], dtype=np.int64)
            labels = lut[codes]  # code -1 picks the trailing -1
            numbers = _frame_numbers(video_frames)
            present = np.zeros(len(codes) + 2, dtype=bool)
            present[numbers[(numbers >= 1) & (numbers <= len(codes))]] = True
            labels = np.where(present[1 : len(codes) + 1], labels, -1)
            starts = window_starts(labels, window, stride)
            if max_windows_per_video is not None and len(starts) > max_windows_per_video:
                starts = starts[np.linspace(0, len(starts) - 1, max_windows_per_video).round().astype(int)]
            positions = np.searchsorted(numbers, starts + 1)
            for start, pos in zip(starts.tolist(), positions.tolist()):
                records.append(
                    {
                        "clip_id": safe_clip_id(f"{video}_{start + 1:06d}"),
                        "label": int(labels[start]),
                        "label_name": classes[int(labels[start])],
                        "subject": video,
                        "source": str(video_frames),
                        "split": split,
                        "frame_start": pos,
                        "frame_stop": pos + window,
                        "first_frame": start + 1,
                        "n_frames": window,
                        "video": video,
                    }
                )
    report_missing(missing, total, "Aff-Wild2 videos with labels", allow_missing, f"looked in {frames_root}")
    return build_index(records, classes, "affwild2", root)


ADAPTER = Adapter(
    name="affwild2",
    classes=AFFWILD2_CLASSES,
    protocol=("train_test", {"train": "train", "test": "val"}),
    builder=affwild2_index,
    description="Aff-Wild2 expressions: 45-frame one-label windows, 5 classes (Ha, Sa, Ne, An, Su); train → val",
)
