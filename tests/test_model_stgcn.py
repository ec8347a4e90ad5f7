"""ST-GCN over facial landmarks: shapes, strides, streams, fusion, input normalisation,
yysijie/st-gcn checkpoints and bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ferlib.data.landmarks68 import MEAN_SHAPE
from ferlib.models.face_graph import face_graph
from ferlib.models.registry import build_model, model_profile
from ferlib.models.stgcn import (
    DEMO_BLOCKS,
    PAPER_BLOCKS,
    STREAMS,
    MultiStreamSTGCN,
    STGCN,
    joints_to_bones,
    landmarks_to_stgcn_input,
    load_yysijie_stgcn_state_dict,
    temporal_motion,
)

TINY = ((8, 1), (8, 2), (16, 2))


def _params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def _temporal_lengths(model: STGCN, x: torch.Tensor) -> list[int]:
    seen: list[int] = []
    hooks = [b.register_forward_hook(lambda m, i, o: seen.append(o.shape[2])) for b in model.blocks]
    model(x)
    for h in hooks:
        h.remove()
    return seen


def test_paper_size_parameters_and_strides():
    torch.manual_seed(0)
    model = build_model("stgcn", "paper", num_classes=5)
    assert isinstance(model, STGCN)
    assert _params(model) == pytest.approx(3.2e6, rel=0.03)
    assert _params(model) == 3_204_597
    x = torch.randn(1, 2, 45, 68)
    assert _temporal_lengths(model, x) == [45] * 4 + [23] * 3 + [12] * 3
    logits, extras = model(x)
    assert logits.shape == (1, 5) and extras["embedding"].shape == (1, 256)


def test_sizes():
    demo, paper = model_profile("stgcn", "demo"), model_profile("stgcn", "paper")
    assert (demo.num_frames, paper.num_frames) == (16, 45)
    assert demo.sampler == paper.sampler == "window"
    for variant in ("full", "multistream"):
        assert _params(build_model("stgcn", "demo", num_classes=7, variant=variant)) < 1_000_000


@pytest.mark.parametrize("t", [16, 45])
@pytest.mark.parametrize("variant", ["full", "joints", "bones", "joint_motion", "bone_motion", "multistream"])
def test_forward_backward_every_variant(variant, t):
    torch.manual_seed(0)
    model = build_model("stgcn", "demo", num_classes=5, variant=variant, blocks=TINY)
    x = torch.randn(2, 2, t, 68)
    logits, extras = model(x)
    assert logits.shape == (2, 5)
    assert torch.isfinite(logits).all()
    logits.sum().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None for g in grads)
    n_streams = 4 if variant == "multistream" else 1
    assert extras["embedding"].shape == (2, 16 * n_streams)
    if variant == "multistream":
        assert extras["stream_logits"].shape == (2, 4, 5)


def test_demo_strides_halve_time():
    model = STGCN(7, blocks=DEMO_BLOCKS)
    assert _temporal_lengths(model, torch.randn(1, 2, 16, 68)) == [16, 8, 8, 4]


def test_single_frame_and_person_axis():
    torch.manual_seed(0)
    model = STGCN(3, blocks=TINY).eval()
    x = torch.randn(2, 2, 7, 68)
    logits4, _ = model(x)
    logits5, _ = model(x.unsqueeze(-1))
    torch.testing.assert_close(logits4, logits5)
    # two copies of the same face average to the same answer
    logits_m2, _ = model(torch.stack([x, x], dim=-1))
    torch.testing.assert_close(logits4, logits_m2)
    assert model(torch.randn(1, 2, 1, 68))[0].shape == (1, 3)


def test_adjacency_buffer_and_edge_importance():
    model = STGCN(3, blocks=TINY)
    state = model.state_dict()
    assert "A" in state and state["A"].shape == (3, 68, 68)
    torch.testing.assert_close(state["A"], torch.tensor(face_graph().A))
    assert "A" not in dict(model.named_parameters())
    assert len(model.edge_importance) == 3
    assert all(torch.equal(w, torch.ones(3, 68, 68)) for w in model.edge_importance)
    assert model.blocks[0].has_residual is False and all(b.has_residual for b in model.blocks[1:])
    assert model.blocks[0].tcn[4].p == 0.0 and model.blocks[1].tcn[4].p == 0.5
    assert model.edge_importance[0].grad is None
    model(torch.randn(1, 2, 5, 68))[0].sum().backward()
    assert model.edge_importance[0].grad is not None
    assert STGCN(3, blocks=TINY, edge_importance=False).edge_importance is None


def test_graph_conv_aggregates_only_over_neighbours():
    """A signal on one landmark reaches only its graph neighbours after one spatial graph conv."""
    model = STGCN(3, blocks=TINY)
    gcn = model.blocks[0].gcn
    x = torch.zeros(1, 2, 1, 68)
    x[0, :, 0, 51] = 1.0
    with torch.no_grad():
        gcn.conv.bias.zero_()
        out = gcn(x, model.A)
    touched = set(torch.nonzero(out.abs().sum(dim=(0, 1, 2)) > 0).flatten().tolist())
    assert touched == {51, 50, 52, 33}


@pytest.mark.parametrize("cin,cout", [(2, 16), (16, 32), (32, 32), (64, 32)])
def test_graph_conv_equals_the_official_order_with_its_gradients(cin, cout):
    """Eq. 10 as the official code computes it (1×1 conv to K·C_out channels, then Σ_k over A_k),
    whichever order the layer chooses: outputs and gradients of x, A, W and b agree to rounding."""
    from ferlib.models.stgcn import SpatialGraphConv

    torch.manual_seed(cin + cout)
    gcn = SpatialGraphConv(cin, cout, 3)
    x = torch.randn(2, cin, 5, 68, requires_grad=True)
    A = torch.rand(3, 68, 68, requires_grad=True)
    y = gcn(x, A)
    ref = torch.einsum("nkctv,kvw->nctw", gcn.conv(x).view(2, 3, cout, 5, 68), A)
    torch.testing.assert_close(y, ref, rtol=1e-5, atol=1e-4)
    dy = torch.randn_like(y)
    wrt = (x, A, gcn.conv.weight, gcn.conv.bias)
    for a, b in zip(torch.autograd.grad(y, wrt, dy), torch.autograd.grad(ref, wrt, dy)):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5 * float(b.abs().max()))


def test_streams_known_answers():
    g = face_graph()
    parents = torch.as_tensor(g.parents)
    x = torch.randn(2, 2, 5, 68)
    bones = joints_to_bones(x, parents)
    torch.testing.assert_close(bones[..., 30], torch.zeros(2, 2, 5))  # the root has no bone
    torch.testing.assert_close(bones[..., 29], x[..., 29] - x[..., 30])
    torch.testing.assert_close(bones[..., 51], x[..., 51] - x[..., 33])
    motion = temporal_motion(x)
    torch.testing.assert_close(motion[:, :, 2], x[:, :, 3] - x[:, :, 2])
    torch.testing.assert_close(motion[:, :, -1], torch.zeros(2, 2, 68))
    # a translated face has the same bones and motion
    shifted = x + torch.tensor([3.0, -2.0]).view(1, 2, 1, 1)
    torch.testing.assert_close(joints_to_bones(shifted, parents), bones)
    torch.testing.assert_close(temporal_motion(shifted), motion)
    # with a 5-dim input the node axis is still dim 3
    torch.testing.assert_close(joints_to_bones(x.unsqueeze(-1), parents)[..., 0], bones)


def test_bone_stream_model_is_translation_invariant():
    model = STGCN(3, blocks=TINY, stream="bone").eval()
    x = torch.randn(2, 2, 6, 68)
    torch.testing.assert_close(model(x)[0], model(x + 5.0)[0])
    joint = STGCN(3, blocks=TINY, stream="joint").eval()
    assert not torch.allclose(joint(x)[0], joint(x + 5.0)[0])


def test_multistream_fusion():
    torch.manual_seed(0)
    model = MultiStreamSTGCN(4, blocks=TINY).eval()
    x = torch.randn(3, 2, 8, 68)
    fused, extras = model(x)
    stream_logits = extras["stream_logits"]
    assert list(model.streams) == list(STREAMS)
    expected = F.softmax(stream_logits, -1).mean(1)
    torch.testing.assert_close(fused.exp(), expected)
    torch.testing.assert_close(stream_logits[:, 1], model.streams["bone"](x)[0])
    model.fusion = "mean_logits"
    torch.testing.assert_close(model(x)[0], stream_logits.mean(1))


def test_multistream_from_single_streams():
    a, b = STGCN(4, blocks=TINY, stream="joint"), STGCN(4, blocks=TINY, stream="bone_motion")
    ens = MultiStreamSTGCN.from_single_streams([a, b], fusion="mean_logits").eval()
    a.eval(), b.eval()
    x = torch.randn(2, 2, 6, 68)
    torch.testing.assert_close(ens(x)[0], (a(x)[0] + b(x)[0]) / 2)
    assert ens.stream_names == ("joint", "bone_motion")
    with pytest.raises(ValueError, match="num_classes=4"):
        MultiStreamSTGCN(4, models=[a, STGCN(5, blocks=TINY)])
    with pytest.raises(ValueError, match="distinct names"):
        MultiStreamSTGCN.from_single_streams([a, STGCN(4, blocks=TINY)])


def _face_clip(b: int = 2, t: int = 4) -> torch.Tensor:
    torch.manual_seed(1)
    base = torch.tensor(MEAN_SHAPE).expand(b, t, 68, 2)
    return base + 0.01 * torch.randn(b, t, 68, 2)


def test_landmarks_to_input_eyes_normalisation():
    face = _face_clip()
    pixels = face * 80.0 + torch.tensor([120.0, 90.0])  # scale 80 px, shifted
    out = landmarks_to_stgcn_input(pixels)
    assert out.shape == (2, 2, 4, 68) and out.dtype == torch.float32
    torch.testing.assert_close(out, landmarks_to_stgcn_input(face), atol=1e-4, rtol=1e-4)
    eyes_mid = (out[:, :, :, 36] + out[:, :, :, 45]) / 2  # (B, 2, T)
    torch.testing.assert_close(eyes_mid.mean(-1), torch.zeros(2, 2), atol=1e-5, rtol=0)
    iod = (out[:, :, :, 45] - out[:, :, :, 36]).norm(dim=1).mean(-1)
    torch.testing.assert_close(iod, torch.ones(2))
    # motion inside a clip is kept: one translation per clip, not per frame
    moving = pixels.clone()
    moving[:, 2:] += 10.0
    moved = landmarks_to_stgcn_input(moving)
    assert (moved[:, :, 2:] - moved[:, :, :2].mean(2, keepdim=True)).abs().mean() > 0.05


def test_landmarks_to_input_other_normalisations():
    face = _face_clip() * 50 + 7
    raw = landmarks_to_stgcn_input(face, normalise="none")
    torch.testing.assert_close(raw, face.permute(0, 3, 1, 2))
    cen = landmarks_to_stgcn_input(face, normalise="centroid")
    torch.testing.assert_close(cen.mean(dim=(2, 3)), torch.zeros(2, 2), atol=1e-5, rtol=0)
    torch.testing.assert_close(cen.pow(2).sum(1).mean(dim=(1, 2)), torch.ones(2))


def test_landmarks_to_input_errors():
    with pytest.raises(ValueError, match=r"\(B, T, 68, 2\), got \(2, 4, 67, 2\)"):
        landmarks_to_stgcn_input(torch.zeros(2, 4, 67, 2))
    with pytest.raises(ValueError, match=r"\(B, T, 68, 2\), got \(4, 68, 2\)"):
        landmarks_to_stgcn_input(torch.zeros(4, 68, 2))
    bad = _face_clip()
    bad[1, 0, 5, 0] = float("nan")
    with pytest.raises(ValueError, match=r"clips \[1\].*NaN"):
        landmarks_to_stgcn_input(bad)
    flat = _face_clip()
    flat[0] = 3.0
    with pytest.raises(ValueError, match=r"clips \[0\].*scale below"):
        landmarks_to_stgcn_input(flat)
    with pytest.raises(ValueError, match="unknown normalise 'box'"):
        landmarks_to_stgcn_input(_face_clip(), normalise="box")  # type: ignore[arg-type]


def test_model_input_errors():
    model = STGCN(3, blocks=TINY)
    with pytest.raises(ValueError, match=r"\(N, C, T, V\).*got \(2, 16, 68\) \(3 dims\)"):
        model(torch.zeros(2, 16, 68))
    with pytest.raises(ValueError, match="V=68 nodes.*got C=2, V=67"):
        model(torch.zeros(1, 2, 16, 67))
    with pytest.raises(ValueError, match="C=2 channels.*got C=3"):
        model(torch.zeros(1, 3, 16, 68))
    with pytest.raises(ValueError, match="landmarks_to_stgcn_input"):
        model(torch.zeros(1, 16, 68, 2, 1, 1))
    with pytest.raises(ValueError, match="empty input"):
        model(torch.zeros(1, 2, 0, 68))
    with pytest.raises(TypeError, match="expects a tensor"):
        model(np.zeros((1, 2, 16, 68)))
    with pytest.raises(ValueError, match="unknown stream 'angles'"):
        STGCN(3, stream="angles")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown fusion 'max'"):
        MultiStreamSTGCN(3, fusion="max", blocks=TINY)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="positive odd"):
        STGCN(3, blocks=TINY, temporal_kernel=4)


# --------------------------------------------------------------------------- yysijie checkpoints


def _yysijie_state_dict(blocks, num_classes: int, c_in: int = 2, v: int = 68, k: int = 3, kt: int = 9):
    """A random state dict in the official st-gcn layout, written key by key."""
    g = torch.Generator().manual_seed(3)

    def r(*shape):
        return torch.randn(*shape, generator=g) * 0.2

    def bn(prefix, c):
        return {
            f"{prefix}.weight": 1 + r(c), f"{prefix}.bias": r(c), f"{prefix}.running_mean": r(c),
            f"{prefix}.running_var": 1 + r(c).abs(), f"{prefix}.num_batches_tracked": torch.tensor(7),
        }

    sd = {"A": torch.tensor(face_graph().A) * (1 + torch.rand(k, v, v, generator=g))}
    sd.update(bn("data_bn", c_in * v))
    cin = c_in
    for i, (cout, stride) in enumerate(blocks):
        p = f"st_gcn_networks.{i}"
        sd[f"{p}.gcn.conv.weight"], sd[f"{p}.gcn.conv.bias"] = r(cout * k, cin, 1, 1), r(cout * k)
        sd.update(bn(f"{p}.tcn.0", cout))
        sd[f"{p}.tcn.2.weight"], sd[f"{p}.tcn.2.bias"] = r(cout, cout, kt, 1), r(cout)
        sd.update(bn(f"{p}.tcn.3", cout))
        if i > 0 and (cin != cout or stride != 1):
            sd[f"{p}.residual.0.weight"], sd[f"{p}.residual.0.bias"] = r(cout, cin, 1, 1), r(cout)
            sd.update(bn(f"{p}.residual.1", cout))
        sd[f"edge_importance.{i}"] = 1 + r(k, v, v)
        cin = cout
    sd["fcn.weight"], sd["fcn.bias"] = r(num_classes, cin, 1, 1), r(num_classes)
    return sd


def _official_forward(sd, blocks, x, k: int = 3):
    """The official network's forward (eval mode), written with functional ops on the state dict."""

    def bn(t, p):
        return F.batch_norm(t, sd[f"{p}.running_mean"], sd[f"{p}.running_var"], sd[f"{p}.weight"], sd[f"{p}.bias"])

    n, c, t, v = x.shape
    h = x.unsqueeze(-1).permute(0, 4, 3, 1, 2).reshape(n, v * c, t)  # (N·M, V·C, T)
    h = bn(h, "data_bn").view(n, v, c, t).permute(0, 2, 3, 1)  # (N, C, T, V)
    cin = c
    for i, (cout, stride) in enumerate(blocks):
        p = f"st_gcn_networks.{i}"
        A = sd["A"] * sd[f"edge_importance.{i}"]
        y = F.conv2d(h, sd[f"{p}.gcn.conv.weight"], sd[f"{p}.gcn.conv.bias"])
        y = torch.einsum("nkctv,kvw->nctw", y.view(n, k, cout, y.shape[2], v), A)
        y = F.relu(bn(y, f"{p}.tcn.0"))
        y = F.conv2d(y, sd[f"{p}.tcn.2.weight"], sd[f"{p}.tcn.2.bias"], stride=(stride, 1), padding=(4, 0))
        y = bn(y, f"{p}.tcn.3")
        if i == 0:
            res = 0
        elif cin == cout and stride == 1:
            res = h
        else:
            res = bn(F.conv2d(h, sd[f"{p}.residual.0.weight"], sd[f"{p}.residual.0.bias"], stride=(stride, 1)),
                     f"{p}.residual.1")
        h = F.relu(y + res)
        cin = cout
    pooled = F.avg_pool2d(h, h.shape[2:])
    return F.conv2d(pooled, sd["fcn.weight"], sd["fcn.bias"]).flatten(1)


