"""t-SNE of clip embeddings, one panel per method (KP-GCN-MSA Figs. 9–10), and a number for it.

KP-GCN-MSA's Figs. 9 and 10 are t-SNE plots of clip features coloured by class. The picture
depends on t-SNE's perplexity and seed, so :func:`embedding_scores` adds numbers measured in
the embedding space itself (scikit-learn): the silhouette score of the true classes (−1 … 1;
higher = tighter, better separated classes), the same on the 2-D t-SNE map, and the
leave-one-out 1-nearest-neighbour accuracy.

Embeddings are the ``embedding`` by-product every ferlib model returns (``(n, d)``, one row per
clip: FER-GCN's fused r of eq. 8, FAN's f_v of eq. 4, KP-GCN-MSA's class token, ST-GCN's pooled
features).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.model_selection import LeaveOneOut, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from ferlib.viz.style import palette

__all__ = ["check_embedding", "choose_perplexity", "tsne_2d", "embedding_scores", "tsne_figure"]


def check_embedding(emb: np.ndarray, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """``emb`` as float ``(n, d)`` with n >= 2 and finite values; ``labels`` ``(n,)`` ints."""
    e = np.asarray(emb, dtype=np.float64)
    if e.ndim != 2 or e.shape[0] < 2:
        raise ValueError(f"embeddings must be (n_clips, d) with at least 2 clips, got shape {np.shape(emb)}")
    if not np.isfinite(e).all():
        raise ValueError("embeddings contain NaN or inf values")
    if labels is None:
        return e, None
    y = np.asarray(labels)
    if y.shape != (e.shape[0],):
        raise ValueError(f"labels must be ({e.shape[0]},) (one per embedding row), got shape {y.shape}")
    return e, y


def choose_perplexity(n: int, perplexity: float = 30.0) -> float:
    """t-SNE perplexity for ``n`` points: the requested value, lowered to ``(n − 1) / 3`` when there
    are few points (scikit-learn needs perplexity < n), never below 1."""
    if n < 2:
        raise ValueError(f"t-SNE needs at least 2 points, got {n}")
    return float(max(1.0, min(perplexity, (n - 1) / 3.0)))


def tsne_2d(emb: np.ndarray, perplexity: float = 30.0, seed: int = 0) -> np.ndarray:
    """2-D t-SNE map ``(n, 2)`` of ``emb`` ``(n, d)`` (scikit-learn, PCA initialisation, perplexity
    from :func:`choose_perplexity`)."""
    e, _ = check_embedding(emb)
    p = choose_perplexity(len(e), perplexity)
    return TSNE(n_components=2, perplexity=p, init="pca", learning_rate="auto", random_state=seed).fit_transform(e)


def embedding_scores(emb: np.ndarray, labels: np.ndarray, xy: np.ndarray | None = None) -> dict[str, Any]:
    """Class structure of an embedding: ``silhouette`` (Euclidean, in the embedding space),
    ``silhouette_tsne`` (on the 2-D map ``xy`` when given), ``knn1_loo_accuracy`` (leave-one-out
    1-NN), plus ``n_clips`` and ``n_classes``. A silhouette is NaN where it is undefined (fewer
    than 2 classes, or as many classes as clips)."""
    e, y = check_embedding(emb, labels)
    assert y is not None
    n_cls = len(np.unique(y))
    ok = 2 <= n_cls <= len(e) - 1
    out: dict[str, Any] = {"n_clips": int(len(e)), "n_classes": int(n_cls)}
    out["silhouette"] = float(silhouette_score(e, y)) if ok else float("nan")
    if xy is not None:
        xy = np.asarray(xy, dtype=np.float64)
        if xy.shape != (len(e), 2):
            raise ValueError(f"xy must be ({len(e)}, 2), got {xy.shape}")
        out["silhouette_tsne"] = float(silhouette_score(xy, y)) if ok else float("nan")
    out["knn1_loo_accuracy"] = float(cross_val_score(KNeighborsClassifier(1), e, y, cv=LeaveOneOut()).mean())
    return out


def tsne_figure(panels: Sequence[Mapping[str, Any]], classes: Sequence[str], ncols: int = 4) -> Figure:
    """One scatter panel per method (seaborn ``scatterplot``): each panel dict has ``xy`` ``(n, 2)``,
    ``labels`` ``(n,)`` (indices into ``classes``) and ``title``; colour = true class, one shared
    legend with the class names. Optional ``pred`` ``(n,)``: misclassified clips are drawn as
    crosses."""
    if not panels:
        raise ValueError("tsne_figure needs at least one panel")
    ncols = min(ncols, len(panels))
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.4 * ncols, 3.3 * nrows + 0.5), squeeze=False)
    colours = palette(len(classes))
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
        ax.set_title(panel.get("title", ""), fontsize=9)
        ax.set_xlabel("t-SNE 1", fontsize=8)
        ax.set_ylabel("t-SNE 2", fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    handles = [Line2D([], [], marker="o", ls="", color=colours[i], label=c) for i, c in enumerate(classes)]
    handles.append(Line2D([], [], marker="X", ls="", color="0.3", label="misclassified"))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 9), fontsize=8, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.07 if nrows == 1 else 0.04, 1, 1))
    return fig
