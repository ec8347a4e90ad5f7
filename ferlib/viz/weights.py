"""Per-frame weights against the ground-truth intensity, drawn: FER-GCN Fig. 4, FAN Fig. 2, and the numbers.

* :func:`fer_gcn_intensity_figure` — FER-GCN Fig. 4: the sigmoid-normalised intensity weights over
  the N steps beside the test clips' ground-truth intensity;
* :func:`weights_over_frames_figure` — FAN Fig. 2: frame thumbnails above bars of α and αβ;
* :func:`weight_intensity_figure` — each frame's weight against its intensity (seaborn ``regplot``,
  Spearman's ρ in the legend; the points and ρ: :func:`ferlib.analysis.weights.weight_intensity_data`);
* :func:`peak_position_figure` — where the largest weight falls against the apex, per clip.

The numbers come from :mod:`ferlib.analysis.weights` (ρ, peak positions, the correlation table)
and the weights of trained models from :mod:`ferlib.analysis.inference`.
Shapes as in :mod:`ferlib.analysis.weights`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ferlib.viz.style import OURS_COLOR, palette

__all__ = [
    "weights_over_frames_figure",
    "fer_gcn_intensity_figure",
    "weight_intensity_figure",
    "peak_position_figure",
]


def _thumbnail_row(fig: Any, inner: Any, images: Sequence[np.ndarray], title: str) -> None:
    """Row 0 of the sub-grid ``inner``: one axis-free thumbnail per image, ``title`` on the first."""
    for c, img in enumerate(images):
        ax = fig.add_subplot(inner[0, c])
        ax.imshow(img)
        ax.set_xticks([])
        ax.set_yticks([])
        if c == 0:
            ax.set_title(title, fontsize=9, loc="left")


def weights_over_frames_figure(clips: Sequence[Mapping[str, Any]], ylabel: str = "weight",
                               max_frames: int = 16, title: str = "", scale: str = "none") -> Figure:
    """FAN Fig. 2 style: per clip a row of frame thumbnails above grouped bars of its weights
    (seaborn ``barplot``, one hue per series).

    Each clip is a dict with ``frames`` ``(T, H, W, 3)`` uint8, ``series`` ``{name: (T,)}`` (bars,
    one colour each), ``gt`` ``(T,)`` (drawn as a line on the same [0, 1] axis) and ``title``.
    Clips longer than ``max_frames`` show ``max_frames`` evenly spaced frames; ``title`` and one
    legend go on top. ``scale="max"`` divides each series by its largest value in the clip (FAN
    normalises α and αβ by their sum, so only their ratios between frames matter, and raw sigmoid
    outputs can be tiny); the raw maxima are then written in the clip's title."""
    if not clips:
        raise ValueError("weights_over_frames_figure needs at least one clip")
    if scale not in ("none", "max"):
        raise ValueError(f"scale must be 'none' or 'max', got {scale!r}")
    t_max = max(min(len(c["frames"]), max_frames) for c in clips)
    height = 2.15 * len(clips) + 0.7
    fig = plt.figure(figsize=(0.62 * t_max + 1.6, height))
    outer = fig.add_gridspec(len(clips), 1, hspace=0.55, top=1 - 0.75 / height, bottom=0.35 / height)
    fig.suptitle(title, y=1 - 0.08 / height, fontsize=10)
    for r, clip in enumerate(clips):
        frames = np.asarray(clip["frames"])
        t = len(frames)
        keep = np.round(np.linspace(0, t - 1, min(t, max_frames))).astype(int)
        series = {k: np.asarray(v, dtype=float) for k, v in clip["series"].items()}
        for k, v in series.items():
            if len(v) != t:
                raise ValueError(f"clip {r}: series {k!r} has {len(v)} values for {t} frames")
        head = clip.get("title", "")
        if scale == "max":
            head += "   (max: " + ", ".join(f"{k.split()[0]} {v.max():.2g}" for k, v in series.items()) + ")"
            series = {k: v / v.max() if v.max() > 0 else v for k, v in series.items()}
        inner = outer[r].subgridspec(2, len(keep), height_ratios=[1, 1.5], hspace=0.05, wspace=0.05)
        _thumbnail_row(fig, inner, [frames[i] for i in keep], head)
        ax = fig.add_subplot(inner[1, :])
        x = np.arange(len(keep))
        bars = pd.DataFrame([{"pos": p, "series": name, "weight": v[i]} for name, v in series.items()
                             for p, i in enumerate(keep)])
        # categorical x = position of the shown frame (0 … len(keep) − 1), ticks say which frame
        sns.barplot(data=bars, x="pos", y="weight", hue="series", hue_order=list(series),
                    palette=palette(len(series)), width=0.8, errorbar=None, ax=ax)
        if clip.get("gt") is not None:
            ax.plot(x, np.asarray(clip["gt"], dtype=float)[keep], "k.-", lw=1, ms=4, label="GT intensity")
        handles, labels = ax.get_legend_handles_labels()
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        ax.set_xlim(-0.5, len(keep) - 0.5)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(x, [str(int(i)) for i in keep], fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_xlabel("frame" if r == len(clips) - 1 else "", fontsize=8)
        ax.grid(axis="x", visible=False)
        if r == 0:
            fig.legend(handles, labels, fontsize=8, ncol=len(series) + 1, loc="upper center",
                       bbox_to_anchor=(0.5, 1 - 0.33 / height), frameon=False)
    return fig


def fer_gcn_intensity_figure(curves: Mapping[str, np.ndarray], gt: Mapping[str, np.ndarray],
                             frames: Mapping[str, np.ndarray] | None = None) -> Figure:
    """FER-GCN Fig. 4, in two panels per model that say their scales: (left) the sigmoid-normalised
    intensity weights over the N steps (bars, seaborn ``barplot``) and the mean ± std ground-truth
    intensity of the test clips at the same steps (seaborn ``lineplot``, ``errorbar="sd"``) on one
    shared [0, 1] axis, so that their sizes compare; (right) the weights alone, zoomed to their own
    range (a model that barely moved A from the identity has weights all near sigmoid(1/N): their
    shape shows only there, and the panel's title gives the range). Optional thumbnails
    ``(N, H, W, 3)`` of one clip above each row. Keys are row titles; ``curves[k]`` ``(N,)``,
    ``gt[k]`` ``(n_clips, N)``."""
    if not curves:
        raise ValueError("fer_gcn_intensity_figure needs at least one curve")
    names = list(curves)
    n = max(len(np.asarray(curves[k])) for k in names)
    fig = plt.figure(figsize=(max(9.0, 0.75 * n + 3.0), 3.6 * len(names) + 0.4))
    outer = fig.add_gridspec(len(names), 1, hspace=0.4)
    handles: list[Any] = []
    for r, name in enumerate(names):
        w = np.asarray(curves[name], dtype=float)
        g = np.asarray(gt[name], dtype=float)
        if g.ndim != 2 or g.shape[1] != len(w):
            raise ValueError(f"{name}: ground truth must be (n_clips, {len(w)}), got {g.shape}")
        thumbs = None if frames is None or name not in frames else np.asarray(frames[name])
        rows = outer[r].subgridspec(2 if thumbs is not None else 1, 1, hspace=0.4,
                                    height_ratios=[1, 2.6] if thumbs is not None else [1])
        if thumbs is not None:
            strip = rows[0].subgridspec(1, len(w), wspace=0.05)
            _thumbnail_row(fig, strip, [thumbs[c] for c in range(len(w))], name)
        left, right = rows[-1].subgridspec(1, 2, wspace=0.28, width_ratios=[1.25, 1]).subplots()
        x = np.arange(len(w))  # categorical positions of seaborn's bars; step k + 1 sits at k
        sns.barplot(x=x, y=w, color=OURS_COLOR, width=0.7, errorbar=None, label="intensity weight sigmoid(mean(A, 0))",
                    ax=left)
        long = pd.DataFrame({"step": np.tile(x, len(g)), "gt": g.ravel()})
        sns.lineplot(data=long, x="step", y="gt", color="black", marker=".", errorbar="sd", err_kws={"alpha": 0.12},
                     lw=1.2, label="GT intensity (test clips, mean ± std)", ax=left)
        left.set_ylim(0, 1.05)
        left.set_ylabel("weight and GT intensity\n(one scale, 0–1)", fontsize=9)
        left.set_title(("" if thumbs is not None else f"{name}: ") + "weights and intensity on one scale", fontsize=10)
        sns.barplot(x=x, y=w, color=OURS_COLOR, width=0.7, errorbar=None, ax=right)
        span = float(np.ptp(w))
        if span <= 1e-6 * max(1.0, float(np.abs(w).max())):  # within float32 rounding: nothing to zoom into
            right.set_ylim(float(w.min()) - 1e-3, float(w.max()) + 1e-3)
            right.yaxis.set_major_formatter(plt.FormatStrFormatter("%.4f"))
            right.set_title(f"weights alone: all equal to float precision ({w.min():.4f})", fontsize=10)
        else:  # enough decimals that the ticks and the title tell the extremes apart
            digits = min(9, max(2, int(np.ceil(-np.log10(span))) + 1))
            fmt = f"%.{digits}f"
            right.set_ylim(float(w.min()) - 0.15 * span, float(w.max()) + 0.15 * span)
            right.yaxis.set_major_formatter(plt.FormatStrFormatter(fmt))
            right.set_title(f"weights alone, zoomed: {fmt % w.min()}–{fmt % w.max()}", fontsize=10)
        right.set_ylabel("intensity weight\n(zoomed, not from 0)", fontsize=9)
        for ax in (left, right):
            ax.set_xlim(-0.6, len(w) - 0.4)
            ax.set_xticks(x, [str(k + 1) for k in x])
            ax.tick_params(labelsize=8)
            ax.set_xlabel("step (frame node)", fontsize=9)
            ax.grid(axis="x", visible=False)
        if r == 0:
            handles = left.get_legend_handles_labels()[0]
        for ax in (left, right):
            if ax.get_legend() is not None:
                ax.get_legend().remove()
    fig.legend(handles, [h.get_label() for h in handles], fontsize=9, ncol=2, loc="upper center",
               bbox_to_anchor=(0.5, 0.02), frameon=False)
    return fig


def weight_intensity_figure(points: pd.DataFrame, summary: pd.DataFrame, title: str = "", seed: int = 0) -> Figure:
    """Each frame's weight against its ground-truth intensity, one panel per series (seaborn
    ``regplot``: points and a least-squares line with its 95 % bootstrap band, ``seed`` for the
    bootstrap). ``points`` and ``summary`` are :func:`ferlib.analysis.weights.weight_intensity_data`'s
    (weights divided by their clip's largest); the legend gives Spearman's ρ per clip (mean ± std)
    and over all frames pooled, from ``summary``."""
    names = list(dict.fromkeys(points["series"])) if "series" in points else []
    if not names:
        raise ValueError("weight_intensity_figure needs points of at least one series (weight_intensity_data)")
    missing = [k for k in names if k not in summary.index]
    if missing:
        raise KeyError(f"no ρ summary for {missing}; summary has {sorted(summary.index)}")
    fig, axes = plt.subplots(1, len(names), figsize=(3.5 * len(names) + 0.4, 3.7), squeeze=False, sharey=True)
    for j, (ax, name) in enumerate(zip(axes[0], names)):
        part, s = points[points["series"] == name], summary.loc[name]
        colour = palette(len(names))[j]
        sns.regplot(x=part["intensity"].to_numpy(), y=part["weight"].to_numpy(), ax=ax, color=colour, n_boot=200,
                    seed=seed, truncate=True, scatter_kws={"s": 10, "alpha": 0.35, "linewidths": 0},
                    line_kws={"lw": 1.6, "label": "least-squares line (95 % band)"},
                    label=f"per clip: ρ = {s['rho_mean']:.2f} ± {s['rho_std']:.2f} (n = {int(s['n_defined'])})\n"
                          f"all frames: ρ = {s['rho_pooled']:.2f}")
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.03, 1.08)
        ax.set_xlabel("GT intensity of the frame", fontsize=8)
        ax.set_ylabel("weight / clip max", fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, title="Spearman",
                  title_fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def peak_position_figure(rows: Sequence[Mapping[str, Any]], title: str = "") -> Figure:
    """Peak of the weights against the ground-truth apex, per clip: one panel per (method, weights),
    points (seaborn ``scatterplot``) coloured by data set, crosses for a data set the model was not
    trained on, the diagonal where they agree. The legend gives each data set's mean Spearman ρ
    between the weights and the intensity and mean |peak − apex|. ``rows`` are
    :func:`weight_rows` outputs (their ``_peak`` / ``_apex`` arrays)."""
    if not rows:
        raise ValueError("peak_position_figure needs at least one row")
    panels: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        panels.setdefault(f"{r['method']} · {r['weights']}", []).append(r)
    datasets = sorted({r["dataset"] for r in rows})
    colours = palette(len(datasets))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, (name, group) in zip(axes[0], panels.items()):
        ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--", zorder=1)
        for r in group:
            ci = datasets.index(r["dataset"])
            jitter = rng.uniform(-0.012, 0.012, size=(2, len(r["_apex"])))
            marker = "o" if r["trained_on"] in (r["dataset"], "—") else "X"
            label = r["dataset"] if r["trained_on"] == "—" else f"{r['dataset']} (trained on {r['trained_on']})"
            if "rho_mean" in r:
                label += f"\nρ = {r['rho_mean']:.2f}, |peak − apex| = {r['abs_peak_minus_apex_mean']:.2f}"
            sns.scatterplot(x=np.asarray(r["_apex"]) + jitter[0], y=np.asarray(r["_peak"]) + jitter[1], s=18,
                            alpha=0.6, color=colours[ci], marker=marker, linewidth=0.3, edgecolor="white",
                            label=label, ax=ax)
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.set_aspect("equal")
        ax.set_xlabel("GT apex position in clip", fontsize=8)
        ax.set_ylabel("peak weight position in clip", fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
