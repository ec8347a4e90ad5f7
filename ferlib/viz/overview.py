"""Data-set overview figures: class balance, sample clips, intensity courses (seaborn, the
:mod:`ferlib.viz.style` theme); the class balance as a table is :mod:`ferlib.analysis.overview`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ferlib.data.index import ClipIndex
from ferlib.data.store import ClipStore
from ferlib.viz.strips import clip_strips
from ferlib.viz.style import OURS_COLOR, palette


def class_balance_figure(index: ClipIndex, title: str = "") -> Figure:
    """Bar chart of clips per class (seaborn ``barplot``), each bar labelled with its count."""
    counts = index.class_counts()
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(counts), 3.0))
    sns.barplot(x=list(counts.index), y=counts.to_numpy(), color=OURS_COLOR, errorbar=None, ax=ax)
    for i, v in enumerate(counts.values):
        ax.text(i, v, str(v), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("clips")
    ax.set_xlabel("class")
    ax.set_title(title or f"{index.dataset}: {len(index)} clips, {len(set(index.subjects))} subjects", fontsize=10)
    ax.tick_params(axis="x", rotation=30)
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


def sample_clips_figure(store: ClipStore, index: ClipIndex, per_class: int = 1, seed: int = 0) -> Figure:
    """One row per class: frames spread over a random clip of that class, with its intensity curve."""
    rng = np.random.default_rng(seed)
    clips, titles = [], []
    for label, name in enumerate(index.classes):
        rows = np.flatnonzero(index.labels == label)
        for r in rng.choice(rows, size=min(per_class, len(rows)), replace=False):
            rec = store.read(index.clip_ids[r])
            inten = rec.intensity if rec.intensity is not None else np.full(rec.n_frames, np.nan)
            clips.append({"frames": np.asarray(rec.frames), "intensity": np.asarray(inten)})
            titles.append(name)
    return clip_strips(clips, titles)


def intensity_courses_figure(store: ClipStore, index: ClipIndex) -> Figure:
    """Ground-truth intensity over normalised clip time, per class: the mean and the 10–90 %
    band over the clips (seaborn ``lineplot``, ``errorbar=("pi", 80)``)."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    grid = np.linspace(0, 1, 50)
    colours = palette(len(index.classes))
    parts = []
    for label, name in enumerate(index.classes):
        curves = []
        for cid in np.asarray(index.clip_ids)[index.labels == label]:
            rec = store.read(cid)
            if rec.intensity is None:
                continue
            t = np.linspace(0, 1, rec.n_frames)
            curves.append(np.interp(grid, t, rec.intensity))
        if curves:
            c = np.stack(curves)
            parts.append(pd.DataFrame({"time": np.tile(grid, len(c)), "intensity": c.ravel(),
                                       "class": f"{name} (n={len(c)})", "k": label}))
    if parts:
        data = pd.concat(parts, ignore_index=True)
        hues = list(dict.fromkeys(data["class"]))
        sns.lineplot(data=data, x="time", y="intensity", hue="class", hue_order=hues, errorbar=("pi", 80),
                     err_kws={"alpha": 0.12}, palette=[colours[k] for k in dict.fromkeys(data["k"])], ax=ax)
        ax.legend(fontsize=7, ncol=2)
    else:
        ax.text(0.5, 0.5, "this data set has no ground-truth intensity", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("normalised time in clip")
    ax.set_ylabel("ground-truth intensity")
    ax.set_ylim(-0.02, 1.02)
    ax.set_title(f"{index.dataset}: intensity courses (mean, 10–90 % band)", fontsize=10)
    fig.tight_layout()
    return fig
