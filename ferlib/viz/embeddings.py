"""t-SNE of clip embeddings drawn, one panel per method (KP-GCN-MSA Figs. 9–10).

The 2-D maps and the numbers beside them (silhouette, 1-NN accuracy) come from
:mod:`ferlib.analysis.embeddings`.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from ferlib.viz.style import class_palette

__all__ = ["tsne_figure"]


def tsne_figure(panels: Sequence[Mapping[str, Any]], classes: Sequence[str], ncols: int = 4) -> Figure:
    """One scatter panel per method (seaborn ``scatterplot``): each panel dict has ``xy`` ``(n, 2)``,
    ``labels`` ``(n,)`` (indices into ``classes``) and ``title``; colour = true class, one shared
    legend with the class names (:func:`ferlib.viz.style.class_palette`: ten hues that stay apart).
    Optional ``pred`` ``(n,)``: misclassified clips are drawn as crosses. Several clips at one
    position (:func:`ferlib.analysis.embeddings.tsne_2d` maps coinciding embeddings once) get
    their count beside the marker (``×6``)."""
    if not panels:
        raise ValueError("tsne_figure needs at least one panel")
    ncols = min(ncols, len(panels))
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 3.3 * nrows + 0.5), squeeze=False)
    colours = class_palette(len(classes))
    for ax, panel in zip(axes.flat, panels):
        xy = np.asarray(panel["xy"])
        y = np.asarray(panel["labels"])
        if len(xy) != len(y):
            raise ValueError(f"panel {panel.get('title', '')!r}: {len(xy)} points but {len(y)} labels")
        pred = panel.get("pred")
        wrong = np.zeros(len(y), bool) if pred is None else np.asarray(pred) != y
        data = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "cls": y.astype(int),
                             "clip": np.where(wrong, "misclassified", "correct")})
        sns.scatterplot(data=data, x="x", y="y", hue="cls", palette=dict(enumerate(colours)), style="clip",
                        markers={"correct": "o", "misclassified": "X"}, size="clip",
                        sizes={"correct": 22, "misclassified": 40}, alpha=0.85, linewidth=0.3, edgecolor="white",
                        legend=False, ax=ax)
        places, counts = np.unique(np.round(xy, 6), axis=0, return_counts=True)
        for (px, py), k in zip(places, counts):
            if k > 1:
                ax.annotate(f"×{k}", (px, py), textcoords="offset points", xytext=(5, 4), fontsize=8, color="0.2")
        ax.margins(0.1)  # room for the counts beside the outermost points
        ax.set_title(panel.get("title", ""), fontsize=10)
        ax.set_xlabel("t-SNE 1", fontsize=9)
        ax.set_ylabel("t-SNE 2", fontsize=9)
        ax.tick_params(labelsize=8)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles = [Line2D([], [], marker="o", ls="", color=colours[i], label=c) for i, c in enumerate(classes)]
    handles.append(Line2D([], [], marker="X", ls="", color="0.3", label="misclassified"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 9), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.07 if nrows == 1 else 0.04, 1, 1))
    return fig
