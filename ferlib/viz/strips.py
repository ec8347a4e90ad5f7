"""Frame strips with their intensity curves: the basic picture of a clip."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def clip_strips(
    clips: list[dict], titles: list[str], n_show: int = 6, curve_label: str = "intensity"
) -> Figure:
    """One row per clip: ``n_show`` frames spread over the clip, then its per-frame curve.

    Each clip is a dict with ``frames`` ``(T, H, W, 3)`` uint8 and ``intensity`` ``(T,)``; the
    shown frames are marked on the curve.
    """
    rows = len(clips)
    fig, axes = plt.subplots(rows, n_show + 1, figsize=(1.45 * n_show + 2.6, 1.5 * rows + 0.4),
                             gridspec_kw={"width_ratios": [1] * n_show + [1.8]}, squeeze=False)
    for r, (clip, title) in enumerate(zip(clips, titles)):
        frames, inten = clip["frames"], np.asarray(clip["intensity"])
        t = len(frames)
        shown = np.round(np.linspace(0, t - 1, n_show)).astype(int)
        for c, i in enumerate(shown):
            ax = axes[r, c]
            ax.imshow(frames[i])
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"frame {i}", fontsize=8)
            if c == 0:
                ax.set_ylabel(title, fontsize=9, rotation=0, ha="right", va="center")
        ax = axes[r, -1]
        ax.plot(np.arange(t), inten, color="C0", lw=1.5)
        ax.plot(shown, inten[shown], "o", color="C3", ms=3)
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlim(0, t - 1)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if r == rows - 1:
            ax.set_xlabel("frame", fontsize=8)
        ax.set_ylabel(curve_label, fontsize=7)
    fig.tight_layout()
    return fig
