"""Triplet attention: axis conventions, initialisation, ResNet placement, checkpoint loading."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torchvision.models.resnet import BasicBlock

from ferlib.models.backbones import resnet18, small_cnn
from ferlib.models.triplet_attention import (
    TripletAttention,
    TripletAttentionBasicBlock,
    add_triplet_attention,
    load_triplet_attention_state_dict,
    z_pool,
)


def _randomise(module: nn.Module, seed: int = 0) -> None:
    """Random weights and BN statistics, so that every parameter matters in eval mode."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if tensor.is_floating_point():
                values = torch.rand(tensor.shape, generator=gen) + 0.5 if "running_var" in name else torch.randn(
                    tensor.shape, generator=gen
                )
                tensor.copy_(values)


def _reference(ta: TripletAttention, x: torch.Tensor) -> torch.Tensor:
    """The block as described: permute so the pooled axis is dim 1, gate, permute back, average."""

    def branch(gate: nn.Module, xp: torch.Tensor) -> torch.Tensor:
        z = torch.cat((xp.max(dim=1, keepdim=True)[0], xp.mean(dim=1, keepdim=True)), dim=1)
        return xp * torch.sigmoid(gate.conv.bn(gate.conv.conv(z)))

    out_cw = branch(ta.cw, x.permute(0, 2, 1, 3)).permute(0, 2, 1, 3)
    out_hc = branch(ta.hc, x.permute(0, 3, 2, 1)).permute(0, 3, 2, 1)
    out_hw = branch(ta.hw, x)
    return (out_cw + out_hc + out_hw) / 3


def test_z_pool_is_max_then_mean() -> None:
    x = torch.tensor([[[1.0, 5.0], [3.0, -1.0]]])  # (1, 2, 2): pool over dim 1
    z = z_pool(x, 1)
    assert z.shape == (1, 2, 2)
    assert torch.equal(z[0, 0], torch.tensor([3.0, 5.0]))
    assert torch.equal(z[0, 1], torch.tensor([2.0, 2.0]))


def test_matches_permute_reference_on_non_square_maps() -> None:
    torch.manual_seed(0)
    ta = TripletAttention()
    _randomise(ta)
    ta.eval()
    x = torch.randn(2, 5, 6, 9)  # C, H, W all different: a swapped axis cannot go unnoticed
    out = ta(x)
    assert out.shape == x.shape
    torch.testing.assert_close(out, _reference(ta, x), rtol=1e-5, atol=1e-6)


def test_official_init_spatial_gamma_zero_gives_half_gate() -> None:
    ta = TripletAttention()
    assert torch.all(ta.hw.conv.bn.weight == 0)
    assert torch.all(ta.cw.conv.bn.weight == 1) and torch.all(ta.hc.conv.bn.weight == 1)
    x = torch.randn(2, 4, 5, 6)
    # with γ = 0 the hw gate is sigmoid(0) = 0.5 whatever the input
    torch.testing.assert_close(ta.hw(z_pool(x, 1)), torch.full((2, 1, 5, 6), 0.5))
    # so with all three γ at 0 the block is exactly 0.5·x: a scaling, not an identity
    with torch.no_grad():
        ta.cw.conv.bn.weight.zero_()
        ta.hc.conv.bn.weight.zero_()
    torch.testing.assert_close(ta(x), 0.5 * x)
    assert torch.all(TripletAttention(zero_init_spatial=False).hw.conv.bn.weight == 1)


def test_no_spatial_averages_two_branches() -> None:
    ta = TripletAttention(no_spatial=True)
    assert ta.hw is None and len(ta.gates()) == 2
    _randomise(ta, seed=3)
    ta.eval()
    x = torch.randn(1, 3, 4, 5)
    full = TripletAttention()
    full.cw.load_state_dict(ta.cw.state_dict())
    full.hc.load_state_dict(ta.hc.state_dict())
    full.eval()
    expected = (3 * _reference(full, x) - full.hw(z_pool(x, 1)) * x) / 2
    torch.testing.assert_close(ta(x), expected, rtol=1e-5, atol=1e-6)


def test_gradients_reach_every_gate() -> None:
    ta = TripletAttention(zero_init_spatial=False)
    x = torch.randn(2, 4, 5, 6, requires_grad=True)
    ta(x).square().sum().backward()
    for gate in ta.gates():
        assert gate.conv.conv.weight.grad is not None and gate.conv.conv.weight.grad.abs().sum() > 0
    assert x.grad is not None


def test_rejects_non_4d_input() -> None:
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        TripletAttention()(torch.randn(2, 3, 4))


