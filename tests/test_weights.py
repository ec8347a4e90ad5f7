"""ρ against ground-truth intensity, peak positions, FER-GCN Fig. 4 weights (ferlib.analysis.weights) and their figures
(ferlib.viz.weights)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from ferlib.models.fer_gcn import FERGCN
from ferlib.analysis.weights import (
    check_weights,
    claim_rows,
    correlation_table,
    fer_gcn_fig4_weights,
    one_clip_per_class,
    peak_position,
    relative_spread,
    spearman_per_clip,
    summarize_rho,
    verdicts,
    weight_intensity_data,
    weight_rows,
)
from ferlib.viz.weights import (
    fer_gcn_intensity_figure,
    peak_position_figure,
    weight_intensity_figure,
    weights_over_frames_figure,
)


TINY = {"width": 4, "depth": 1}


def test_weights_equal_to_gt_give_rho_one_and_reversed_minus_one():
    gt = np.array([[0.0, 0.1, 0.5, 0.9, 1.0], [0.2, 0.9, 0.4, 0.1, 0.0]])
    assert np.allclose(spearman_per_clip(gt, gt), 1.0)
    assert np.allclose(spearman_per_clip(gt[:, ::-1], gt[:, ::-1]), 1.0)
    assert np.allclose(spearman_per_clip(-gt, gt), -1.0)
    # a monotone transform of the GT keeps ρ = 1 (ranks only)
    assert np.allclose(spearman_per_clip(np.exp(3 * gt), gt), 1.0)


def test_constant_row_gives_nan_and_summary_skips_it():
    w = np.array([[1.0, 2.0, 3.0], [0.5, 0.5, 0.5], [3.0, 2.0, 1.0]])
    gt = np.array([[0.0, 0.5, 1.0], [0.0, 0.5, 1.0], [0.0, 0.5, 1.0]])
    rho = spearman_per_clip(w, gt)
    assert np.isnan(rho[1]) and rho[0] == pytest.approx(1) and rho[2] == pytest.approx(-1)
    s = summarize_rho(rho)
    assert s["n_clips"] == 3 and s["n_defined"] == 2
    assert s["rho_mean"] == pytest.approx(0.0) and s["rho_std"] == pytest.approx(1.0)
    assert s["frac_rho_pos"] == pytest.approx(0.5)
    assert np.isnan(summarize_rho(np.array([np.nan]))["rho_mean"])


def test_mismatched_shapes_and_missing_gt_are_refused():
    with pytest.raises(ValueError, match="same shape"):
        spearman_per_clip(np.ones((2, 5)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="NaN"):
        spearman_per_clip(np.ones((1, 3)), np.full((1, 3), np.nan))
    with pytest.raises(ValueError, match="T >= 2"):
        check_weights(np.ones((3, 1)))


def test_peak_position_known_vectors():
    assert peak_position(np.array([0.1, 0.9, 0.3, 0.2, 0.0]))[0] == pytest.approx(0.25)
    # ties go to the first maximum (a held apex counts from where it is reached)
    assert peak_position(np.array([[0, 0, 1, 1, 1.0]]))[0] == pytest.approx(0.5)
    # with the sampled frame indices of a 31-frame clip
    pos = peak_position(np.array([[0.0, 1.0, 0.5]]), frame_idx=np.array([[5, 15, 25]]), n_frames=31)
    assert pos[0] == pytest.approx(0.5)
    with pytest.raises(ValueError, match="n_frames"):
        peak_position(np.ones((1, 3)), frame_idx=np.array([[0, 1, 2]]))
    with pytest.raises(ValueError, match="shape"):
        peak_position(np.ones((1, 3)), frame_idx=np.array([[0, 1]]), n_frames=3)


def test_fer_gcn_fig4_weights_are_the_sigmoid_of_the_column_means_of_a():
    model = FERGCN(3, backbone="small_cnn", backbone_kwargs=TINY, num_frames=4, node_dim=8)
    with torch.no_grad():
        model.adjacency.copy_(torch.tensor([[1.0, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 2], [0, 0, 1, 2]]))
    w = fer_gcn_fig4_weights(model)
    assert w.shape == (4,)
    assert np.allclose(w, 1 / (1 + np.exp(-np.array([0.25, 0.25, 0.5, 1.0]))))
    # same ranking as the eq. 7 intensity weights the model uses
    assert np.argsort(w).tolist() == np.argsort(model.intensity_weights().numpy(), kind="stable").tolist()
    with pytest.raises(ValueError, match="no learned adjacency"):
        fer_gcn_fig4_weights(FERGCN(3, backbone="small_cnn", backbone_kwargs=TINY, num_frames=4, node_dim=8,
                                    num_modules=0, fusion="mean"))


def test_one_clip_per_class_and_verdicts():
    labels = np.array([0, 0, 1, 1, 2])
    assert one_clip_per_class(labels, np.array([1, 0, 1, 1, 0])) == {0: 1, 1: 2, 2: 4}
    assert one_clip_per_class(labels) == {0: 0, 1: 2, 2: 4}
    gt = np.tile(np.linspace(0, 1, 6), (4, 1))
    bp = {"w": gt, "flat_late": np.tile([0.0, 0, 0, 0, 0, 1], (4, 1)), "rev": gt[:, ::-1],
          "gt_intensity": gt, "frame_idx": np.tile(np.arange(6), (4, 1))}
    table = correlation_table(weight_rows(bp, ["w", "rev"], 6, "m", "d", "d"))
    said = verdicts(table)
    assert "the weights follow the intensity" in said[0] and "peak on the apex" in said[0]
    assert "do NOT follow" in said[1] and "peak NOT on the apex" in said[1]
    bp["nearly_flat"] = 1 + 1e-4 * gt
    flat = correlation_table(weight_rows(bp, ["nearly_flat"], 6, "m", "d", "d"))
    assert flat.loc[0, "rho_mean"] == pytest.approx(1) and "practically uniform" in verdicts(flat)[0]
    assert relative_spread(np.array([[1.0, 1.0], [0.5, 1.5]])).tolist() == [0.0, 1.0]


def test_weight_rows_table_and_figures():
    rng = np.random.default_rng(0)
    gt = np.sort(rng.random((6, 8)), axis=1)
    idx = np.tile(np.arange(8), (6, 1))
    bp = {"alpha": gt + 0.01 * rng.random((6, 8)), "gt_intensity": gt, "frame_idx": idx}
    rows = weight_rows(bp, ["alpha"], 8, "fan", "synth-lab", "synth-lab")
    assert rows[0]["rho_mean"] > 0.9 and rows[0]["frac_rho_pos"] == 1.0
    assert rows[0]["peak_pos_mean"] == pytest.approx(1.0)
    table = correlation_table(rows)
    assert "_peak" not in table.columns and table.loc[0, "weights"] == "alpha"
    with pytest.raises(KeyError, match="beta"):
        weight_rows(bp, ["beta"], 8, "fan", "synth-lab", "synth-lab")

    frames = rng.integers(0, 255, (8, 16, 16, 3), dtype=np.uint8)
    fig = weights_over_frames_figure([{"frames": frames, "series": {"α": gt[0], "αβ": gt[1]}, "gt": gt[0], "title": "x"}],
                                     scale="max")
    assert fig.axes[0].get_title(loc="left").startswith("x   (max: α")
    assert len(fig.axes) == 8 + 1
    bars = fig.axes[-1]
    heights = np.array([[p.get_height() for p in c] for c in bars.containers])  # one bar container per series
    assert heights.shape == (2, 8)
    assert heights[0] == pytest.approx(gt[0] / gt[0].max()) and heights[1] == pytest.approx(gt[1] / gt[1].max())
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["α", "αβ", "GT intensity"]
    plt.close(fig)
    with pytest.raises(ValueError, match="has 3 values for 8 frames"):
        weights_over_frames_figure([{"frames": frames, "series": {"α": gt[0, :3]}, "title": "x"}])
    fig = fer_gcn_intensity_figure({"synth-lab": gt[0]}, {"synth-lab": gt}, {"synth-lab": frames})
    assert len(fig.axes) == 8 + 2  # thumbnails, weights with intensity on one scale, weights zoomed
    shared, zoomed = fig.axes[-2], fig.axes[-1]
    assert [p.get_height() for p in shared.containers[0]] == pytest.approx(gt[0])
    assert shared.lines[0].get_ydata() == pytest.approx(gt.mean(0))  # mean over the clips per step
    assert shared.get_ylim() == pytest.approx((0, 1.05))  # one axis from 0: weights and intensity compare
    assert "one scale" in shared.get_ylabel() and "zoomed" in zoomed.get_ylabel()
    plt.close(fig)
    # weights near sigmoid(1/N) moving by ±0.01: the shared axis still starts at 0, only the zoom panel cuts
    flat = 0.52 + 0.01 * np.sin(np.arange(8))
    fig = fer_gcn_intensity_figure({"m": flat}, {"m": gt})
    shared, zoomed = fig.axes
    assert shared.get_ylim()[0] == 0 and zoomed.get_ylim()[0] > 0.5
    assert f"{flat.min():.3f}–{flat.max():.3f}" in zoomed.get_title()  # the range the zoom shows, in its title
    plt.close(fig)
    # weights that differ only in the 6th decimal: the ticks and the title keep enough digits to differ
    tiny = 0.5159 + 2e-6 * np.arange(8)
    zoomed = fer_gcn_intensity_figure({"m": tiny}, {"m": gt}).axes[1]
    zoomed.figure.canvas.draw()
    ticks = [t.get_text() for t in zoomed.get_yticklabels() if t.get_text()]
    assert len(set(ticks)) == len(ticks) > 1 and f"{tiny.min():.6f}–{tiny.max():.6f}" in zoomed.get_title()
    plt.close("all")
    # float32 rounding noise (6e-8 on 0.5159) is no shape: the panel says the weights are equal
    noise = np.full(8, 0.5159) + 6e-8 * (np.arange(8) % 2)
    assert "all equal to float precision (0.5159)" in fer_gcn_intensity_figure({"m": noise}, {"m": gt}).axes[1].get_title()
    plt.close("all")
    with pytest.raises(ValueError, match="ground truth must be"):
        fer_gcn_intensity_figure({"a": gt[0]}, {"a": gt[:, :4]})
    ref = weight_rows(bp, ["frame_index"], 8, "fan", "synth-lab", "synth-lab")[0]
    assert ref["method"] == "reference" and ref["trained_on"] == "—" and ref["rho_mean"] > 0.9
    fig = peak_position_figure(rows + [ref], title="peaks")
    assert fig.axes[0].get_xlabel() == "GT apex position in clip"
    assert [ax.get_title() for ax in fig.axes] == ["fan · alpha", "reference · frame_index"]
    assert fig._suptitle.get_text() == "peaks"
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == [f"synth-lab (trained on synth-lab)\nρ = {rows[0]['rho_mean']:.2f}, |peak − apex| = "
                      f"{rows[0]['abs_peak_minus_apex_mean']:.2f}"]
    points = fig.axes[0].collections[0].get_offsets()
    assert np.abs(points[:, 1] - rows[0]["_peak"]).max() <= 0.012  # jittered by at most 1.2 % of the clip
    plt.close(fig)


def test_weight_intensity_data_and_figure_put_spearman_rho_in_the_legend():
    rng = np.random.default_rng(1)
    gt = np.sort(rng.random((5, 6)), axis=1)
    follows = 2 * gt + 0.05 * rng.random((5, 6))  # scaled: the data divide by each clip's max
    reversed_ = gt[:, ::-1].copy()
    points, summary = weight_intensity_data({"fan α": follows, "reversed": reversed_}, {"fan α": gt, "reversed": gt})
    rho = summarize_rho(spearman_per_clip(follows, gt))
    assert summary.loc["fan α", "rho_mean"] == pytest.approx(rho["rho_mean"])
    assert summary.loc["reversed", "rho_mean"] == pytest.approx(-1.0) and summary.loc["reversed", "n_defined"] == 5
    mine = points[points["series"] == "fan α"]
    assert len(mine) == 30 and mine["weight"].max() == pytest.approx(1.0)  # every frame, weights / clip max
    assert sorted(mine["intensity"]) == pytest.approx(sorted(gt.ravel()))
    few, _ = weight_intensity_data({"a": follows}, {"a": gt}, max_points=7)
    assert len(few) == 7 and set(few["intensity"]) <= set(gt.ravel())
    fig = weight_intensity_figure(points, summary, title="w")
    assert [ax.get_title() for ax in fig.axes] == ["fan α", "reversed"]
    first = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert first[0].startswith(f"per clip: ρ = {rho['rho_mean']:.2f} ± {rho['rho_std']:.2f} (n = 5)")
    assert "least-squares line" in first[1]
    second = fig.axes[1].get_legend().get_texts()[0].get_text()
    assert second == f"per clip: ρ = -1.00 ± 0.00 (n = 5)\nall frames: ρ = {summary.loc['reversed', 'rho_pooled']:.2f}"
    pts = fig.axes[0].collections[0].get_offsets()
    assert len(pts) == 30 and pts[:, 1].max() == pytest.approx(1.0)
    plt.close(fig)
    with pytest.raises(KeyError, match="no ground-truth intensity for \\['b'\\]"):
        weight_intensity_data({"b": gt}, {"a": gt})
    with pytest.raises(ValueError, match="same shape"):
        weight_intensity_data({"a": gt}, {"a": gt[:, :3]})
    with pytest.raises(KeyError, match="no ρ summary for \\['reversed'\\]"):
        weight_intensity_figure(points, summary.drop(index="reversed"))


def test_claim_rows_line_up_the_rows_each_claim_needs():
    rng = np.random.default_rng(2)
    gt = np.sort(rng.random((6, 8)), axis=1)
    idx = np.tile(np.arange(8), (6, 1))
    bp = {"intensity_weights": gt + 0.01, "alpha": gt[:, ::-1].copy(), "alpha_beta": gt, "gt_intensity": gt, "frame_idx": idx}
    rows = (weight_rows(bp, ["intensity_weights", "frame_index"], 8, "fer_gcn", "synth-lab", "synth-lab")
            + weight_rows(bp, ["alpha", "alpha_beta"], 8, "fan", "synth-lab", "synth-lab")
            + weight_rows(bp, ["alpha"], 8, "fan", "synth-lab-return", "synth-lab"))
    table = correlation_table(rows)
    claims = claim_rows(table, "synth-lab", "synth-lab-return")
    assert list(claims["weights"]) == ["intensity_weights", "frame_index", "alpha", "alpha_beta", "alpha"]
    assert list(claims["trained_on"]) == ["synth-lab", "—", "synth-lab", "synth-lab", "synth-lab"]
    assert claims.loc[2, "rho_mean"] == pytest.approx(-1) and claims.loc[3, "rho_mean"] == pytest.approx(1)
    assert claims["question"].str.len().min() > 10
    assert len(claim_rows(table, "synth-lab")) == 4  # no comparison set: its rows are left out
    with pytest.raises(KeyError, match="rho_mean"):
        claim_rows(table.drop(columns=["rho_mean"]), "synth-lab")



def test_spearman_pooled_ranks_every_frame_of_every_clip_together():
    from scipy.stats import spearmanr

    from ferlib.analysis.weights import spearman_pooled

    w = np.array([[0.1, 0.2, 0.3], [0.9, 0.5, 0.4]])
    g = np.array([[0.0, 0.5, 1.0], [0.2, 0.1, 0.0]])
    assert spearman_pooled(w, g) == pytest.approx(spearmanr(w.ravel(), g.ravel()).statistic)
    assert np.isnan(spearman_pooled(np.ones((2, 3)), g))  # constant weights: undefined
