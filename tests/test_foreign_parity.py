"""Parity with the authors' networks: a file written the way each official code base saves it,
loaded through :func:`ferlib.models.foreign.load_foreign`, gives the logits of a reference forward
pass written here from the published equations (functional ops on the file's tensors, eval mode).

* Emotion-FAN: ``torch.save({'epoch', 'state_dict', 'accuracy'})`` of an ``nn.DataParallel`` model
  (keys under ``module.``): torchvision ResNet-18 names + ``alpha.0``, ``beta.0``, ``pred_fc1``, ``pred_fc2``.
* ST-GCN (yysijie): torchlight's ``save_model``, a plain ``OrderedDict`` with ``module.`` stripped,
  holding ``A`` and ``edge_importance.<i>``.
* Triplet attention: the official ImageNet script's ``{'epoch', 'arch', 'state_dict', 'best_prec1',
  'optimizer'}`` of a DataParallel ResNet-18 with a block in every BasicBlock, in both namings.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from ferlib.models.fan import FAN
from ferlib.models.foreign import ForeignLoadReport, load_foreign
from ferlib.models.kp_gcn_msa import KPGCNMSA
from ferlib.models.registry import build_model
from ferlib.models.stgcn import STGCN
from ferlib.models.triplet_attention import TripletAttention

ATOL = 1e-5
GEN = torch.Generator().manual_seed(0)


def rand(*shape: int, scale: float = 0.1) -> torch.Tensor:
    return torch.randn(*shape, generator=GEN) * scale


def bn_state(prefix: str, c: int) -> dict[str, torch.Tensor]:
    return {f"{prefix}.weight": 1 + rand(c), f"{prefix}.bias": rand(c), f"{prefix}.running_mean": rand(c),
            f"{prefix}.running_var": 1 + rand(c).abs(), f"{prefix}.num_batches_tracked": torch.tensor(100)}


def bn(x: torch.Tensor, sd: dict, p: str) -> torch.Tensor:
    return F.batch_norm(x, sd[f"{p}.running_mean"], sd[f"{p}.running_var"], sd[f"{p}.weight"], sd[f"{p}.bias"], eps=1e-5)


# --------------------------------------------------------------------------- ResNet-18 (+ triplet attention)

STAGES = ((64, 1), (128, 2), (256, 2), (512, 2))  # (channels, first block's stride) of torchvision's resnet18


def resnet18_state(attention: bool = False) -> dict[str, torch.Tensor]:
    """Random weights under torchvision's ResNet-18 names (+ ``triplet_attention.{cw,hc,hw}`` gates)."""
    sd: dict[str, torch.Tensor] = {"conv1.weight": rand(64, 3, 7, 7, scale=0.15)}
    sd.update(bn_state("bn1", 64))
    c_in = 64
    for i, (c, stride) in enumerate(STAGES, start=1):
        for b in range(2):
            p = f"layer{i}.{b}"
            cin = c_in if b == 0 else c
            sd[f"{p}.conv1.weight"] = rand(c, cin, 3, 3, scale=(2 / (9 * cin)) ** 0.5)
            sd.update(bn_state(f"{p}.bn1", c))
            sd[f"{p}.conv2.weight"] = rand(c, c, 3, 3, scale=(1 / (9 * c)) ** 0.5)
            sd.update(bn_state(f"{p}.bn2", c))
            if b == 0 and (stride != 1 or cin != c):
                sd[f"{p}.downsample.0.weight"] = rand(c, cin, 1, 1, scale=(1 / cin) ** 0.5)
                sd.update(bn_state(f"{p}.downsample.1", c))
            if attention:
                for gate in ("cw", "hc", "hw"):
                    sd[f"{p}.triplet_attention.{gate}.conv.conv.weight"] = rand(1, 2, 7, 7, scale=0.2)
                    sd.update(bn_state(f"{p}.triplet_attention.{gate}.conv.bn", 1))
        c_in = c
    return sd


def gate(x: torch.Tensor, sd: dict, p: str) -> torch.Tensor:
    """Triplet-attention branch on a permuted map: Z-pool over dim 1 → 7×7 conv → BN → sigmoid → x·gate."""
    z = torch.cat([x.max(dim=1, keepdim=True).values, x.mean(dim=1, keepdim=True)], dim=1)
    return x * torch.sigmoid(bn(F.conv2d(z, sd[f"{p}.conv.conv.weight"], padding=3), sd, f"{p}.conv.bn"))


