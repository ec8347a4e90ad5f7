"""KP-GCN-MSA: eq. 2–4 on known inputs, fusion, ablation switches, loss, variants, bad input."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ferlib.models.kp_gcn_msa import (
    VARIANTS,
    FixedHeadDimEncoderLayer,
    KeypointGCN,
    KPGCNMSA,
    RegionFusion,
    TemporalMSA,
    _torch_cls_attention,
    kp_gcn_msa_loss,
)
from ferlib.models.registry import build_model, model_profile


def _inputs(b: int, t: int, size: int = 32, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    clips = torch.rand(b, t, 3, size, size, generator=gen)
    landmarks = torch.rand(b, t, 68, 2, generator=gen) * (size - 1)
    return clips, landmarks


# ---------------------------------------------------------------- eq. 3–4 (key-point GCN)

LOCAL = torch.tensor([[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]])  # (N=1, K=3, C=2)
CHAIN = torch.tensor([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])


def _gcn(weighting: str = "row", use_graph: bool = True) -> KeypointGCN:
    gcn = KeypointGCN(2, 2, CHAIN, use_graph=use_graph, weighting=weighting)
    with torch.no_grad():
        if use_graph:
            gcn.w_learn.copy_(torch.eye(2))
        gcn.fc.weight.copy_(torch.eye(2))
        gcn.fc.bias.zero_()
    return gcn


@pytest.mark.parametrize(
    "weighting, expected",
    [
        # W_a = ReLU(V_l v_g) = [1, 2, 3]; row: W_a[i]·A[i, j]; column: W_a[j]·A[i, j]
        ("row", [[1.0, 1.0], [4.0, 3.0], [1.0, 4.0]]),
        ("column", [[1.0, 2.0], [4.0, 4.0], [1.0, 3.0]]),
    ],
)
def test_gcn_known_answer(weighting: str, expected: list[list[float]]) -> None:
    glob = torch.tensor([[1.0, 2.0]])
    nodes, weights = _gcn(weighting)(LOCAL, glob)
    assert torch.equal(weights, torch.tensor([[1.0, 2.0, 3.0]]))
    assert nodes.shape == (1, 4, 2)  # K key-point nodes + the global node
    assert torch.equal(nodes[0, :3], torch.tensor(expected))
    assert torch.equal(nodes[0, 3], glob[0])  # the global node goes through f only


def test_gcn_relu_on_weights_and_without_graph() -> None:
    glob = torch.tensor([[-1.0, -1.0]])  # every W_a < 0 before the ReLU → graph term vanishes
    nodes, weights = _gcn()(LOCAL, glob)
    assert torch.equal(weights, torch.zeros(1, 3))
    assert torch.equal(nodes[0, :3], LOCAL[0])
    plain = _gcn(use_graph=False)
    assert plain.w_learn is None
    nodes, weights = plain(LOCAL, torch.tensor([[1.0, 2.0]]))
    assert weights is None and torch.equal(nodes[0, :3], LOCAL[0])


def test_gcn_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="weighting"):
        KeypointGCN(2, 2, CHAIN, weighting="diag")
    with pytest.raises(ValueError, match="square"):
        KeypointGCN(2, 2, torch.zeros(3, 2))


# ---------------------------------------------------------------- fusion (Sec. 3.2, Table 10)


def test_structure_fusion_known_answer() -> None:
    fusion = RegionFusion(1, "structure", regions=((0, 1), (2, 3, 4)), num_keypoints=6)
    nodes = torch.tensor([[1.0], [3.0], [2.0], [4.0], [6.0], [100.0], [-7.0]]).unsqueeze(0)  # 6 kp + global
    out = fusion(nodes)
    assert fusion.out_dim == 3
    assert torch.equal(out, torch.tensor([[2.0, 4.0, -7.0]]))  # node 5 (like the nose bridge) unused


def test_mean_and_lstm_fusion() -> None:
    nodes = torch.randn(4, 19, 8)
    mean = RegionFusion(8, "mean")
    assert mean.out_dim == 8
    torch.testing.assert_close(mean(nodes), nodes.mean(dim=1))
    lstm = RegionFusion(8, "lstm")
    assert isinstance(lstm.lstm, nn.LSTM) and lstm.out_dim == 32
    out = lstm(nodes)
    assert out.shape == (4, 32)
    full, _ = lstm.lstm(nodes)
    torch.testing.assert_close(out, full[:, -1])  # the last node's output
    with pytest.raises(ValueError, match="fusion"):
        RegionFusion(8, "max")


# ---------------------------------------------------------------- eq. 2 on a known feature map


class _OneHotMap(nn.Module):
    """Stub trunk: every frame's map is 1 at one cell, 0 elsewhere; ``(N, C, h, w)``."""

    def __init__(self, channels: int, size: int, cell: tuple[int, int]) -> None:
        super().__init__()
        self.channels, self.size, self.cell = channels, size, cell

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.zeros(x.shape[0], self.channels, self.size, self.size)
        out[:, :, self.cell[0], self.cell[1]] = 1.0
        return out


