"""Grad-CAM over a clip's frames on tiny untrained models (ferlib.analysis.gradcam, drawn by ferlib.viz.gradcam),
FER-GCN node features (ferlib.analysis.features) and the inputs of a run's model (ferlib.analysis.inference)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import torch

from ferlib.analysis.features import (
    center_features,
    cosine_similarity_matrix,
    fer_gcn_node_features,
    sharing_verdict,
    similarity_table,
    similarity_to_frame,
)
from ferlib.analysis.gradcam import CAM_METHODS, ClipLogits, choose_cam_method, choose_clip, clip_gradcam, default_target_layer
from ferlib.analysis.inference import model_inputs
from ferlib.models.fan import FAN
from ferlib.models.fer_gcn import FERGCN
from ferlib.viz.gradcam import fer_gcn_fig3_figure, gradcam_figure, overlay

TINY = {"width": 4, "depth": 2}


def tiny_fer_gcn(t: int = 4) -> FERGCN:
    torch.manual_seed(0)
    return FERGCN(3, backbone="small_cnn", backbone_kwargs=TINY, num_frames=t, node_dim=8).eval()


def test_gradcam_gives_one_map_per_frame_in_unit_range():
    model = tiny_fer_gcn()
    frames = torch.rand(4, 3, 16, 16)
    cams, cls, probs = clip_gradcam(model, frames)
    assert cams.shape == (4, 16, 16) and cams.dtype == np.float32
    assert cams.min() >= 0.0 and cams.max() <= 1.0
    assert cls == int(probs.argmax()) and probs.shape == (3,) and probs.sum() == pytest.approx(1, abs=1e-5)
    cams2, cls2, _ = clip_gradcam(model, frames, target_class=(cls + 1) % 3)
    assert cls2 == (cls + 1) % 3 and cams2.shape == cams.shape


def test_target_layer_is_the_last_spatial_map_of_the_trunk():
    torch.manual_seed(0)
    plain = tiny_fer_gcn()
    assert default_target_layer(plain, torch.rand(4, 3, 16, 16)) is plain.trunk
    # a trunk ending on a 1x1 map (small_cnn with whole_map): the map before it
    whole = FERGCN(3, backbone="small_cnn", backbone_kwargs={**TINY, "whole_map": 4}, num_frames=4, node_dim=8).eval()
    layer = default_target_layer(whole, torch.rand(4, 3, 16, 16))
    assert isinstance(layer, torch.nn.AdaptiveAvgPool2d)
    assert choose_cam_method(plain, torch.rand(4, 3, 16, 16)) == "gradcam"
    assert choose_cam_method(whole, torch.rand(4, 3, 16, 16)) == "hirescam"
    for method in CAM_METHODS:
        cams, _, _ = clip_gradcam(whole, torch.rand(4, 3, 16, 16), method=method)
        assert cams.shape == (4, 16, 16) and 0 <= cams.min() and cams.max() <= 1
    assert (cams.reshape(4, -1).max(1) > cams.reshape(4, -1).min(1)).any()  # not a constant 1x1 map
    with pytest.raises(ValueError, match="method must be one of"):
        clip_gradcam(whole, torch.rand(4, 3, 16, 16), method="scorecam")


def test_gradcam_on_fan_with_any_frame_count():
    torch.manual_seed(0)
    model = FAN(3, backbone="small_cnn", backbone_kwargs=TINY, official_layout=False).eval()
    cams, _, _ = clip_gradcam(model, torch.rand(5, 3, 16, 16))
    assert cams.shape == (5, 16, 16) and 0 <= cams.min() and cams.max() <= 1


def test_wrapper_and_bad_input():
    model = tiny_fer_gcn()
    wrapper = ClipLogits(model)
    assert wrapper(torch.rand(4, 3, 16, 16)).shape == (1, 3)
    with pytest.raises(ValueError, match=r"\(T, 3, H, W\)"):
        clip_gradcam(model, torch.rand(1, 4, 3, 16, 16))
    with pytest.raises(ValueError, match="not one of the model's 3 classes"):
        clip_gradcam(model, torch.rand(4, 3, 16, 16), target_class=5)

    class NoTrunk(torch.nn.Module):
        input_kind = "landmarks"

    with pytest.raises(ValueError, match="no per-frame CNN"):
        default_target_layer(NoTrunk())
    with pytest.raises(ValueError, match="landmark sequences"):
        ClipLogits(NoTrunk())

    class NeedsLandmarks(torch.nn.Module):
        input_kind = "frames+landmarks"

    with pytest.raises(ValueError, match="pass landmarks"):
        ClipLogits(NeedsLandmarks())


def test_overlay_and_figure():
    frames = np.random.default_rng(0).integers(0, 255, (3, 16, 16, 3), dtype=np.uint8)
    cams = np.random.default_rng(1).random((3, 16, 16)).astype(np.float32)
    over = overlay(frames, cams)
    assert over.shape == (3, 16, 16, 3) and over.dtype == np.uint8
    with pytest.raises(ValueError, match="same T, H, W"):
        overlay(frames, cams[:2])
    fig = gradcam_figure([{"frames": frames, "overlays": over, "title": "t", "gt": np.array([0, 0.5, 1.0])}])
    assert len(fig.axes) == 2 * 3
    plt.close(fig)


def test_node_features_and_similarities():
    model = tiny_fer_gcn(4)
    feats = fer_gcn_node_features(model, torch.rand(2, 4, 3, 16, 16))
    assert set(feats) == {"cnn", "gcn_self", "gcn", "modules"}
    assert all(v.shape == (2, 4, 8) for v in feats.values())
    # A is the identity at initialisation: the GCN layer output is LeakyReLU(H W) frame by frame
    m0 = model.graph_modules[0]
    expected = m0.act(m0.weight(torch.from_numpy(feats["cnn"]))).detach().numpy()
    assert np.allclose(feats["gcn"], expected, atol=1e-5)
    assert np.allclose(feats["gcn_self"], feats["gcn"], atol=1e-5)
    # with off-diagonal weight in A, only the shared output changes
    with torch.no_grad():
        model.adjacency.add_(0.5)
    shared = fer_gcn_node_features(model, torch.rand(2, 4, 3, 16, 16))
    own = m0.act(torch.diagonal(model.adjacency).view(1, -1, 1) * m0.weight(torch.from_numpy(shared["cnn"])))
    assert np.allclose(shared["gcn_self"], own.detach().numpy(), atol=1e-5)
    assert not np.allclose(shared["gcn"], shared["gcn_self"], atol=1e-3)

    f = np.array([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    sim = cosine_similarity_matrix(f)
    assert np.allclose(np.diag(sim), 1) and sim[0, 1] == pytest.approx(0) and sim[0, 2] == pytest.approx(2 ** -0.5)
    to = similarity_to_frame(f[None], 2)
    assert to.shape == (1, 3) and to[0, 2] == pytest.approx(1)
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        similarity_to_frame(f[None], 3)
    with pytest.raises(ValueError, match="no graph modules"):
        fer_gcn_node_features(FERGCN(3, backbone="small_cnn", backbone_kwargs=TINY, num_frames=4, node_dim=8,
                                     num_modules=0, fusion="mean"), torch.rand(1, 4, 3, 16, 16))
    frames = np.zeros((4, 8, 8, 3), np.uint8)
    sims = {k: cosine_similarity_matrix(v[0]) for k, v in feats.items()}
    to_apex = {k: similarity_to_frame(v, 3) for k, v in feats.items()}
    fig = fer_gcn_fig3_figure(frames, sims, to_apex, apex=3, gt=np.linspace(0, 1, 4), title="x")
    assert len(fig.axes) == 4 + 4 + 1 + 1  # thumbnails, matrices, colour bar, curves
    matrices = [ax for ax in fig.axes if ax.get_title().endswith("similarity (this clip)")]
    assert [ax.get_title().split(":")[0] for ax in matrices] == list(sims)
    for ax, name in zip(matrices, sims):  # seaborn heatmaps of the N × N similarities, on one −1 … 1 scale
        mesh = ax.collections[0]
        assert np.asarray(mesh.get_array()).reshape(4, 4) == pytest.approx(sims[name], abs=1e-6)
        assert mesh.get_clim() == (-1, 1)
    centred = center_features(feats)
    assert np.allclose(centred["cnn"].mean(axis=(0, 1)), 0)
    table = similarity_table(centred, np.array([[0, 0.05, 0.5, 1.0], [0, 1.0, 0.5, 0.0]]))
    assert list(table.stage) == ["cnn", "gcn_self", "gcn", "modules"] and table.n_clips.tolist() == [2] * 4
    with pytest.raises(ValueError, match="do not match"):
        similarity_table(centred, np.zeros((3, 4)))
    plt.close(fig)


def test_choose_clip_prefers_clips_most_methods_get_right():
    import pandas as pd

    a = pd.DataFrame({"clip_id": ["c1", "c2", "c3"], "label": [0, 1, 2], "pred": [1, 1, 2],
                      "label_name": ["anger", "happy", "sad"]})
    b = pd.DataFrame({"clip_id": ["c1", "c2", "c3"], "label": [0, 1, 2], "pred": [0, 1, 0],
                      "label_name": ["anger", "happy", "sad"]})
    assert choose_clip({"a": a, "b": b}) == "c2"  # right for both, and "happy"
    assert choose_clip({"a": a}, prefer=()) == "c2"  # first correct clip
    with pytest.raises(ValueError, match="share no clip"):
        choose_clip({"a": a, "b": b.assign(clip_id=["x", "y", "z"])})


def test_model_inputs_follow_the_run_config(small_store):
    from ferlib.train.recipes import resolve_config
    cfg = resolve_config("fan", "demo", input_side=32)
    batch = model_inputs(small_store, [0, 3], cfg, sampler="all")
    assert batch["frames"].shape == (2, 8, 3, 32, 32) and batch["landmarks"].shape == (2, 8, 68, 2)
    assert batch["frame_idx"][0].tolist() == list(range(8))
    assert model_inputs(small_store, [0], cfg)["frames"].shape[1] == 8  # FAN's test frames: every frame
    cfg.test_sampler = ""
    assert model_inputs(small_store, [0], cfg)["frames"].shape[1] == cfg.num_frames  # the training sampler's test mode


def test_sharing_verdict_compares_the_gcn_with_its_control_without_sharing():
    def table(cnn, gcn_self, gcn):
        return pd.DataFrame({"stage": ["cnn", "gcn_self", "gcn", "modules"], "neutral_to_apex": [cnn, gcn_self, gcn, 0.9]})

    shared = sharing_verdict(table(-0.1, -0.2, 0.6))
    assert "-0.10 entering" in shared and "0.60 leaving" in shared and "shares the apex's features" in shared
    assert "does NOT share" in sharing_verdict(table(-0.1, 0.58, 0.6))
    assert "cannot be measured" in sharing_verdict(table(float("nan"), float("nan"), float("nan")))
    with pytest.raises(KeyError, match="gcn_self"):
        sharing_verdict(table(0, 0, 0).iloc[[0, 2]])



def test_cam_consistency_is_one_for_one_place_and_low_for_places_that_move():
    from ferlib.analysis.gradcam import cam_consistency

    blob = np.zeros((8, 8), np.float32)
    blob[2:4, 5:7] = 1.0
    same = np.stack([blob * s for s in (0.2, 0.5, 1.0)])  # one place at three strengths
    assert cam_consistency(same) == pytest.approx(1.0)
    moving = np.zeros((4, 8, 8), np.float32)
    for t, (y, x) in enumerate([(0, 0), (0, 6), (6, 0), (6, 6)]):
        moving[t, y:y + 2, x:x + 2] = 1.0  # each frame elsewhere: every pair correlates negatively
    assert cam_consistency(moving) < 0
    assert np.isnan(cam_consistency(np.stack([blob, np.zeros_like(blob)])))  # one frame with a map left


def test_consistency_table_has_a_row_per_model_over_the_clips(small_store):
    from ferlib.analysis.gradcam import consistency_table
    from ferlib.models.registry import build_model
    from ferlib.train.recipes import resolve_config

    torch.manual_seed(0)
    cfg = resolve_config("fer_gcn", "demo", input_side=32, num_frames=4)
    model = build_model("fer_gcn", "demo", num_classes=len(small_store.classes), num_frames=4).eval()
    table = consistency_table({"a": (model, cfg), "b": (model, cfg)}, small_store, [0, 1, 2])
    assert list(table["model"]) == ["a", "b"] and table["clips"].tolist() == [3, 3]
    assert table["consistency_mean"].between(-1, 1).all() and table["consistency_sd"].ge(0).all()
    assert table.iloc[0].drop("model").equals(table.iloc[1].drop("model"))  # the same model gives the same row
