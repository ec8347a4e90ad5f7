"""Class structure of clip embeddings as numbers, and their t-SNE map (KP-GCN-MSA Figs. 9–10).

KP-GCN-MSA's Figs. 9 and 10 are t-SNE plots of clip features coloured by class. The picture
depends on t-SNE's perplexity and seed, so :func:`embedding_scores` adds numbers measured in
the embedding space itself (scikit-learn): the silhouette score of the true classes (−1 … 1;
higher = tighter, better separated classes), the same on the 2-D t-SNE map, and the
leave-one-out 1-nearest-neighbour accuracy. :func:`tsne_2d` makes the map that
:func:`ferlib.viz.embeddings.tsne_figure` draws.

Embeddings are the ``embedding`` by-product every ferlib model returns (``(n, d)``, one row per
clip: FER-GCN's fused r of eq. 8, FAN's f_v of eq. 4, KP-GCN-MSA's class token, ST-GCN's pooled
features).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.spatial.distance import pdist
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_score
from sklearn.model_selection import LeaveOneOut, cross_val_score
from sklearn.neighbors import KNeighborsClassifier

__all__ = ["check_embedding", "choose_perplexity", "coinciding_groups", "tsne_perplexity", "tsne_2d", "embedding_scores"]


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


def coinciding_groups(emb: np.ndarray, same: float = 0.01) -> np.ndarray:
    """Group index ``(n,)`` of each clip (0 … groups − 1, numbered by first member): clips whose
    embeddings lie within ``same`` × the median distance between clips of each other (single
    linkage) share a group: a model with saturated features maps a whole class to nearly one point."""
    e, _ = check_embedding(emb)
    gaps = pdist(e)
    typical = float(np.median(gaps))
    if typical == 0.0:  # most clips at one point
        groups = np.unique(e, axis=0, return_inverse=True)[1].reshape(-1)
    else:
        groups = fcluster(linkage(gaps, "single"), t=same * typical, criterion="distance") - 1
    order = {g: k for k, g in enumerate(dict.fromkeys(groups.tolist()))}
    return np.array([order[g] for g in groups.tolist()])


def tsne_perplexity(emb: np.ndarray, perplexity: float = 30.0, same: float = 0.01) -> float:
    """The perplexity :func:`tsne_2d` uses: :func:`choose_perplexity` of the distinct points (NaN
    below three, where it places them without t-SNE)."""
    distinct = int(coinciding_groups(emb, same).max()) + 1
    return choose_perplexity(distinct, perplexity) if distinct >= 3 else float("nan")


def tsne_2d(emb: np.ndarray, perplexity: float = 30.0, seed: int = 0, same: float = 0.01) -> np.ndarray:
    """2-D t-SNE map ``(n, 2)`` of ``emb`` ``(n, d)`` (scikit-learn, PCA initialisation, perplexity
    from :func:`choose_perplexity` of the distinct points).

    The clips of one :func:`coinciding_groups` group are mapped once and share its position: t-SNE
    spreads such a tight group, all its members about equally far apart, onto a ring, which reads
    as structure that is not there. :func:`ferlib.viz.embeddings.tsne_figure` counts the clips at a
    shared position; the scores of :func:`embedding_scores` use the embeddings themselves."""
    e, _ = check_embedding(emb)
    groups = coinciding_groups(e, same)
    first = np.array([np.flatnonzero(groups == g)[0] for g in range(groups.max() + 1)])
    if len(first) == 1:
        return np.zeros((len(e), 2))
    if len(first) == 2:  # scikit-learn's t-SNE needs three points: two are one line
        return np.array([[-1.0, 0.0], [1.0, 0.0]])[groups]
    p = choose_perplexity(len(first), perplexity)
    xy = TSNE(n_components=2, perplexity=p, init="pca", learning_rate="auto", random_state=seed).fit_transform(e[first])
    return xy[groups]


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