def triplet(x: torch.Tensor, sd: dict, p: str) -> torch.Tensor:
    """Mean of the three branches; C–W and H–C see the map with H, resp. W, rotated into the channel axis."""
    cw = gate(x.permute(0, 2, 1, 3), sd, f"{p}.cw").permute(0, 2, 1, 3)
    hc = gate(x.permute(0, 3, 2, 1), sd, f"{p}.hc").permute(0, 3, 2, 1)
    return (cw + hc + gate(x, sd, f"{p}.hw")) / 3


def resnet18_map(sd: dict, x: torch.Tensor, reduce_last: int = 0, attention: bool = False) -> torch.Tensor:
    """ResNet-18 feature map (N, 512, h, w); ``reduce_last`` last stages run at stride 1 (KP-GCN-MSA)."""
    h = F.max_pool2d(F.relu(bn(F.conv2d(x, sd["conv1.weight"], stride=2, padding=3), sd, "bn1")), 3, 2, 1)
    for i, (_, stride) in enumerate(STAGES, start=1):
        if i > len(STAGES) - reduce_last:
            stride = 1
        for b in range(2):
            p, s = f"layer{i}.{b}", (stride if b == 0 else 1)
            out = F.relu(bn(F.conv2d(h, sd[f"{p}.conv1.weight"], stride=s, padding=1), sd, f"{p}.bn1"))
            out = bn(F.conv2d(out, sd[f"{p}.conv2.weight"], padding=1), sd, f"{p}.bn2")
            if attention:
                out = triplet(out, sd, f"{p}.triplet_attention")
            identity = h
            if f"{p}.downsample.0.weight" in sd:
                identity = bn(F.conv2d(h, sd[f"{p}.downsample.0.weight"], stride=s), sd, f"{p}.downsample.1")
            h = F.relu(out + identity)
    return h


def old_naming(key: str) -> str:
    for new, old in (("cw.conv.", "ChannelGateH.spatial."), ("hc.conv.", "ChannelGateW.spatial."),
                     ("hw.conv.", "SpatialGate.spatial.")):
        key = key.replace(new, old)
    return key


# --------------------------------------------------------------------------- Emotion-FAN


def fan_reference(sd: dict, clips: torch.Tensor, attention: str) -> torch.Tensor:
    """Paper 004: f_i = GAP(ResNet(frame)); α = σ(q⁰·f + b) (eq. 1); f′ = Σαf/Σα (eq. 2);
    β = σ(q¹·[f : f′] + b) (eq. 3); f_v = Σαβ[f : f′]/Σαβ (eq. 4); logits = W f_v + b."""
    b, t = clips.shape[:2]
    f = resnet18_map(sd, clips.flatten(0, 1)).mean(dim=(2, 3)).view(b, t, -1)
    alpha = torch.sigmoid(f @ sd["alpha.0.weight"].T + sd["alpha.0.bias"])  # (B, T, 1)
    anchor = (alpha * f).sum(1) / alpha.sum(1)
    if attention == "self":
        return anchor @ sd["pred_fc1.weight"].T + sd["pred_fc1.bias"]
    pairs = torch.cat([f, anchor[:, None].expand(-1, t, -1)], dim=-1)
    beta = torch.sigmoid(pairs @ sd["beta.0.weight"].T + sd["beta.0.bias"])
    video = (alpha * beta * pairs).sum(1) / (alpha * beta).sum(1)
    return video @ sd["pred_fc2.weight"].T + sd["pred_fc2.bias"]


