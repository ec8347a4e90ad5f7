"""Data-set overview figures: class balance, sample clips, intensity courses (seaborn, the
:mod:`ferlib.viz.style` theme); their numbers (and the class balance as a table) are
:mod:`ferlib.analysis.overview`'s."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ferlib.viz.strips import clip_strips
from ferlib.viz.style import OURS_COLOR, palette


def class_balance_figure(table: pd.DataFrame, title: str = "") -> Figure:
    """Bar chart of clips per class (seaborn ``barplot``), each bar labelled with its count; ``table``
    is :func:`ferlib.analysis.overview.class_balance_table`'s (its ``attrs`` name the data set and
    its subjects in the default title)."""
    if "clips" not in table:
        raise ValueError(f"table needs a 'clips' column (class_balance_table), got {list(table.columns)}")
    counts = table["clips"]
    fig, ax = plt.subplots(figsize=(1.0 + 0.7 * len(counts), 3.0))
    sns.barplot(x=list(counts.index), y=counts.to_numpy(), color=OURS_COLOR, errorbar=None, ax=ax)
    for i, v in enumerate(counts.values):
        ax.text(i, v, str(v), ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("clips")
    ax.set_xlabel("class")
    default = f"{int(counts.sum())} clips"
    if "subjects" in table.attrs:
        default += f", {table.attrs['subjects']} subjects"
    if table.attrs.get("dataset"):
        default = f"{table.attrs['dataset']}: {default}"
    ax.set_title(title or default, fontsize=10)
    ax.tick_params(axis="x", rotation=30)
    ax.grid(axis="x", visible=False)
    fig.tight_layout()
    return fig


def sample_clips_figure(clips: Sequence[dict], titles: Sequence[str]) -> Figure:
    """One row per clip: frames spread over it, with its intensity curve (``clips`` and ``titles`` of
    :func:`ferlib.analysis.overview.class_samples`)."""
    if not clips or len(clips) != len(titles):
        raise ValueError(f"need one title per clip and at least one clip, got {len(clips)} clips and {len(titles)} titles")
    return clip_strips(list(clips), list(titles))


def intensity_courses_figure(courses: pd.DataFrame, title: str = "") -> Figure:
    """Ground-truth intensity over normalised clip time, per class: the mean and the 10–90 %
    band over the clips (seaborn ``lineplot``, ``errorbar=("pi", 80)``); ``courses`` is
    :func:`ferlib.analysis.overview.intensity_courses`'s (its ``attrs`` give the classes, for one
    colour each, and the data set's name)."""
    fig, ax = plt.subplots(figsize=(6, 3.4))
    classes = list(courses.attrs.get("classes") or dict.fromkeys(courses.get("class", [])))
    colours = palette(len(classes))
    if len(courses):
        n = courses.groupby("label")["clip"].nunique()
        data = courses.assign(**{"class": [f"{c} (n={n[k]})" for c, k in zip(courses["class"], courses["label"])]})
        data = data.sort_values(["label", "clip", "time"], kind="stable")
        hues = list(dict.fromkeys(data["class"]))
        sns.lineplot(data=data, x="time", y="intensity", hue="class", hue_order=hues, errorbar=("pi", 80),
                     err_kws={"alpha": 0.12}, palette=[colours[int(k)] for k in dict.fromkeys(data["label"])], ax=ax)
        ax.legend(fontsize=7, ncol=2)
    else:
        ax.text(0.5, 0.5, "this data set has no ground-truth intensity", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("normalised time in clip")
    ax.set_ylabel("ground-truth intensity")
    ax.set_ylim(-0.02, 1.02)
    dataset = courses.attrs.get("dataset", "")
    ax.set_title(title or f"{dataset + ': ' if dataset else ''}intensity courses (mean, 10–90 % band)", fontsize=10)
    fig.tight_layout()
    return fig
