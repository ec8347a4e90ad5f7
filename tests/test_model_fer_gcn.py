"""FER-GCN: shapes, the paper's invariants on the adjacency A, fusion weights, bad input."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from ferlib.models.fer_gcn import FERGCN, GraphModule
from ferlib.models.registry import build_model, model_profile

VARIANTS = ("backbone", "gcn_x1", "gcn_x2", "gcn_x3", "full")
TINY = {"backbone": "small_cnn", "backbone_kwargs": {"width": 4, "depth": 2}, "node_dim": 8}


def tiny(variant: str = "full", num_frames: int = 4, **kw: object) -> FERGCN:
    torch.manual_seed(0)
    model = build_model("fer_gcn", "demo", num_classes=3, variant=variant, **{**TINY, "num_frames": num_frames, **kw})
    assert isinstance(model, FERGCN)
    return model


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("t", [1, 3, 16, 45])
def test_forward_backward_every_variant(variant: str, t: int) -> None:
    model = tiny(variant, num_frames=t)
    clips = torch.rand(2, t, 3, 16, 16)
    logits, extras = model(clips)
    assert logits.shape == (2, 3)
    assert extras["intensity_weights"].shape == (2, t)
    assert extras["frame_weights"].shape == (2, t)
    assert extras["embedding"].shape == (2, 8)
    logits.sum().backward()
    assert all(p.grad is not None for p in model.trunk.parameters())


def test_registered_sizes() -> None:
    demo, paper = model_profile("fer_gcn", "demo"), model_profile("fer_gcn", "paper")
    assert (paper.input_side, paper.num_frames, paper.sampler) == (224, 16, "chronological")
    assert paper.kwargs["backbone"] == "vgg16_bn" and paper.kwargs["node_dim"] == 256
    assert demo.kwargs["backbone"] == "small_cnn" and demo.num_frames == 16
    model = build_model("fer_gcn", "demo")
    assert sum(p.numel() for p in model.parameters()) < 1_000_000
    assert len(model.graph_modules) == 2 and model.fusion == "weighted"


def test_adjacency_starts_as_identity_and_is_one_shared_tensor() -> None:
    model = tiny("gcn_x3", num_frames=5)
    assert torch.equal(model.adjacency, torch.eye(5))
    square = [name for name, p in model.named_parameters() if p.shape == (5, 5)]
    assert square == ["adjacency"]
    seen: list[torch.Tensor] = []
    for module in model.graph_modules:
        module.register_forward_pre_hook(lambda mod, args: seen.append(args[1]))
    model(torch.rand(1, 5, 3, 16, 16))
    assert len(seen) == 3 and all(a is model.adjacency for a in seen)


def test_fusion_weights_follow_eq7_and_sum_to_one() -> None:
    model = tiny("full", num_frames=4)
    clips = torch.rand(3, 4, 3, 16, 16)
    _, extras = model(clips)
    torch.testing.assert_close(extras["intensity_weights"], torch.full((3, 4), 0.25))  # A = I: uniform
    with torch.no_grad():
        model.adjacency.copy_(torch.eye(4))
        model.adjacency[:, 2] += 2.0  # every frame depends on frame 2: column mean (2+2+3+2)/4 vs 1/4
    _, extras = model(clips)
    w = extras["intensity_weights"]
    e = torch.exp(torch.tensor([0.25, 0.25, 2.25, 0.25]))
    expected = (e / e.sum()).expand(3, 4)
    torch.testing.assert_close(w, expected)
    torch.testing.assert_close(w.sum(dim=1), torch.ones(3))
    assert not w.requires_grad  # computed on a detached A


def test_mean_variants_average_frames() -> None:
    model = tiny("gcn_x2", num_frames=4).eval()
    clips = torch.rand(2, 4, 3, 16, 16)
    _, extras = model(clips)
    torch.testing.assert_close(extras["frame_weights"], torch.full((2, 4), 0.25))


def _grad_of_a(model: FERGCN, cut_gcn_path: bool) -> torch.Tensor | None:
    if cut_gcn_path:  # the GCN layers see a constant copy of A: any gradient left comes from fusion
        model.gcn_adjacency = lambda: model.adjacency.detach()  # type: ignore[method-assign]
    with torch.no_grad():
        model.adjacency.add_(0.3 * torch.randn_like(model.adjacency))  # non-uniform weights
    model.adjacency.grad = None
    logits, _ = model(torch.rand(2, 4, 3, 16, 16))
    logits.logsumexp(dim=1).sum().backward()
    return model.adjacency.grad


def test_adjacency_gets_gradient_only_through_the_gcn_path() -> None:
    grad = _grad_of_a(tiny("full"), cut_gcn_path=False)
    assert grad is not None and grad.abs().sum() > 0
    assert _grad_of_a(tiny("full"), cut_gcn_path=True) is None
    # control: without the paper's detach the fusion branch would feed A a gradient
    grad = _grad_of_a(tiny("full", detach_fusion=False), cut_gcn_path=True)
    assert grad is not None and grad.abs().sum() > 0


def test_gcn_layer_matches_eq4_on_a_hand_example() -> None:
    module = GraphModule(dim=2, negative_slope=0.2)
    with torch.no_grad():
        module.weight.weight.copy_(torch.eye(2))  # W = I
    captured: list[torch.Tensor] = []
    module.lstm.register_forward_pre_hook(lambda mod, args: captured.append(args[0]))
    nodes = torch.tensor([[[1.0, -2.0], [3.0, 0.5], [-1.0, 1.0]]])  # (1, N=3, d=2)
    a = torch.tensor([[1.0, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    out = module(nodes, a)
    # row 0: 1·(1,-2) + 0.5·(3,0.5) = (2.5, -1.75) -> LeakyReLU -> (2.5, -0.35)
    # row 1: (3, 0.5); row 2: 2·(3,0.5) + (-1,1) = (5, 2)
    expected = torch.tensor([[[2.5, -0.35], [3.0, 0.5], [5.0, 2.0]]])
    torch.testing.assert_close(captured[0], expected)
    assert out.shape == (1, 3, 2)


def test_bad_input_errors() -> None:
    model = tiny("full", num_frames=4)
    with pytest.raises(ValueError, match="5 dims"):
        model(torch.rand(4, 3, 16, 16))
    for t in (3, 6):
        with pytest.raises(ValueError, match=f"N=4 frames .* got clips with T={t}"):
            model(torch.rand(1, t, 3, 16, 16))
    with pytest.raises(ValueError, match="unknown variant 'gcn_x9'"):
        build_model("fer_gcn", "demo", variant="gcn_x9")
    with pytest.raises(ValueError, match="needs at least one graph module"):
        FERGCN(3, backbone="small_cnn", num_modules=0, fusion="weighted")
    with pytest.raises(ValueError, match="even"):
        FERGCN(3, backbone="small_cnn", node_dim=7)
    with pytest.raises(ValueError, match="fusion must be"):
        FERGCN(3, backbone="small_cnn", fusion="max")  # type: ignore[arg-type]


def test_paper_size_single_small_forward() -> None:
    torch.manual_seed(0)
    model = build_model("fer_gcn", "paper", num_classes=7)
    assert isinstance(model.trunk, nn.Sequential) and model.num_frames == 16
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.trunk)  # VGG16-BN
    model.eval()
    with torch.no_grad():
        logits, extras = model(torch.rand(1, 16, 3, 32, 32))
    assert logits.shape == (1, 7) and extras["embedding"].shape == (1, 256)
