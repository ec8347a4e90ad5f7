"""Numbers of a data set's overview (notebook 00): clips and subjects per class, sample clips, and
the ground-truth intensity courses.

:mod:`ferlib.viz.overview` draws the class balance, sample clips and intensity courses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ferlib.data.index import ClipIndex
from ferlib.data.store import ClipStore

__all__ = ["class_balance_table", "class_samples", "intensity_courses"]


def class_balance_table(index: ClipIndex) -> pd.DataFrame:
    """Clips and subjects per class, with the share of clips; ``attrs`` hold the data set's name
    (``dataset``) and its number of distinct subjects (``subjects``)."""
    counts = index.class_counts()
    subjects = index.df.groupby("label_name")["subject"].nunique().reindex(index.classes, fill_value=0)
    table = pd.DataFrame({"clips": counts.values, "subjects": subjects.values,
                          "share": (counts.values / max(1, counts.sum())).round(3)}, index=list(index.classes))
    table.attrs.update(dataset=index.dataset, subjects=len(set(index.subjects)))
    return table


def class_samples(store: ClipStore, index: ClipIndex, per_class: int = 1, seed: int = 0) -> tuple[list[dict], list[str]]:
    """``(clips, titles)``: up to ``per_class`` random clips of each class (drawn with ``seed``), each
    a dict of ``frames`` ``(T, H, W, 3)`` uint8 and ``intensity`` ``(T,)`` (NaN where the store has
    none), titled with its class."""
    if per_class < 1:
        raise ValueError(f"per_class must be >= 1, got {per_class}")
    rng = np.random.default_rng(seed)
    clips, titles = [], []
    for label, name in enumerate(index.classes):
        rows = np.flatnonzero(index.labels == label)
        for r in rng.choice(rows, size=min(per_class, len(rows)), replace=False):
            rec = store.read(index.clip_ids[r])
            inten = rec.intensity if rec.intensity is not None else np.full(rec.n_frames, np.nan)
            clips.append({"frames": np.asarray(rec.frames), "intensity": np.asarray(inten)})
            titles.append(name)
    return clips, titles


def intensity_courses(store: ClipStore, index: ClipIndex, n_grid: int = 50) -> pd.DataFrame:
    """Each clip's ground-truth intensity on ``n_grid`` points of normalised clip time [0, 1] (linear
    interpolation): one row a clip and time point, ``label``, ``class``, ``clip``, ``time``,
    ``intensity``. Clips without a ground-truth intensity are left out (an empty table if all);
    ``attrs`` hold the data set's name (``dataset``) and its ``classes``."""
    if n_grid < 2:
        raise ValueError(f"n_grid must be >= 2 time points, got {n_grid}")
    grid = np.linspace(0, 1, n_grid)
    parts = []
    for cid, label in zip(index.clip_ids, index.labels):
        rec = store.read(cid)
        if rec.intensity is None:
            continue
        curve = np.interp(grid, np.linspace(0, 1, rec.n_frames), rec.intensity)
        parts.append(pd.DataFrame({"label": int(label), "class": index.classes[int(label)], "clip": cid,
                                   "time": grid, "intensity": curve}))
    columns = ["label", "class", "clip", "time", "intensity"]
    courses = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)
    courses.attrs.update(dataset=index.dataset, classes=list(index.classes))
    return courses
