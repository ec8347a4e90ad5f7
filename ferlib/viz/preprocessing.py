"""What notebook 01 shows of the preprocessing, drawn: detections, landmark error, key-points, heat-maps.

The preprocessing itself is :mod:`ferlib.preprocess` (dlib detection → 68 landmarks → eye-level
alignment → crop); what it did is measured in :mod:`ferlib.analysis.preprocessing` (inspection of
a clip, landmark error against the ground truth, the status and failures report). This module
draws:

* :func:`detection_overlay_figure` — source frames with the detector's box, the detected and the
  true landmarks, and the aligned crop the store keeps;
* :func:`landmark_error_figure` — the landmark error per facial region and against each frame's
  expression intensity (the numbers: :func:`ferlib.analysis.preprocessing.landmark_error_data`);
* :func:`keypoints_figure` (the 18 KP-GCN-MSA key-points, their regions, graph and cheek
  triangles, KP-GCN-MSA paper Sec. 3.1.1 / Fig. 2) and :func:`heatmaps_figure` (the 18 Gaussian maps Aʲ
  of eq. 2 on the feature-map grid, :func:`ferlib.analysis.preprocessing.keypoint_heatmaps`).

Coordinates are ``(x, y)`` pixels, iBUG-68 order, as everywhere in ferlib.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ferlib.analysis.preprocessing import InspectedClip, flag_note
from ferlib.preprocess.keypoints import (
    CHEEK_TRIANGLES,
    KEYPOINT_EDGES,
    KEYPOINT_NAMES,
    REGIONS as KEYPOINT_REGIONS,
    select_keypoints,
)
from ferlib.viz.style import OURS_COLOR, palette, seeded_jitter

__all__ = ["detection_overlay_figure", "landmark_error_figure", "keypoints_figure", "heatmaps_figure"]


def landmark_error_figure(regions: pd.DataFrame, frames: pd.DataFrame, rho: float = float("nan"),
                          title: str = "") -> Figure:
    """Left: mean error in % IOD per facial region (seaborn ``barplot`` = all clips, ``stripplot``
    dots = single clips). Right: each frame's mean error against its ground-truth expression
    intensity (``regplot``; does the detector degrade at the apex?), with the Spearman correlation
    ``rho`` in the legend. ``regions`` and ``frames`` are
    :func:`ferlib.analysis.preprocessing.landmark_error_data`'s, ``rho``
    :func:`~ferlib.analysis.preprocessing.error_intensity_rho`'s."""
    missing = sorted(({"clip", "region", "error"} - set(regions)) | ({"error", "intensity"} - set(frames)))
    if missing or regions.empty or frames.empty:
        raise ValueError(f"regions and frames must be landmark_error_data's (non-empty), missing columns {missing}")
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1.4, 1]})
    order = list(dict.fromkeys(regions["region"]))
    sns.barplot(data=regions, x="region", y="error", order=order, color=OURS_COLOR, alpha=0.75, errorbar=None,
                label="mean over clips", ax=ax)
    with seeded_jitter():
        sns.stripplot(data=regions, x="region", y="error", order=order, color="black", size=3, alpha=0.6, jitter=0.25,
                      ax=ax)
    ax.plot([], [], ".", color="k", label="one clip")
    ax.set_xticks(range(len(order)), order, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("landmark error (% inter-ocular distance)")
    ax.set_xlabel("facial region (iBUG 68)")
    ax.grid(axis="x", visible=False)
    err_max = regions["error"].to_numpy(np.float64)
    ax.set_ylim(0, 1.3 * float(np.nanmax(err_max)) if np.isfinite(err_max).any() else 1)
    ax.legend(fontsize=7, loc="upper center", ncol=2)  # in the headroom above the bars
    ax.set_title("error per region", fontsize=9)
    err, inten = frames["error"].to_numpy(np.float64), frames["intensity"].to_numpy(np.float64)
    ok = np.isfinite(inten)
    if ok.sum() >= 3 and np.ptp(inten[ok]) > 0:
        sns.regplot(x=inten[ok], y=err[ok], ax=ax2, color=palette(3)[2], n_boot=200, seed=0, truncate=True,
                    scatter_kws={"s": 8, "alpha": 0.6, "linewidths": 0}, line_kws={"lw": 1.4},
                    label=f"one frame; Spearman ρ = {rho:.2f}")
        ax2.legend(fontsize=7, loc="upper left")
        ax2.set_title(f"per frame (n = {ok.sum()} frames)", fontsize=9)
    else:
        ax2.plot(np.arange(len(err)), err, ".", color=palette(3)[2], ms=4)
        ax2.set_title("per frame (no ground-truth intensity)", fontsize=9)
    ax2.set_xlabel("ground-truth expression intensity of the frame")
    ax2.set_ylabel("mean landmark error (% IOD)")
    fig.suptitle(title or "detected vs ground-truth landmarks", fontsize=10)
    fig.tight_layout()
    return fig


def _frame_positions(t: int, n: int) -> np.ndarray:
    return np.unique(np.round(np.linspace(0, t - 1, min(n, t))).astype(int))


def detection_overlay_figure(clips: Sequence[InspectedClip], truth: Sequence[np.ndarray | None] | None = None,
                             n_frames: int = 4, title: str = "") -> Figure:
    """One row per clip: ``n_frames`` source frames spread over the clip with the detector's box
    (yellow), the 68 detected landmarks (red) and, when given, the ground-truth landmarks
    ``truth[i]`` ``(T, 68, 2)`` (green); then the aligned crop of the last shown frame with its
    landmarks, as the clip store keeps it. ``len(clips) × (n_frames + 1)`` axes."""
    if not clips:
        raise ValueError("detection_overlay_figure needs at least one clip")
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    truth = list(truth) if truth is not None else [None] * len(clips)
    if len(truth) != len(clips):
        raise ValueError(f"{len(clips)} clips but {len(truth)} ground-truth entries")
    for clip, gt in zip(clips, truth):
        t = len(clip.frames)
        if clip.frames.ndim != 4 or clip.faces.landmarks.shape != (t, 68, 2) or clip.faces.boxes.shape != (t, 4):
            raise ValueError(f"clip {clip.clip_id}: frames (T, H, W, 3), boxes (T, 4) and landmarks (T, 68, 2) must "
                             f"agree, got {clip.frames.shape}, {clip.faces.boxes.shape}, {clip.faces.landmarks.shape}")
        if gt is not None and (np.ndim(gt) != 3 or np.shape(gt)[0] < t or np.shape(gt)[1:] != (68, 2)):
            raise ValueError(f"clip {clip.clip_id}: ground truth must be (>= {t}, 68, 2), got {np.shape(gt)}")
    rows, cols = len(clips), n_frames + 1
    fig, axes = plt.subplots(rows, cols, figsize=(2.1 * cols, 2.45 * rows + 0.5), squeeze=False)
    for r, (clip, gt) in enumerate(zip(clips, truth)):
        shown = _frame_positions(len(clip.frames), n_frames)
        for c in range(n_frames):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(shown):
                ax.axis("off")
                continue
            i = int(shown[c])
            ax.imshow(clip.frames[i])
            l, tp, rt, b = clip.faces.boxes[i]
            ax.add_patch(Rectangle((l - 0.5, tp - 0.5), rt - l + 1, b - tp + 1, fill=False, ec="yellow", lw=1.2))
            if gt is not None:
                ax.plot(gt[i, :, 0], gt[i, :, 1], "+", color="lime", ms=3, mew=0.7)
            ax.plot(clip.faces.landmarks[i, :, 0], clip.faces.landmarks[i, :, 1], ".", color="red", ms=2)
            score = clip.faces.scores[i]
            note = flag_note(int(clip.faces.flags[i])) or (f"score {score:.2f}" if np.isfinite(score) else "")
            ax.set_title(f"frame {i}\n{note}", fontsize=7)
            if c == 0:
                ax.set_ylabel(clip.clip_id, fontsize=7)
        ax = axes[r, -1]
        i = int(shown[-1])
        ax.imshow(clip.crops[i])
        ax.plot(clip.crop_landmarks[i, :, 0], clip.crop_landmarks[i, :, 1], ".", color="red", ms=2)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"aligned crop {clip.crops.shape[1]} px\n(frame {i}, stored)", fontsize=7)
    handles = [plt.Line2D([], [], color="yellow", lw=1.2, label="dlib box"),
               plt.Line2D([], [], ls="", marker=".", color="red", label="detected landmarks")]
    if any(g is not None for g in truth):
        handles.append(plt.Line2D([], [], ls="", marker="+", color="lime", label="ground truth"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(title or "face detection and landmarks", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


_REGION_COLOURS = {"upper_left": "tab:blue", "upper_right": "tab:orange", "lower": "tab:green", "nose bridge": "tab:purple"}


def _keypoint_colours() -> list[str]:
    colours = ["tab:purple"] * len(KEYPOINT_NAMES)
    for name, members in KEYPOINT_REGIONS.items():
        for k in members:
            colours[k] = _REGION_COLOURS[name]
    return colours


def _check_face(image: np.ndarray, landmarks: np.ndarray) -> None:
    if np.ndim(image) != 3 or np.shape(image)[2] != 3:
        raise ValueError(f"image must be (H, W, 3), got {np.shape(image)}")
    if np.shape(landmarks) != (68, 2):
        raise ValueError(f"landmarks must be (68, 2) pixel x/y of the image, got {np.shape(landmarks)}")


def keypoints_figure(images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray], titles: Sequence[str] = (),
                     title: str = "") -> Figure:
    """The 18 KP-GCN-MSA key-points on each face ``images[i]`` ``(H, W, 3)`` with ``landmarks[i]``
    ``(68, 2)``: the 68 landmarks faint, the key-points numbered and coloured by fusion region
    (upper-left, upper-right, lower, nose bridge), the key-point graph's edges, and the two cheek
    triangles whose centroids are key-points 16 and 17 (KP-GCN-MSA paper Sec. 3.1.1, 3.2)."""
    if not images or len(images) != len(landmarks):
        raise ValueError(f"need as many landmark sets as images (at least one), got {len(images)} and {len(landmarks)}")
    for img, lm in zip(images, landmarks):
        _check_face(img, lm)
    colours = _keypoint_colours()
    fig, axes = plt.subplots(1, len(images), figsize=(4.2 * len(images), 4.6), squeeze=False)
    for i, (img, lm) in enumerate(zip(images, landmarks)):
        ax = axes[0, i]
        lm = np.asarray(lm, np.float64)
        kp = select_keypoints(lm)
        ax.imshow(img)
        ax.plot(lm[:, 0], lm[:, 1], ".", color="white", ms=2, alpha=0.6)
        for a, b in KEYPOINT_EDGES:
            ax.plot(kp[[a, b], 0], kp[[a, b], 1], "-", color="white", lw=0.7, alpha=0.7)
        for tri in CHEEK_TRIANGLES:
            pts = lm[list(tri) + [tri[0]]]
            ax.plot(pts[:, 0], pts[:, 1], "--", color="yellow", lw=0.8)
        ax.scatter(kp[:, 0], kp[:, 1], s=28, c=colours, edgecolors="black", linewidths=0.5, zorder=3)
        for k, (x, y) in enumerate(kp):
            ax.annotate(str(k), (x, y), xytext=(3, -3), textcoords="offset points", fontsize=7, color="white",
                        fontweight="bold")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"x (px, {img.shape[1]} wide)", fontsize=8)
        ax.set_ylabel(f"y (px, {img.shape[0]} high)", fontsize=8)
        if i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    handles = [plt.Line2D([], [], ls="", marker="o", color=c, label=n.replace("_", "-"))
               for n, c in _REGION_COLOURS.items()]
    handles += [plt.Line2D([], [], color="white", lw=0.7, label="graph edge"),
                plt.Line2D([], [], color="yellow", ls="--", label="cheek triangle")]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=8, frameon=True, facecolor="0.85")
    fig.suptitle(title or "18 key-points of KP-GCN-MSA", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def heatmaps_figure(image: np.ndarray, maps: np.ndarray, title: str = "") -> Figure:
    """The 18 Gaussian attention maps Aʲ (KP-GCN-MSA paper eq. 2) of one face ``image`` ``(H, W, 3)``,
    ``maps`` ``(18, grid, grid)`` on the feature-map cells (:func:`ferlib.analysis.preprocessing.keypoint_heatmaps`),
    drawn over the face. The last panel holds their maximum. 19 image axes (a 4 × 5 grid, one axis
    left empty)."""
    if np.ndim(image) != 3 or np.shape(image)[2] != 3:
        raise ValueError(f"image must be (H, W, 3), got {np.shape(image)}")
    if np.ndim(maps) != 3 or len(maps) != len(KEYPOINT_NAMES) or np.shape(maps)[1] != np.shape(maps)[2]:
        raise ValueError(f"maps must be ({len(KEYPOINT_NAMES)}, grid, grid) (keypoint_heatmaps), got {np.shape(maps)}")
    grid = np.shape(maps)[1]
    h, w = image.shape[:2]
    grey = np.asarray(image, np.float32).mean(axis=-1)
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    fig, axes = plt.subplots(4, 5, figsize=(10, 8.6))
    panels = [(maps[k], f"{k} {KEYPOINT_NAMES[k]}") for k in range(len(maps))] + [(maps.max(0), "max over the 18")]
    im = None
    for ax, (m, name) in zip(axes.flat, panels):
        ax.imshow(grey, cmap="gray", extent=extent, vmin=0, vmax=255)
        im = ax.imshow(np.ma.masked_less(m, 0.02), cmap="inferno", alpha=0.7, extent=extent, vmin=0, vmax=1,
                       interpolation="nearest")
        ax.set_title(name.replace("_", " "), fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    cax = axes.flat[-1].inset_axes((0.35, 0.08, 0.1, 0.84))
    fig.colorbar(im, cax=cax, label="Aʲ (1 at the key-point)")
    fig.suptitle(title or f"Gaussian heat-maps Aʲ on a {grid}×{grid} grid", fontsize=10)
    fig.tight_layout()
    return fig