def test_block_sits_after_bn2_before_residual() -> None:
    torch.manual_seed(0)
    block = BasicBlock(4, 4)
    _randomise(block, seed=1)
    wrapped = TripletAttentionBasicBlock(block)
    _randomise(wrapped.triplet_attention, seed=2)
    wrapped.eval()
    x = torch.randn(2, 4, 6, 7)
    with torch.no_grad():
        branch = block.bn2(block.conv2(torch.relu(block.bn1(block.conv1(x)))))
        expected = torch.relu(wrapped.triplet_attention(branch) + x)
        torch.testing.assert_close(wrapped(x), expected)
        # and not the unwrapped block's output
        assert not torch.allclose(wrapped(x), block.eval()(x))


def test_add_to_torchvision_and_ferlib_resnet18() -> None:
    net = torchvision.models.resnet18(weights=None)
    assert add_triplet_attention(net) == 8
    keys = net.state_dict().keys()
    assert "layer1.0.triplet_attention.hw.conv.bn.weight" in keys
    assert "layer1.0.conv1.weight" in keys  # torchvision names survive
    trunk = resnet18(output_stride=8).trunk
    assert add_triplet_attention(trunk) == 8
    assert trunk(torch.rand(1, 3, 64, 64)).shape == (1, 512, 8, 8)


def test_add_to_trunk_without_basic_blocks_fails() -> None:
    with pytest.raises(ValueError, match="no torchvision BasicBlock"):
        add_triplet_attention(small_cnn(8, 2).trunk)


def _old_names(key: str) -> str:
    for new, old in (("cw.conv.", "ChannelGateH.spatial."), ("hc.conv.", "ChannelGateW.spatial."), ("hw.conv.", "SpatialGate.spatial.")):
        key = key.replace(new, old)
    return key


@pytest.mark.parametrize("naming", ["old", "new"])
def test_loader_accepts_both_namings_on_a_bare_block(naming: str) -> None:
    source = TripletAttention()
    _randomise(source, seed=5)
    state = source.state_dict()
    if naming == "old":
        state = {_old_names(k): v for k, v in state.items()}
        assert any(k.startswith("ChannelGateH.spatial.") for k in state)
    state = {f"module.{k}": v for k, v in state.items()}
    target = TripletAttention()
    load_triplet_attention_state_dict(target, state)
    for key, value in source.state_dict().items():
        torch.testing.assert_close(target.state_dict()[key], value)


def test_loader_maps_old_resnet_checkpoint_into_ferlib_trunk() -> None:
    # an official-style checkpoint: torchvision names, old branch names, DataParallel prefix, fc
    net = torchvision.models.resnet18(weights=None)
    add_triplet_attention(net)
    _randomise(net, seed=7)
    checkpoint = {"state_dict": {f"module.{_old_names(k)}": v for k, v in net.state_dict().items()}, "epoch": 90}
    assert "module.layer4.1.triplet_attention.SpatialGate.spatial.bn.weight" in checkpoint["state_dict"]
    trunk = resnet18(output_stride=32).trunk
    add_triplet_attention(trunk)
    report = load_triplet_attention_state_dict(trunk, checkpoint)
    assert report.missing == [] and report.unexpected == [] and sorted(report.dropped) == ["module.fc.bias", "module.fc.weight"]
    assert "7.1.triplet_attention.hw.conv.bn.weight" in report.loaded
    mine = trunk.state_dict()
    torch.testing.assert_close(mine["7.1.triplet_attention.hw.conv.bn.weight"], net.state_dict()["layer4.1.triplet_attention.hw.conv.bn.weight"])
    torch.testing.assert_close(mine["0.weight"], net.state_dict()["conv1.weight"])
    net.eval()
    trunk.eval()
    x = torch.rand(1, 3, 64, 64)
    backbone_only = nn.Sequential(*list(net.children())[:-2])
    torch.testing.assert_close(trunk(x), backbone_only(x))


def test_loader_strict_reports_unknown_keys() -> None:
    state = {f"{k}": v for k, v in TripletAttention().state_dict().items()}
    state["SpatialGate.spatial.extra"] = torch.zeros(1)
    with pytest.raises(ValueError, match=r"no place in the module \['SpatialGate.spatial.extra'\]"):
        load_triplet_attention_state_dict(TripletAttention(), state)
    report = load_triplet_attention_state_dict(TripletAttention(), state, strict=False)
    assert report.unexpected == ["SpatialGate.spatial.extra"] and report.missing == []