def test_load_yysijie_state_dict_matches_official_forward():
    sd = _yysijie_state_dict(DEMO_BLOCKS, num_classes=5)
    model = STGCN(5, blocks=DEMO_BLOCKS)
    load_yysijie_stgcn_state_dict(model, {"module." + k: v for k, v in sd.items()})
    model.eval()
    torch.testing.assert_close(model.A, sd["A"])
    torch.testing.assert_close(model.blocks[1].residual[0].weight, sd["st_gcn_networks.1.residual.0.weight"])
    torch.testing.assert_close(model.edge_importance[3], sd["edge_importance.3"])
    x = torch.randn(2, 2, 16, 68)
    with torch.no_grad():
        torch.testing.assert_close(model(x)[0], _official_forward(sd, DEMO_BLOCKS, x), atol=1e-4, rtol=1e-4)


def test_load_yysijie_options_and_errors():
    sd = _yysijie_state_dict(TINY, num_classes=3)
    model = STGCN(3, blocks=TINY)
    own_A = model.A.clone()
    old = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked")}  # an old checkpoint
    load_yysijie_stgcn_state_dict(model, {"state_dict": old}, load_adjacency=False)
    torch.testing.assert_close(model.A, own_A)
    torch.testing.assert_close(model.fcn.bias, sd["fcn.bias"])
    with pytest.raises(ValueError, match=r"'fcn.weight' has shape \(3, 16, 1, 1\).*\(4, 16, 1, 1\)"):
        load_yysijie_stgcn_state_dict(STGCN(4, blocks=TINY), sd)
    missing = {k: v for k, v in sd.items() if not k.startswith("st_gcn_networks.2.tcn.2")}
    with pytest.raises(ValueError, match=r"missing from the checkpoint: \['blocks.2.tcn.2.weight'"):
        load_yysijie_stgcn_state_dict(STGCN(3, blocks=TINY), missing)
    with pytest.raises(ValueError, match=r"not in the model: \['st_gcn_networks.9.gcn.conv.weight'\]"):
        load_yysijie_stgcn_state_dict(STGCN(3, blocks=TINY), {**sd, "st_gcn_networks.9.gcn.conv.weight": torch.zeros(1)})
    with pytest.raises(TypeError, match="load each stream"):
        load_yysijie_stgcn_state_dict(MultiStreamSTGCN(3, blocks=TINY), sd)  # type: ignore[arg-type]


