"""FAN: shapes, the paper's formulas on a hand-computed example, the official evaluation option,
the paper size's parameter count, bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ferlib.models.fan import FAN
from ferlib.models.registry import build_model, model_profile

VARIANTS = ("full", "self_attention", "score_fusion", "full_official_eval")
TINY = {"backbone": "small_cnn", "backbone_kwargs": {"width": 4, "depth": 2}}


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("t", [1, 3, 16, 45])
def test_forward_backward_every_variant(variant: str, t: int) -> None:
    torch.manual_seed(0)
    model = build_model("fan", "demo", num_classes=3, variant=variant, **TINY)
    logits, extras = model(torch.rand(2, t, 3, 16, 16))
    assert logits.shape == (2, 3)
    assert extras["frame_weights"].shape == (2, t)
    if variant != "score_fusion":
        assert extras["alpha"].shape == (2, t)
    if variant.startswith("full"):
        assert extras["alpha_beta"].shape == (2, t) and extras["embedding"].shape == (2, 16)
        torch.testing.assert_close(extras["alpha_beta"], extras["alpha"] * extras["beta"])
        torch.testing.assert_close(extras["frame_weights"].sum(dim=1), torch.ones(2))  # training mode
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())  # demo layout: no unused head


def test_paper_size_has_the_official_parameter_count() -> None:
    paper = model_profile("fan", "paper")
    assert (paper.input_side, paper.num_frames, paper.sampler) == (224, 3, "segments")
    for variant in ("full", "self_attention", "score_fusion"):
        model = build_model("fan", "paper", num_classes=7, variant=variant)
        assert sum(p.numel() for p in model.parameters()) == 11_188_816
    model.eval()
    with torch.no_grad():
        logits, _ = model(torch.rand(1, 2, 3, 32, 32))
    assert logits.shape == (1, 7)


def test_demo_size_is_small() -> None:
    model = build_model("fan", "demo")
    assert sum(p.numel() for p in model.parameters()) < 1_000_000


def _hand_model(**kw: object) -> FAN:
    """A FAN whose trunk passes 2-d features through: clips (B, T, 2, 1, 1) are the f_i."""
    model = FAN(2, backbone="small_cnn", backbone_kwargs={"width": 2, "depth": 1}, official_layout=True, **kw)
    model.trunk = nn.Identity()
    with torch.no_grad():
        model.alpha.weight.copy_(torch.tensor([[1.0, -1.0]]))
        model.alpha.bias.fill_(0.0)
        model.beta.weight.copy_(torch.tensor([[0.5, 0.0, 0.0, 1.0]]))
        model.beta.bias.fill_(-0.5)
        model.self_head.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 2.0]]))
        model.self_head.bias.copy_(torch.tensor([0.0, 0.1]))
        model.relation_head.weight.copy_(torch.tensor([[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]))
        model.relation_head.bias.fill_(0.0)
    return model.eval()


FRAMES = [(1.0, 0.0), (0.0, 1.0), (1.0, 1.0)]
CLIP = torch.tensor(FRAMES).view(1, 3, 2, 1, 1)


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _expected(official: bool) -> tuple[list[float], list[float], list[float], list[float]]:
    """Eq. 1–4 with plain Python on FRAMES and the weights set in _hand_model."""
    alpha = [_sig(f[0] - f[1]) for f in FRAMES]  # σ(1), σ(-1), σ(0)
    anchor = [sum(a * f[k] for a, f in zip(alpha, FRAMES)) / sum(alpha) for k in range(2)]
    pairs = [[f[0], f[1], anchor[0], anchor[1]] for f in FRAMES]
    beta = [_sig(0.5 * p[0] + 1.0 * p[3] - 0.5) for p in pairs]
    ab = [a * b for a, b in zip(alpha, beta)]
    num_w = alpha if official else ab
    video = [sum(w * p[k] for w, p in zip(num_w, pairs)) / sum(ab) for k in range(4)]
    logits = [video[0], video[3]]
    return alpha, ab, anchor, logits


def test_relation_attention_matches_the_papers_formula() -> None:
    logits, extras = _hand_model()(CLIP)
    alpha, ab, _, expected = _expected(official=False)
    torch.testing.assert_close(extras["alpha"], torch.tensor([alpha]))
    torch.testing.assert_close(extras["alpha_beta"], torch.tensor([ab]))
    torch.testing.assert_close(logits, torch.tensor([expected]))


def test_official_eval_formula_only_in_eval_mode() -> None:
    paper = _hand_model()(CLIP)[0]
    official_model = _hand_model(official_eval=True)
    official = official_model(CLIP)[0]
    torch.testing.assert_close(official, torch.tensor([_expected(official=True)[3]]))
    assert not torch.allclose(official, paper)
    official_model.train()
    official_model.attention_dropout.p = 0.0
    official_model.classifier_dropout.p = 0.0
    torch.testing.assert_close(official_model(CLIP)[0], paper)  # training keeps eq. 4


def test_self_attention_variant_classifies_the_anchor() -> None:
    logits, extras = _hand_model(attention="self")(CLIP)
    alpha, _, anchor, _ = _expected(official=False)
    expected = [anchor[0], 2.0 * anchor[1] + 0.1]
    torch.testing.assert_close(logits, torch.tensor([expected]))
    torch.testing.assert_close(extras["frame_weights"], torch.tensor([alpha]) / sum(alpha))


def test_score_fusion_averages_frame_probabilities() -> None:
    logits, extras = _hand_model(attention="score_fusion")(CLIP)
    frame_probs = torch.softmax(extras["frame_logits"], dim=-1)
    torch.testing.assert_close(torch.softmax(logits, dim=-1), frame_probs.mean(dim=1))
    torch.testing.assert_close(torch.exp(logits).sum(dim=-1), torch.ones(1))


def test_dropout_sits_in_front_of_both_attention_heads() -> None:
    model = _hand_model()
    inputs: dict[str, torch.Tensor] = {}
    model.alpha.register_forward_pre_hook(lambda m, a: inputs.__setitem__("alpha", a[0]))
    model.beta.register_forward_pre_hook(lambda m, a: inputs.__setitem__("beta", a[0]))
    model.train()
    model.attention_dropout.p = 0.5
    torch.manual_seed(0)
    model(CLIP.expand(4, 3, 2, 1, 1).contiguous())
    for name in ("alpha", "beta"):  # dropped entries are 0, kept ones doubled
        assert (inputs[name] == 0).any() and (inputs[name] == 2.0).any(), name


def test_bad_input_errors() -> None:
    model = build_model("fan", "demo", **TINY)
    with pytest.raises(ValueError, match="5 dims"):
        model(torch.rand(2, 3, 16, 16))
    with pytest.raises(TypeError, match="expects a tensor"):
        model([torch.rand(1, 3, 16, 16)])
    with pytest.raises(ValueError, match="unknown variant 'relation_only'"):
        build_model("fan", "demo", variant="relation_only")
    with pytest.raises(ValueError, match="attention must be one of"):
        FAN(3, backbone="small_cnn", attention="cross")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="official_eval only changes"):
        FAN(3, backbone="small_cnn", attention="self", official_eval=True)