@pytest.mark.parametrize("pooling", ["gap", "weighted"])
def test_local_vectors_pool_the_feature_map_under_each_heatmap(pooling: str) -> None:
    model = KPGCNMSA(3, backbone="small_cnn", backbone_kwargs={"width": 4, "depth": 3}, triplet="none",
                     node_dim=4, heads=2, depth=1, local_pooling=pooling)
    model.trunk = _OneHotMap(16, 4, (1, 2))  # 32-pixel frames → 8 pixels per cell
    landmarks = torch.tensor([3.5, 27.5]).expand(1, 1, 68, 2).clone()  # all at the centre of cell (3, 0)
    landmarks[0, 0, 17] = torch.tensor([19.5, 11.5])  # key-point 0 (landmark 17) at the centre of cell (1, 2)
    seen = {}
    model.gcn.register_forward_hook(lambda mod, args, out: seen.update(local=args[0], glob=args[1]))
    model(torch.zeros(1, 1, 3, 32, 32), landmarks=landmarks)
    local, glob = seen["local"], seen["glob"]
    assert local.shape == (1, 18, 16)
    torch.testing.assert_close(glob, torch.full((1, 16), 1 / 16))  # v_g = GAP(F)
    far = math.exp(-(2**2 + 2**2) / 2)  # heat-map of cell (3, 0) seen at cell (1, 2), σ = 1 cell
    if pooling == "gap":  # eq. 2: GAP(F ⊙ A) over 4×4 cells
        torch.testing.assert_close(local[0, 0], torch.full((16,), 1 / 16))
        torch.testing.assert_close(local[0, 1:], torch.full((17, 16), far / 16))
    else:  # heat-map-weighted mean: Σ F·A / Σ A, the Gaussian's sums being separable
        def mass(row: int, col: int) -> float:
            g = [math.exp(-(i - row) ** 2 / 2) for i in range(4)], [math.exp(-(j - col) ** 2 / 2) for j in range(4)]
            return sum(g[0]) * sum(g[1])

        torch.testing.assert_close(local[0, 0], torch.full((16,), 1 / mass(1, 2)))
        torch.testing.assert_close(local[0, 1:], torch.full((17, 16), far / mass(3, 0)))


# ---------------------------------------------------------------- temporal module (eq. 6–12)