def test_paper_blocks_are_the_official_stack():
    assert [c for c, _ in PAPER_BLOCKS] == [64, 64, 64, 64, 128, 128, 128, 256, 256, 256]
    assert [i for i, (_, s) in enumerate(PAPER_BLOCKS) if s == 2] == [4, 7]


def test_smoothing_averages_over_frames_and_keeps_a_still_face() -> None:
    from ferlib.models.stgcn import STGCN, smooth_frames

    still = torch.randn(2, 2, 1, 68, 1).expand(2, 2, 7, 68, 1)
    torch.testing.assert_close(smooth_frames(still, 5), still)  # a constant course is left as it is
    zigzag = torch.tensor([0.0, 1.0] * 4).view(1, 1, 8, 1, 1)
    out = smooth_frames(zigzag, 3).flatten()
    torch.testing.assert_close(out[1:-1], torch.tensor([1 / 3, 2 / 3] * 3))  # (0+1+0)/3, (1+0+1)/3 …
    torch.testing.assert_close(out[[0, -1]], torch.tensor([1 / 3, 2 / 3]))  # the edge frames repeated
    with pytest.raises(ValueError, match="smooth must be an odd number of frames >= 1, got 4"):
        STGCN(3, blocks=((8, 1),), smooth=4)
    model = STGCN(3, blocks=((8, 1),), smooth=5).eval()
    logits, _ = model(torch.randn(2, 2, 6, 68))
    assert logits.shape == (2, 3) and torch.isfinite(logits).all()