@pytest.mark.parametrize("attention", ["relation", "self"])
def test_emotion_fan_checkpoint_gives_the_reference_logits(tmp_path: Path, attention: str) -> None:
    sd = resnet18_state()
    sd.update({"alpha.0.weight": rand(1, 512), "alpha.0.bias": rand(1), "beta.0.weight": rand(1, 1024),
               "beta.0.bias": rand(1), "pred_fc1.weight": rand(7, 512), "pred_fc1.bias": rand(7),
               "pred_fc2.weight": rand(7, 1024), "pred_fc2.bias": rand(7)})
    path = tmp_path / "self_relation-attention_1_97.pth.tar"
    torch.save({"epoch": 60, "state_dict": {f"module.{k}": v for k, v in sd.items()}, "accuracy": 97.0}, path)
    model = FAN(7, backbone="resnet18", attention=attention, official_layout=True).eval()
    report = load_foreign("emotion_fan", model, str(path))
    assert isinstance(report, ForeignLoadReport) and report.missing == [] and report.unexpected == []
    clips = torch.rand(2, 3, 3, 32, 32, generator=GEN)
    with torch.no_grad():
        ours, expected = model(clips)[0], fan_reference(sd, clips, attention)
    assert expected.abs().max() > 0.1  # not a degenerate comparison
    torch.testing.assert_close(ours, expected, atol=ATOL, rtol=0)


# --------------------------------------------------------------------------- ST-GCN (yysijie)

BLOCKS = ((8, 1), (16, 2), (16, 1))


def stgcn_state(num_classes: int, c_in: int = 2, v: int = 68, k: int = 3, kt: int = 9) -> "OrderedDict[str, torch.Tensor]":
    """Random weights under the official ``st_gcn.Model`` names; ``A`` a random non-negative (K, V, V)."""
    sd: OrderedDict[str, torch.Tensor] = OrderedDict(A=torch.rand(k, v, v, generator=GEN) / v * 4)
    sd.update(bn_state("data_bn", c_in * v))
    cin = c_in
    for i, (cout, stride) in enumerate(BLOCKS):
        p = f"st_gcn_networks.{i}"
        sd[f"{p}.gcn.conv.weight"], sd[f"{p}.gcn.conv.bias"] = rand(cout * k, cin, 1, 1, scale=0.5), rand(cout * k)
        sd.update(bn_state(f"{p}.tcn.0", cout))
        sd[f"{p}.tcn.2.weight"], sd[f"{p}.tcn.2.bias"] = rand(cout, cout, kt, 1, scale=0.1), rand(cout)
        sd.update(bn_state(f"{p}.tcn.3", cout))
        if i > 0 and (cin != cout or stride != 1):
            sd[f"{p}.residual.0.weight"], sd[f"{p}.residual.0.bias"] = rand(cout, cin, 1, 1, scale=0.3), rand(cout)
            sd.update(bn_state(f"{p}.residual.1", cout))
        cin = cout
    for i in range(len(BLOCKS)):
        sd[f"edge_importance.{i}"] = 1 + rand(k, v, v)
    sd["fcn.weight"], sd["fcn.bias"] = rand(num_classes, cin, 1, 1, scale=0.5), rand(num_classes)
    return sd


def stgcn_reference(sd: dict, x: torch.Tensor, k: int = 3) -> torch.Tensor:
    """ST-GCN (Yan et al. 2018): data BN over (V·C) → per block Σ_k (X W_k)(A_k ⊙ M_k) (eq. 10) → BN →
    ReLU → 9×1 temporal conv → BN, + residual, ReLU → global average pool → 1×1 conv."""
    n, c, t, v = x.shape
    h = bn(x.permute(0, 3, 1, 2).reshape(n, v * c, t), sd, "data_bn").view(n, v, c, t).permute(0, 2, 3, 1)
    for i, (cout, stride) in enumerate(BLOCKS):
        p = f"st_gcn_networks.{i}"
        y = F.conv2d(h, sd[f"{p}.gcn.conv.weight"], sd[f"{p}.gcn.conv.bias"])
        y = y.view(n, k, cout, y.shape[2], v)
        adj = sd["A"] * sd[f"edge_importance.{i}"]
        y = sum(y[:, j] @ adj[j] for j in range(k))  # (N, C, T, V) @ (V, V), summed over the K subsets
        y = F.relu(bn(y, sd, f"{p}.tcn.0"))
        y = bn(F.conv2d(y, sd[f"{p}.tcn.2.weight"], sd[f"{p}.tcn.2.bias"], stride=(stride, 1), padding=(4, 0)), sd, f"{p}.tcn.3")
        if i == 0:
            res = torch.zeros_like(y)
        elif f"{p}.residual.0.weight" in sd:
            res = bn(F.conv2d(h, sd[f"{p}.residual.0.weight"], sd[f"{p}.residual.0.bias"], stride=(stride, 1)), sd, f"{p}.residual.1")
        else:
            res = h
        h = F.relu(y + res)
    pooled = h.mean(dim=(2, 3), keepdim=True)
    return F.conv2d(pooled, sd["fcn.weight"], sd["fcn.bias"]).flatten(1)


