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
    """Four bar panels per method (seaborn ``barplot``, the :mod:`ferlib.viz.style` theme):
    parameters and GFLOPs per clip (demo and paper sizes, log scales; published parameter
    counts as diamonds), inference clips/s, and training seconds per epoch read from the runs
    (methods without a run marked "no run")."""
    speed_cols = [c for c in table.columns if c.startswith("inference clips/s")]
    if len(table) == 0 or not speed_cols:
        raise ValueError("cost_figure needs a cost_table with at least one method")
    methods = list(table.index)
    y = np.arange(len(methods))
    colours = palette(5)
    fig, axes = plt.subplots(1, 4, figsize=(16, 0.45 * len(methods) + 2.2), sharey=True)
    for ax, col, label in ((axes[0], "params", "parameters (millions, log)"),
                           (axes[1], "GFLOPs/clip", "GFLOPs per clip (2 per multiply-add, log)")):
        long = pd.DataFrame([{"method": m, "value": table.loc[m, f"{col} {size} (M)" if col == "params" else f"{col} {size}"],
                              "size": f"ours, {size} size"} for size in ("demo", "paper") for m in methods])
        sns.barplot(data=long, y="method", x="value", hue="size", order=methods, orient="h", palette=colours[:2],
                    errorbar=None, width=0.8, ax=ax)
        ax.set_xscale("log")  # after drawing: bars from 0 are clipped at the axis, not dropped
        ax.set_xlabel(label)
        ax.set_ylabel("")
    # published counts beside the paper-size bars (hue 2 of 2 sits at y + 0.2)
    axes[0].scatter(table["paper: params (M)"].to_numpy(float), y + 0.2, label="published", **PAPER_MARKER)
    axes[0].legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=3, frameon=False)
    axes[1].get_legend().remove()
    ax = axes[2]
    speed = table[speed_cols[0]]
    sns.barplot(y=methods, x=speed.to_numpy(float), order=methods, orient="h", color=colours[2], errorbar=None, ax=ax)
    for yi, v in zip(y, speed):
        ax.text(v, yi, f" {v:.0f}", va="center", fontsize=7)
    ax.set_xlabel(speed_cols[0].replace("inference ", "inference\n"))
    ax.set_xlim(0, 1.15 * float(np.nanmax(speed)))
    ax = axes[3]
    per_epoch = table["train s/epoch"]
    sns.barplot(y=methods, x=per_epoch.fillna(0).to_numpy(float), order=methods, orient="h", color=colours[4],
                errorbar=None, ax=ax)
    for yi, v in zip(y, per_epoch):
        ax.text(v if np.isfinite(v) else 0, yi, f" {v:.1f} s" if np.isfinite(v) else " no run", va="center", fontsize=7)
    finite = per_epoch[np.isfinite(per_epoch)]
    ax.set_xlim(0, 1.2 * float(finite.max()) if len(finite) and finite.max() > 0 else 1)
    ax.set_xlabel("training seconds per epoch\n(read from the runs)")
    for a in axes:
        a.grid(axis="y", visible=False)
    fig.suptitle(title or "cost per method", fontsize=10)
    fig.tight_layout()
    return fig
