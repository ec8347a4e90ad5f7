"""What each method costs, drawn: parameters, FLOPs per clip, inference clips/s, training time per epoch.

The numbers are :func:`ferlib.analysis.cost.cost_table`'s.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ferlib.viz.style import PAPER_MARKER, palette

__all__ = ["cost_figure"]


def cost_figure(table: pd.DataFrame, title: str = "") -> Figure:
    """Four panels per method (the :mod:`ferlib.viz.style` theme): parameters and GFLOPs per clip
    as dots on log scales (demo and paper models; published parameter counts as hollow diamonds) —
    dots, not bars, since a bar's length on a log axis depends on where the axis starts — then
    inference clips/s and training seconds per epoch read from the runs as bars from zero on
    linear scales (methods without a run marked "no run")."""
    speed_cols = [c for c in table.columns if c.startswith("inference clips/s")]
    if len(table) == 0 or not speed_cols:
        raise ValueError("cost_figure needs a cost_table with at least one method")
    methods = list(table.index)
    y = np.arange(len(methods))
    colours = palette(5)
    fig, axes = plt.subplots(1, 4, figsize=(16, 0.5 * len(methods) + 2.4), sharey=True)
    for ax, col, label in ((axes[0], "params", "parameters (millions, log scale)"),
                           (axes[1], "GFLOPs/clip", "GFLOPs per clip (2 per multiply-add, log scale)")):
        for k, (size, marker) in enumerate((("demo", "o"), ("paper", "s"))):
            v = table[f"{col} {size} (M)" if col == "params" else f"{col} {size}"].to_numpy(float)
            ax.scatter(v, y, marker=marker, s=36, color=colours[k], zorder=3, label=f"ferlib, {size} size")
            for yi, vi in zip(y, v):
                if np.isfinite(vi):
                    ax.annotate(f"{vi:.3g}", (vi, yi), textcoords="offset points", xytext=(0, 6 if k else -6),
                                ha="center", va="bottom" if k else "top", fontsize=7, color=colours[k])
        for yi in y:  # a guide line per method
            ax.axhline(yi, color="0.9", lw=0.8, zorder=1)
        ax.set_xscale("log")
        ax.set_xlabel(label)
        ax.set_ylabel("")
    axes[0].scatter(table["paper: params (M)"].to_numpy(float), y, label="published", **PAPER_MARKER)
    axes[0].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=3, frameon=False)
    axes[0].set_yticks(y, methods)
    axes[0].set_ylim(len(methods) - 0.5, -0.5)
    ax = axes[2]
    speed = table[speed_cols[0]]
    sns.barplot(y=methods, x=speed.to_numpy(float), order=methods, orient="h", color=colours[2], errorbar=None, ax=ax)
    for yi, v in zip(y, speed):
        ax.text(v, yi, f" {v:.0f}", va="center", fontsize=8)
    ax.set_xlabel(speed_cols[0].replace("inference ", "inference\n"))
    ax.set_xlim(0, 1.15 * float(np.nanmax(speed)))
    ax = axes[3]
    per_epoch = table["train s/epoch"]
    sns.barplot(y=methods, x=per_epoch.fillna(0).to_numpy(float), order=methods, orient="h", color=colours[4],
                errorbar=None, ax=ax)
    for yi, v in zip(y, per_epoch):
        ax.text(v if np.isfinite(v) else 0, yi, f" {v:.1f} s" if np.isfinite(v) else " no run", va="center", fontsize=8)
    finite = per_epoch[np.isfinite(per_epoch)]
    ax.set_xlim(0, 1.2 * float(finite.max()) if len(finite) and finite.max() > 0 else 1)
    ax.set_xlabel("training seconds per epoch\n(read from the runs)")
    for a in axes:
        a.grid(axis="y", visible=False)
    fig.suptitle(title or "cost per method", fontsize=11)
    fig.tight_layout()
    return fig
