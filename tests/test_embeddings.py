"""t-SNE with few clips and class-structure scores (ferlib.analysis.embeddings), the per-method figure (ferlib.viz.embeddings)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest

from ferlib.analysis.embeddings import check_embedding, choose_perplexity, embedding_scores, tsne_2d
from ferlib.viz.embeddings import tsne_figure


def blobs(n_per: int = 6, k: int = 3, d: int = 5, spread: float = 0.05):
    rng = np.random.default_rng(0)
    centres = np.eye(k, d) * 10
    x = np.concatenate([c + spread * rng.standard_normal((n_per, d)) for c in centres])
    return x, np.repeat(np.arange(k), n_per)


def test_perplexity_is_lowered_below_the_number_of_points():
    assert choose_perplexity(1000) == 30
    assert choose_perplexity(7) == pytest.approx(2.0)
    assert choose_perplexity(2) == 1.0
    with pytest.raises(ValueError, match="at least 2"):
        choose_perplexity(1)


def test_tsne_of_few_points_has_shape_n_by_2():
    x, _ = blobs(n_per=3, k=3)
    xy = tsne_2d(x, seed=0)
    assert xy.shape == (9, 2) and np.isfinite(xy).all()


def test_scores_known_answers():
    x, y = blobs()
    s = embedding_scores(x, y, xy=x[:, :2])
    assert s["silhouette"] > 0.9 and s["knn1_loo_accuracy"] == 1.0
    assert s["n_clips"] == 18 and s["n_classes"] == 3
    # labels that ignore the clusters: silhouette near or below 0
    shuffled = np.tile(np.arange(3), 6)
    assert embedding_scores(x, shuffled)["silhouette"] < 0.1
    # one clip per class: the silhouette is undefined, not an error
    one_each = embedding_scores(x[[0, 6, 12]], y[[0, 6, 12]])
    assert np.isnan(one_each["silhouette"]) and one_each["knn1_loo_accuracy"] == 0.0


def test_bad_input():
    with pytest.raises(ValueError, match="one per embedding row"):
        embedding_scores(np.zeros((4, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="NaN"):
        check_embedding(np.full((3, 2), np.nan))
    with pytest.raises(ValueError, match="at least 2 clips"):
        tsne_2d(np.zeros((1, 4)))
    with pytest.raises(ValueError, match=r"xy must be \(18, 2\)"):
        embedding_scores(*blobs(), xy=np.zeros((3, 2)))


def test_figure_has_one_panel_per_method_and_a_class_legend():
    x, y = blobs()
    panels = [{"xy": x[:, :2], "labels": y, "title": m, "pred": y} for m in ("a", "b", "c")]
    fig = tsne_figure(panels, ["anger", "happy", "sad"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b", "c"]
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts == ["anger", "happy", "sad", "misclassified"]
    plt.close(fig)
    # each point is coloured by its true class, as in the legend; a wrong prediction changes only the marker
    pred = y.copy()
    pred[0] = 1
    fig = tsne_figure([{"xy": x[:, :2], "labels": y, "title": "a", "pred": pred}], ["anger", "happy", "sad"])
    pts = fig.axes[0].collections[0]
    legend = {t.get_text(): h.get_color() for t, h in zip(fig.legends[0].get_texts(), fig.legends[0].legend_handles)}
    faces = pts.get_facecolors()[:, :3]
    assert len(faces) == len(y)
    for k, name in enumerate(["anger", "happy", "sad"]):
        assert np.allclose(faces[y == k], matplotlib.colors.to_rgb(legend[name]))
    paths = pts.get_paths()
    # clip 0 (misclassified) is drawn with another marker
    assert len(paths) == len(y) and not np.array_equal(paths[0].vertices, paths[1].vertices)
    assert all(np.array_equal(paths[1].vertices, p.vertices) for p in paths[2:])
    plt.close(fig)
    with pytest.raises(ValueError, match="3 points but 2 labels"):
        tsne_figure([{"xy": np.zeros((3, 2)), "labels": np.zeros(2), "title": "x"}], ["a"])


def test_coinciding_embeddings_share_one_point_not_a_ring_and_are_counted():
    x, y = blobs(n_per=6, k=3, spread=1.0)
    x[:6] = x[0] + 1e-4 * np.random.default_rng(1).normal(size=(6, x.shape[1]))  # a saturated class: one point
    xy = tsne_2d(x, seed=0)
    assert np.ptp(xy[:6], axis=0).max() == 0 and np.ptp(xy[6:], axis=0).max() > 0
    fig = tsne_figure([{"xy": xy, "labels": y, "title": "a"}], ["anger", "happy", "sad"])
    assert [t.get_text() for t in fig.axes[0].texts] == ["×6"]
    plt.close(fig)
    assert tsne_2d(np.ones((4, 3))).tolist() == [[0.0, 0.0]] * 4
    from ferlib.analysis.embeddings import coinciding_groups, tsne_perplexity

    groups = coinciding_groups(x)
    assert groups[:7].tolist() == [0] * 6 + [1] and groups.max() + 1 == 13  # 6 clips as one, 12 apart
    assert tsne_perplexity(x) == pytest.approx(4.0)  # (13 − 1) / 3 distinct points, not (18 − 1) / 3
    assert np.isnan(tsne_perplexity(np.ones((4, 3))))


def test_class_colours_stay_apart():
    from ferlib.viz.style import class_palette

    rgb = np.asarray(class_palette(8))
    gaps = np.linalg.norm(rgb[:, None] - rgb[None], axis=-1)[np.triu_indices(8, 1)]
    assert gaps.min() > 0.25  # colorblind's 8 had neighbours closer than this (contempt, fear, sad)