def test_torchlight_stgcn_file_gives_the_reference_logits(tmp_path: Path) -> None:
    sd = stgcn_state(num_classes=5)
    path = tmp_path / "epoch50_model.pt"
    torch.save(sd, path)  # torchlight: OrderedDict, "module." stripped, A and edge_importance inside
    model = STGCN(5, blocks=BLOCKS).eval()
    report = load_foreign("stgcn_yysijie", model, str(path))
    assert isinstance(report, ForeignLoadReport) and "A" in report.loaded and "edge_importance.2" in report.loaded
    assert report.missing == [] and report.dropped == []
    x = torch.randn(3, 2, 16, 68, generator=GEN)
    with torch.no_grad():
        ours, expected = model(x)[0], stgcn_reference(sd, x)
    assert expected.abs().max() > 0.1
    torch.testing.assert_close(ours, expected, atol=ATOL, rtol=0)


# --------------------------------------------------------------------------- triplet attention


def official_checkpoint(sd: dict, naming: str) -> dict:
    keys = {f"module.{old_naming(k) if naming == 'old' else k}": v for k, v in sd.items()}
    return {"epoch": 90, "arch": "resnet18", "state_dict": keys, "best_prec1": 71.0,
            "optimizer": {"state": {}, "param_groups": [{"lr": 0.1, "momentum": 0.9, "params": list(range(len(keys)))}]}}


@pytest.mark.parametrize("naming", ["old", "new"])
def test_triplet_attention_resnet_file_gives_the_reference_map(tmp_path: Path, naming: str) -> None:
    sd = resnet18_state(attention=True)
    sd["fc.weight"], sd["fc.bias"] = rand(1000, 512), rand(1000)
    path = tmp_path / f"model_best_{naming}.pth.tar"
    torch.save(official_checkpoint(sd, naming), path)
    if naming == "old":
        assert any("SpatialGate.spatial.bn.running_var" in k for k in torch.load(path, weights_only=True)["state_dict"])
    model = build_model("kp_gcn_msa", "paper", num_classes=7).eval()  # ResNet-18, output stride 8, attention per block
    assert isinstance(model, KPGCNMSA)
    report = load_foreign("triplet_attention", model.trunk, str(path))
    assert isinstance(report, ForeignLoadReport) and report.missing == [] and report.unexpected == []
    assert sorted(report.dropped) == ["module.fc.bias", "module.fc.weight"]
    x = torch.rand(2, 3, 32, 32, generator=GEN)
    with torch.no_grad():
        ours, expected = model.trunk(x), resnet18_map(sd, x, reduce_last=2, attention=True)
    assert ours.shape == (2, 512, 4, 4) and expected.abs().max() > 0.1
    torch.testing.assert_close(ours, expected, atol=ATOL, rtol=0)


@pytest.mark.parametrize("naming", ["old", "new"])
def test_bare_triplet_attention_block(tmp_path: Path, naming: str) -> None:
    sd = {}
    for g in ("cw", "hc", "hw"):
        sd[f"{g}.conv.conv.weight"] = rand(1, 2, 7, 7, scale=0.3)
        sd.update(bn_state(f"{g}.conv.bn", 1))
    path = tmp_path / "block.pth"
    torch.save({"state_dict": {f"module.{old_naming(k) if naming == 'old' else k}": v for k, v in sd.items()}}, path)
    block = TripletAttention().eval()
    report = load_foreign("triplet_attention", block, str(path))
    assert len(report.loaded) == 3 * 6 and report.missing == []
    x = torch.randn(2, 6, 5, 7, generator=GEN)
    with torch.no_grad():
        ours, expected = block(x), triplet(x, {f"t.{k}": v for k, v in sd.items()}, "t")
    assert not torch.allclose(ours, x / 2, atol=1e-3)  # the gates are input-dependent
    torch.testing.assert_close(ours, expected, atol=ATOL, rtol=0)