def test_fixed_head_dim_layer_equals_torch_layer_when_widths_match() -> None:
    torch.manual_seed(0)
    dim, heads, ff = 16, 4, 32
    mine = FixedHeadDimEncoderLayer(dim, heads, dim // heads, ff).eval()
    ref = nn.TransformerEncoderLayer(dim, heads, ff, 0.0, activation="gelu", batch_first=True, norm_first=True).eval()
    with torch.no_grad():
        ref.self_attn.in_proj_weight.copy_(mine.to_qkv.weight)
        ref.self_attn.in_proj_bias.zero_()
        ref.self_attn.out_proj.load_state_dict(mine.to_out.state_dict())
        ref.linear1.load_state_dict(mine.mlp[0].state_dict())
        ref.linear2.load_state_dict(mine.mlp[3].state_dict())
        ref.norm1.load_state_dict(mine.norm1.state_dict())
        ref.norm2.load_state_dict(mine.norm2.state_dict())
        x = torch.randn(2, 5, dim)
        torch.testing.assert_close(mine(x), ref(x), rtol=1e-4, atol=1e-5)
        torch.testing.assert_close(mine.cls_attention(x), _torch_cls_attention(ref, x), rtol=1e-4, atol=1e-6)


def test_torch_cls_attention_matches_multihead_attention_weights() -> None:
    torch.manual_seed(1)
    layer = nn.TransformerEncoderLayer(16, 4, 32, 0.3, batch_first=True, norm_first=True).train()
    x = torch.randn(2, 6, 16)
    with torch.no_grad():
        h = layer.norm1(x)
        _, ref = layer.eval().self_attn(h, h, h, need_weights=True, average_attn_weights=True)
        layer.train()  # attention dropout is active, yet the reported weights are not dropped out
        torch.testing.assert_close(_torch_cls_attention(layer, x), ref[:, 0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("attention", ["torch", "fixed_head_dim"])
def test_frame_attention_is_a_distribution_over_frames(attention: str) -> None:
    msa = TemporalMSA(16, depth=2, heads=4, max_frames=6, attention=attention)
    cls, att = msa(torch.randn(3, 5, 16))
    assert cls.shape == (3, 16) and att.shape == (3, 5)
    assert torch.all(att >= 0) and not att.requires_grad
    torch.testing.assert_close(att.sum(dim=1), torch.ones(3))
    _, single = msa(torch.randn(2, 1, 16))
    torch.testing.assert_close(single, torch.ones(2, 1))


def test_temporal_errors() -> None:
    with pytest.raises(ValueError, match="divide"):
        TemporalMSA(512, heads=6)
    with pytest.raises(ValueError, match="max_frames=4"):
        TemporalMSA(16, heads=4, max_frames=4)(torch.randn(1, 5, 16))


# ---------------------------------------------------------------- switches change the model as claimed


def _layers(model: KPGCNMSA) -> nn.ModuleList:
    return model.temporal_module.layers


def test_heads_switch() -> None:
    full = build_model("kp_gcn_msa", "demo")
    assert all(isinstance(layer, nn.TransformerEncoderLayer) for layer in _layers(full))
    assert _layers(full)[0].self_attn.num_heads == 8
    for heads in (6, 10, 12):
        model = build_model("kp_gcn_msa", "demo", variant=f"heads{heads}")
        layer = _layers(model)[0]
        assert isinstance(layer, FixedHeadDimEncoderLayer) and layer.heads == heads
        assert layer.to_qkv.out_features == 3 * heads * 16  # head width = 128 // 8
    with pytest.raises(ValueError, match="divide"):
        build_model("kp_gcn_msa", "demo", heads=6)


def test_depth_switch() -> None:
    for depth in (2, 3, 4, 5, 6):  # 3 is the full model's depth
        variant = f"depth{depth}" if depth != 3 else "full"
        assert len(_layers(build_model("kp_gcn_msa", "demo", variant=variant))) == depth


def test_fusion_switch_changes_token_width() -> None:
    clips, landmarks = _inputs(2, 3)
    widths = {}
    for variant in ("full", "fusion_mean", "fusion_lstm"):  # full: structure-based fusion
        model = build_model("kp_gcn_msa", "demo", variant=variant).eval()
        _, extras = model(clips, landmarks=landmarks)
        widths[variant] = extras["embedding"].shape[1]
    assert widths == {"full": 128, "fusion_mean": 32, "fusion_lstm": 128}
    assert isinstance(build_model("kp_gcn_msa", "demo", variant="fusion_lstm").fusion.lstm, nn.LSTM)


def test_table9_rows() -> None:
    rows = {r: build_model("kp_gcn_msa", "demo", variant=f"table9_{r}" if r != "E" else "full") for r in "ABCDE"}  # E: the full model
    clips, landmarks = _inputs(2, 3)
    for r, model in rows.items():
        has_gcn = r in "BCE"
        assert (model.gcn.w_learn is not None) == has_gcn, r
        _, extras = model.eval()(clips, landmarks=landmarks)
        assert ("keypoint_weights" in extras) == has_gcn
        assert ("aux_logits" in extras) == (r in "CDE")
        assert ("frame_attention" in extras) == (r in "DE")
    assert rows["A"].temporal_module is None and rows["A"].head is None
    assert isinstance(rows["C"].temporal_module, nn.LSTM)
    assert isinstance(rows["E"].temporal_module, TemporalMSA)
    n = {r: sum(p.numel() for p in m.parameters()) for r, m in rows.items()}
    assert n["A"] < n["B"] < n["E"] and n["D"] < n["E"]


def test_graph_term_changes_the_output() -> None:
    torch.manual_seed(0)
    model = build_model("kp_gcn_msa", "demo").eval()
    clips, landmarks = _inputs(1, 2)
    base, _ = model(clips, landmarks=landmarks)
    model.gcn.adjacency.zero_()  # removes W_a ⊙ A · V_l
    no_graph, _ = model(clips, landmarks=landmarks)
    assert not torch.allclose(base, no_graph)
    moved, _ = model(clips, landmarks=landmarks.flip(2))  # landmarks steer the local vectors
    assert not torch.allclose(moved, no_graph)


# ---------------------------------------------------------------- loss (eq. 5, 12, 13)


def test_loss_mixes_with_lambda() -> None:
    gen = torch.Generator().manual_seed(0)
    logits, aux = torch.randn(4, 5, generator=gen), torch.randn(4, 5, generator=gen)
    targets = torch.tensor([0, 1, 2, 4])
    l_t, l_s = F.cross_entropy(logits, targets), F.cross_entropy(aux, targets)
    extras = {"aux_logits": aux}
    torch.testing.assert_close(kp_gcn_msa_loss(logits, extras, targets), 0.2 * l_s + 0.8 * l_t)
    torch.testing.assert_close(kp_gcn_msa_loss(logits, extras, targets, lam=0.0), l_t)
    torch.testing.assert_close(kp_gcn_msa_loss(logits, extras, targets, lam=1.0), l_s)
    torch.testing.assert_close(kp_gcn_msa_loss(logits, {}, targets, lam=0.5), l_t)
    with pytest.raises(ValueError, match="lam"):
        kp_gcn_msa_loss(logits, extras, targets, lam=1.5)


def test_model_loss_uses_its_lambda() -> None:
    model = build_model("kp_gcn_msa", "demo", variant="lambda0.5")
    assert model.loss_lambda == 0.5
    clips, landmarks = _inputs(2, 3)
    logits, extras = model(clips, landmarks=landmarks)
    targets = torch.tensor([1, 3])
    expected = 0.5 * F.cross_entropy(extras["aux_logits"], targets) + 0.5 * F.cross_entropy(logits, targets)
    torch.testing.assert_close(model.loss(logits, extras, targets), expected)
    with pytest.raises(ValueError, match="loss_lambda"):
        build_model("kp_gcn_msa", "demo", loss_lambda=-0.1)


# ---------------------------------------------------------------- every variant, forward + backward


@pytest.mark.parametrize("t", [1, 3, 16])
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_variant_forward_backward(variant: str, t: int) -> None:
    torch.manual_seed(0)
    model = build_model("kp_gcn_msa", "demo", num_classes=4, variant=variant)
    clips, landmarks = _inputs(2, t)
    logits, extras = model(clips, landmarks=landmarks)
    assert logits.shape == (2, 4) and torch.isfinite(logits).all()
    assert extras["embedding"].shape[0] == 2
    if "frame_attention" in extras:
        assert extras["frame_attention"].shape == (2, t)
    if "keypoint_weights" in extras:
        assert extras["keypoint_weights"].shape == (2, t, 18)
    model.loss(logits, extras, torch.tensor([0, 3])).backward()
    first_conv = next(m for m in model.trunk.modules() if isinstance(m, nn.Conv2d))
    assert first_conv.weight.grad.abs().sum() > 0


# ---------------------------------------------------------------- sizes


def test_demo_size_is_small_with_an_8x8_map() -> None:
    prof = model_profile("kp_gcn_msa", "demo")
    assert (prof.input_side, prof.num_frames) == (64, 6)
    model = build_model("kp_gcn_msa", "demo")
    assert model.local_pooling == "weighted"
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    assert model.trunk(torch.rand(2, 3, 64, 64)).shape == (2, 64, 8, 8)


def test_paper_size_single_forward() -> None:
    prof = model_profile("kp_gcn_msa", "paper")
    assert (prof.input_side, prof.num_frames, prof.sampler) == (112, 16, "tsn")
    model = build_model("kp_gcn_msa", "paper").eval()
    assert model.local_pooling == "gap"  # eq. 2 as written
    n = sum(p.numel() for p in model.parameters())
    assert 17_000_000 < n < 18_500_000  # paper: "17 M"; the docstring explains the gap
    assert sum(type(m).__name__ == "TripletAttention" for m in model.trunk.modules()) == 8
    clips, landmarks = _inputs(1, 2, size=112)
    with torch.no_grad():
        assert model.trunk(clips[0, :1]).shape == (1, 512, 14, 14)  # output stride 8
        logits, extras = model(clips, landmarks=landmarks)
    assert logits.shape == (1, 7) and extras["embedding"].shape == (1, 512)


# ---------------------------------------------------------------- bad input


def test_bad_input_errors() -> None:
    model = build_model("kp_gcn_msa", "demo")
    clips, landmarks = _inputs(1, 2)
    with pytest.raises(ValueError, match="landmark-guided"):
        model(clips)
    with pytest.raises(ValueError, match="68 iBUG"):
        model(clips, landmarks=landmarks[:, :, :5])
    with pytest.raises(ValueError, match=r"\(1, 2, V, 2\)"):
        model(clips, landmarks=landmarks[:, :1])
    bad = landmarks.clone()
    bad[0, 1, 30, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        model(clips, landmarks=bad)
    with pytest.raises(ValueError, match="max_frames=16"):
        model(*_inputs(1, 17)[:1], landmarks=_inputs(1, 17)[1])
    with pytest.raises(ValueError, match="triplet"):
        build_model("kp_gcn_msa", "demo", triplet="everywhere")
    with pytest.raises(ValueError, match="no torchvision BasicBlock"):
        build_model("kp_gcn_msa", "demo", triplet="blocks")
