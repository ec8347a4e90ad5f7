"""Grad-CAM over the frames of a clip, and FER-GCN's Fig. 3 view of node features around the GCN, drawn.

* :func:`overlay` — heat-maps over frames (pytorch-grad-cam's ``show_cam_on_image``);
* :func:`gradcam_figure` — per clip the frames above their Grad-CAM overlays (FER-GCN Fig. 1 style);
* :func:`fer_gcn_fig3_figure` — FER-GCN Fig. 3 measured: frame-by-frame similarity of node
  features before and after the GCN, and every frame's similarity to the apex frame.

The maps come from :mod:`ferlib.analysis.gradcam`, the node features and similarities from
:mod:`ferlib.analysis.features`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from pytorch_grad_cam.utils.image import show_cam_on_image

from ferlib.viz.style import palette

__all__ = ["overlay", "gradcam_figure", "fer_gcn_fig3_figure"]


def overlay(frames: np.ndarray, cams: np.ndarray, image_weight: float = 0.55) -> np.ndarray:
    """Heat-maps over frames: ``frames`` ``(T, H, W, 3)`` (uint8 or float in [0, 1]) and ``cams``
    ``(T, H, W)`` in [0, 1] → ``(T, H, W, 3)`` uint8 (pytorch-grad-cam's ``show_cam_on_image``)."""
    f = np.asarray(frames)
    if f.dtype == np.uint8:
        f = f.astype(np.float32) / 255.0
    c = np.asarray(cams, dtype=np.float32)
    if f.ndim != 4 or f.shape[-1] != 3 or c.shape != f.shape[:3]:
        raise ValueError(f"frames must be (T, H, W, 3) and cams (T, H, W) of the same T, H, W; got {f.shape} and {c.shape}")
    return np.stack([show_cam_on_image(np.clip(fi, 0, 1), ci, use_rgb=True, image_weight=image_weight)
                     for fi, ci in zip(f, c)])


def gradcam_figure(rows: Sequence[Mapping[str, Any]], max_frames: int = 8) -> Figure:
    """Per clip two rows: the frames, then their Grad-CAM overlays. Each row dict has ``frames``
    ``(T, H, W, 3)``, ``overlays`` ``(T, H, W, 3)`` uint8 and ``title``; optional ``gt`` ``(T,)``
    (ground-truth intensity, written above the frames), ``frame_idx`` ``(T,)`` (the stored
    frame each one is, for the labels) and ``cam_label`` (the map row's label, "Grad-CAM"). ``max_frames`` evenly spaced frames shown."""
    if not rows:
        raise ValueError("gradcam_figure needs at least one clip")
    t_show = max(min(len(r["frames"]), max_frames) for r in rows)
    many = len(rows) > 1  # room between clips for each clip's title above its frame labels
    fig, axes = plt.subplots(2 * len(rows), t_show, figsize=(1.15 * t_show + 1.2, (3.0 if many else 2.5) * len(rows)),
                             squeeze=False)
    for r, row in enumerate(rows):
        frames, over = np.asarray(row["frames"]), np.asarray(row["overlays"])
        t = len(frames)
        keep = np.round(np.linspace(0, t - 1, min(t, max_frames))).astype(int)
        gt = row.get("gt")
        idx = np.asarray(row.get("frame_idx", np.arange(t)))
        for c in range(t_show):
            for k, img in enumerate((frames, over)):
                ax = axes[2 * r + k, c]
                ax.set_xticks([])
                ax.set_yticks([])
                if c >= len(keep):
                    ax.axis("off")
                    continue
                ax.imshow(img[keep[c]])
                if k == 0:
                    label = f"frame {int(idx[keep[c]])}"
                    if gt is not None and np.isfinite(gt[keep[c]]):
                        label += f"\nI={float(gt[keep[c]]):.2f}"
                    ax.set_title(label, fontsize=7)
        axes[2 * r, 0].set_ylabel("frame", fontsize=8)
        axes[2 * r + 1, 0].set_ylabel(row.get("cam_label", "Grad-CAM"), fontsize=8)
        axes[2 * r, 0].annotate(row.get("title", ""), (0, 1), xycoords="axes fraction", xytext=(0, 24),
                                textcoords="offset points", fontsize=9, ha="left", va="bottom")
    fig.subplots_adjust(hspace=0.8 if many else 0.45, wspace=0.05)
    return fig


def fer_gcn_fig3_figure(frames: np.ndarray, sims: Mapping[str, np.ndarray], to_apex: Mapping[str, np.ndarray],
                        apex: int, gt: np.ndarray | None = None, title: str = "") -> Figure:
    """FER-GCN Fig. 3, measured: the frames of one clip (top, apex boxed), the frame-by-frame
    similarity of its node features at each stage (``sims[name]`` ``(N, N)``, seaborn heatmaps),
    and the similarity of every frame to the apex frame per stage over the test clips
    (``to_apex[name]`` ``(n, N)``, mean ± std, seaborn ``lineplot``) with the clip's ground-truth
    intensity ``gt`` ``(N,)``."""
    names = list(sims)
    if not names or set(names) != set(to_apex):
        raise ValueError("sims and to_apex need the same, non-empty stage names")
    n = len(frames)
    fig = plt.figure(figsize=(max(11.0, 0.6 * n + 1), 5.4))
    outer = fig.add_gridspec(2, 1, height_ratios=[1, 3.4], hspace=0.3)
    strip = outer[0].subgridspec(1, n, wspace=0.04)
    for i in range(n):
        ax = fig.add_subplot(strip[0, i])
        ax.imshow(frames[i])
        ax.set_xticks([])
        ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_color("C3" if i == apex else "0.7")
            sp.set_linewidth(2.5 if i == apex else 0.5)
        ax.set_title(str(i), fontsize=7)
    fig.suptitle(title, fontsize=9)
    bottom = outer[1].subgridspec(2, len(names) + 1, wspace=0.3, hspace=0.45, height_ratios=[1, 0.05],
                                  width_ratios=[1] * len(names) + [1.7])
    ticks = np.arange(0, n, max(1, n // 4))
    cax = None
    for j, name in enumerate(names):
        ax = fig.add_subplot(bottom[0, j])
        if j == 0:
            cax = fig.add_subplot(bottom[1, :len(names)])
        # seaborn heatmap: cell (i, k) is frame i × frame k; one shared colour bar under the row
        sns.heatmap(np.asarray(sims[name]), vmin=-1, vmax=1, cmap="RdBu_r", square=True, ax=ax, cbar=j == 0,
                    cbar_ax=cax if j == 0 else None, cbar_kws={"orientation": "horizontal"},
                    xticklabels=False, yticklabels=False)
        ax.set_title(f"{name}: frame × frame\nsimilarity (this clip)", fontsize=8)
        ax.set_xlabel("frame", fontsize=8)
        if j == 0:
            ax.set_ylabel("frame", fontsize=8)
        ax.set_xticks(ticks + 0.5, [str(t) for t in ticks])
        ax.set_yticks(ticks + 0.5, [str(t) for t in ticks], rotation=0)
        ax.tick_params(labelsize=7, length=2)
    assert cax is not None
    cax.tick_params(labelsize=7)
    cax.set_xlabel("cosine similarity", fontsize=7)
    ax = fig.add_subplot(bottom[:, -1])
    x = np.arange(n)
    colours = palette(len(names))
    for j, name in enumerate(names):
        v = np.asarray(to_apex[name], dtype=float)
        long = pd.DataFrame({"frame": np.tile(x, len(v)), "similarity": v.ravel()})
        sns.lineplot(data=long, x="frame", y="similarity", color=colours[j], marker=".", errorbar="sd",
                     err_kws={"alpha": 0.15, "lw": 0}, label=name, ax=ax)
    if gt is not None:
        ax.plot(x, np.asarray(gt, dtype=float), "k--", lw=1, label="GT intensity (this clip)")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("frame (node)", fontsize=8)
    ax.set_ylabel("similarity to the apex frame", fontsize=8)
    ax.yaxis.set_label_position("right")
    ax.yaxis.tick_right()
    ax.set_title("similarity to each clip's apex frame\n(test clips, mean ± std)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    return fig
