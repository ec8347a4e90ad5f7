"""Pretrained trunks: torchvision's weights API (download, cache hit, offline, corrupt cache), the
Emotion-FAN file, format detection, refusals, the planning printout and the training wiring.

No test touches the network: downloads go to ``file://`` URLs of files the tests write, into a
temporary ``$TORCH_HOME``."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from torch import nn
from torchvision.models import Weights, WeightsEnum

from ferlib.data.protocols import Split
from ferlib.models import trunks
from ferlib.models.backbones import WeightsNotCachedError, fetch_torchvision_weights
from ferlib.models.registry import build_model
from ferlib.models.triplet_attention import add_triplet_attention
from ferlib.models.trunks import SYNTH_FRAMES, describe_trunk, load_trunk, resolve_trunk_weights, trunk_plan
from ferlib.train.recipes import resolve_config


def weights_enum(url: str) -> WeightsEnum:
    """A torchvision weight enum member whose file lives at ``url``, with ImageNet's transforms."""

    class LocalWeights(WeightsEnum):
        V1 = Weights(url=url, transforms=torchvision.models.ResNet18_Weights.IMAGENET1K_V1.transforms, meta={})

    return LocalWeights.V1


def publish(folder: Path, stem: str, state: dict) -> Path:
    """Save ``state`` as ``folder/<stem>-<sha256[:8]>.pth`` (torch hub's naming convention)."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f"{stem}.tmp"
    torch.save(state, tmp)
    sha = hashlib.sha256(tmp.read_bytes()).hexdigest()
    return tmp.rename(folder / f"{stem}-{sha[:8]}.pth")


@pytest.fixture()
def hub(tmp_path, monkeypatch) -> Path:
    """An empty torch hub cache under a temporary ``$TORCH_HOME``; downloads allowed."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("FERLIB_OFFLINE", raising=False)
    return tmp_path / "torch" / "hub" / "checkpoints"


@pytest.fixture(scope="module")
def resnet_state() -> dict[str, torch.Tensor]:
    """torchvision resnet18 weights (random, with non-trivial BN statistics) and its 1000-way fc."""
    torch.manual_seed(11)
    net = torchvision.models.resnet18(weights=None)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.5, 1.5)
    return {k: v.clone() for k, v in net.state_dict().items()}


@pytest.fixture(scope="module")
def resnet_remote(tmp_path_factory, resnet_state) -> Path:
    return publish(tmp_path_factory.mktemp("remote"), "resnet18", resnet_state)


def tv_backbone(state: dict[str, torch.Tensor]) -> nn.Module:
    net = torchvision.models.resnet18(weights=None)
    net.load_state_dict(state)
    return nn.Sequential(*list(net.children())[:-2]).eval()


X = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(2))


# --------------------------------------------------------------------------- torchvision weights API


def test_download_then_cache_hit(hub, tmp_path, monkeypatch):
    state = {"w": torch.arange(6.0).view(2, 3), "b": torch.ones(2)}
    remote = publish(tmp_path / "remote", "tiny", state)
    enum = weights_enum(remote.as_uri())
    got = fetch_torchvision_weights(enum, progress=False)  # downloads through torch.hub
    assert got.path == hub / remote.name and got.path.is_file()
    assert got.sha256 == hashlib.sha256(remote.read_bytes()).hexdigest()
    torch.testing.assert_close(got.state_dict["w"], state["w"])
    remote.unlink()  # the source is gone: the second read must come from the cache
    monkeypatch.setenv("FERLIB_OFFLINE", "1")  # and offline does not matter once cached
    again = fetch_torchvision_weights(enum, progress=False)
    torch.testing.assert_close(again.state_dict["b"], state["b"])
    assert again.sha256 == got.sha256


def test_offline_missing_file_names_file_cache_and_remedy(hub, monkeypatch):
    monkeypatch.setenv("FERLIB_OFFLINE", "1")
    with pytest.raises(WeightsNotCachedError) as err:
        fetch_torchvision_weights("ResNet18_Weights.IMAGENET1K_V1", progress=False)
    msg = str(err.value)
    assert str(hub / "resnet18-f37072fd.pth") in msg and "FERLIB_OFFLINE" in msg
    assert "https://download.pytorch.org/models/resnet18-f37072fd.pth" in msg and "copy it to" in msg
    assert isinstance(err.value, FileNotFoundError)
    assert not hub.exists() or not any(hub.iterdir())


def test_failed_download_is_an_error_and_leaves_no_file(hub, tmp_path):
    enum = weights_enum((tmp_path / "nowhere" / "tiny-0123abcd.pth").as_uri())
    with pytest.raises(WeightsNotCachedError, match=r"tiny-0123abcd.pth.*downloading .* failed"):
        fetch_torchvision_weights(enum, progress=False)
    assert not (hub / "tiny-0123abcd.pth").exists()


def test_download_with_wrong_hash_is_refused(hub, tmp_path):
    good = publish(tmp_path / "remote", "tiny", {"w": torch.zeros(3)})
    liar = good.with_name("tiny-deadbeef.pth")
    good.rename(liar)
    with pytest.raises(ValueError, match="invalid hash value"):
        fetch_torchvision_weights(weights_enum(liar.as_uri()), progress=False)
    assert not (hub / liar.name).exists()


def test_corrupt_or_truncated_cached_file_is_named(hub, tmp_path):
    remote = publish(tmp_path / "remote", "tiny", {"w": torch.randn(100, 100)})
    hub.mkdir(parents=True)
    cached = hub / remote.name
    cached.write_bytes(remote.read_bytes()[:20000])  # an interrupted copy
    with pytest.raises(ValueError, match=f"{cached}.*corrupt or truncated.*delete it"):
        fetch_torchvision_weights(weights_enum(remote.as_uri()), progress=False)
    # a name without a hash cannot be checked that way: torch.load's failure is named instead
    plain = hub / "plain.pth"
    plain.write_bytes(remote.read_bytes()[:20000])
    with pytest.raises(ValueError, match=f"could not read cached weight file {plain}"):
        fetch_torchvision_weights(weights_enum((tmp_path / "plain.pth").as_uri()), progress=False)


def test_checksums_are_remembered_until_the_file_changes(tmp_path, monkeypatch):
    from ferlib.models.backbones import sha256_file

    monkeypatch.setenv("FERLIB_CACHE", str(tmp_path / "cache"))
    f = tmp_path / "w.pth"
    f.write_bytes(b"a" * 1000)
    assert sha256_file(f) == hashlib.sha256(b"a" * 1000).hexdigest()
    assert str(f) in json.loads((tmp_path / "cache" / "sha256.json").read_text())
    f.write_bytes(b"b" * 1000)  # same size, rewritten
    os.utime(f, ns=(1, 1))
    assert sha256_file(f) == hashlib.sha256(b"b" * 1000).hexdigest()
    f.write_bytes(b"b" * 10)  # truncated
    assert sha256_file(f) == hashlib.sha256(b"b" * 10).hexdigest()


# --------------------------------------------------------------------------- load_trunk: ImageNet


RESNET_METHODS = [("fan", "paper"), ("cnn_mean", "paper"), ("cnn_score_fusion", "paper"), ("cnn_lstm", "paper"),
                  ("cnn_gru", "paper")]


def test_imagenet_resnet18_loads_into_every_resnet_method(hub, resnet_remote, resnet_state, monkeypatch):
    monkeypatch.setitem(trunks.IMAGENET_WEIGHTS, "resnet18", weights_enum(resnet_remote.as_uri()))
    reference = tv_backbone(resnet_state)
    for method, size in RESNET_METHODS:
        model = build_model(method, size, num_classes=7).eval()
        report = load_trunk(model, "imagenet", progress=False)
        assert (report.kind, report.architecture, report.format) == ("imagenet", "resnet18", "torchvision"), method
        assert report.dropped == ["fc.bias", "fc.weight"] and report.missing == []
        assert report.file == str(hub / resnet_remote.name)
        assert report.sha256 == hashlib.sha256(resnet_remote.read_bytes()).hexdigest()
        assert "dropped fc.weight: a head of 1000 outputs, not part of the trunk" in report.notes
        with torch.no_grad():
            torch.testing.assert_close(model.trunk(X), reference(X))  # the trunk is torchvision's network
    assert json.loads(json.dumps(report.to_dict()))["loaded"] == report.loaded and "seconds" not in report.to_dict()


def test_imagenet_trunk_features_equal_torchvision_fed_through_its_weights_transforms(
        hub, resnet_remote, resnet_state, monkeypatch):
    """ferlib's model takes [0, 1] pixels and normalises inside: its ImageNet ResNet-18 features of
    an image equal torchvision's network fed the image through ``weights.transforms()``."""
    weights = weights_enum(resnet_remote.as_uri())
    monkeypatch.setitem(trunks.IMAGENET_WEIGHTS, "resnet18", weights)
    model = build_model("cnn_mean", "paper", num_classes=7).eval()
    report = load_trunk(model, "imagenet", progress=False)
    assert report.input_mean == pytest.approx([0.485, 0.456, 0.406]) and report.input_std == pytest.approx([0.229, 0.224, 0.225])
    net = torchvision.models.resnet18(weights=None)
    net.load_state_dict(resnet_state)
    net.fc = nn.Identity()
    net.eval()
    image = torch.rand(1, 3, 256, 256, generator=torch.Generator().manual_seed(3))  # resize 256 keeps it; crop 224
    preset = weights.transforms()
    crop = image[..., 16:240, 16:240]
    with torch.no_grad():
        theirs = net(preset(image))
        _, extras = model(crop.unsqueeze(1))  # (B, T=1, 3, 224, 224) in [0, 1]
        unnormalised = net(crop)
    assert (extras["embedding"] - theirs).abs().max() <= 1e-5
    assert (extras["embedding"] - unnormalised).abs().max() > 1e-2  # without the normalisation they differ
    fan = build_model("fan", "paper", num_classes=7)
    load_trunk(fan, "imagenet", progress=False)
    assert fan.input_norm.values()[1] == pytest.approx([0.229, 0.224, 0.225])
    load_trunk(fan, "", progress=False)  # random weights: no normalisation
    assert fan.input_norm.values() == ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])


def test_normalisation_travels_in_state_dicts_and_old_ones_load_as_identity():
    model = build_model("cnn_mean", "demo", num_classes=7)
    model.input_norm.set([0.5, 0.4, 0.3], [0.2, 0.2, 0.2])
    again = build_model("cnn_mean", "demo", num_classes=7)
    again.load_state_dict(model.state_dict())
    assert again.input_norm.values() == model.input_norm.values()
    old = {k: v for k, v in model.state_dict().items() if not k.startswith("input_norm.")}
    again.load_state_dict(old)  # strict: a checkpoint made before the buffers existed still loads
    assert again.input_norm.values() == ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])


def test_imagenet_resnet18_into_kp_gcn_msa_reports_attention_missing(hub, resnet_remote, resnet_state, monkeypatch):
    monkeypatch.setitem(trunks.IMAGENET_WEIGHTS, "resnet18", weights_enum(resnet_remote.as_uri()))
    model = build_model("kp_gcn_msa", "paper", num_classes=7)
    before = {k: v.clone() for k, v in model.trunk.state_dict().items() if "triplet_attention" in k}
    report = load_trunk(model, "imagenet", progress=False)
    assert len(report.missing) == 8 * 3 * 5 and all("triplet_attention" in k for k in report.missing)
    assert any("triplet attention: 120 tensors are not in the file" in n for n in report.notes)
    own = model.trunk.state_dict()
    torch.testing.assert_close(own["7.1.conv2.weight"], resnet_state["layer4.1.conv2.weight"])  # strides differ, weights not
    torch.testing.assert_close(own["6.0.downsample.1.running_var"], resnet_state["layer3.0.downsample.1.running_var"])
    for k, v in before.items():
        torch.testing.assert_close(own[k], v)  # attention kept as initialised


def test_imagenet_vgg16_bn_loads_into_fer_gcn(hub, tmp_path, monkeypatch):
    torch.manual_seed(5)
    features = torchvision.models.vgg16_bn(weights=None).features
    state = {f"features.{k}": v for k, v in features.state_dict().items()}
    state["classifier.6.weight"], state["classifier.6.bias"] = torch.randn(1000, 8), torch.randn(1000)
    remote = publish(tmp_path / "remote", "vgg16_bn", state)
    monkeypatch.setitem(trunks.IMAGENET_WEIGHTS, "vgg16_bn", weights_enum(remote.as_uri()))
    model = build_model("fer_gcn", "paper", num_classes=7).eval()
    report = load_trunk(model, "imagenet", progress=False)
    assert report.architecture == "vgg16_bn" and report.dropped == ["classifier.6.bias", "classifier.6.weight"]
    with torch.no_grad():
        torch.testing.assert_close(model.trunk(X), features.eval()(X))


def test_imagenet_offline_without_cache_is_an_error_not_random_init(hub, monkeypatch):
    monkeypatch.setenv("FERLIB_OFFLINE", "1")
    model = build_model("cnn_mean", "paper", num_classes=7)
    before = model.trunk[0].weight.clone()
    with pytest.raises(FileNotFoundError, match=r"resnet18-f37072fd.pth.*FERLIB_OFFLINE"):
        load_trunk(model, "imagenet", progress=False)
    assert torch.equal(model.trunk[0].weight, before)


# --------------------------------------------------------------------------- Emotion-FAN and file formats


def emotion_fan_backbone(resnet_state: dict, num_out: int = 8) -> dict:
    """The published backbone file's layout: DataParallel names, an ``fc`` of 8 outputs, under ``state_dict``."""
    state = {f"module.{k}": v for k, v in resnet_state.items() if not k.startswith("fc.")}
    state["module.fc.weight"], state["module.fc.bias"] = torch.randn(num_out, 512), torch.randn(num_out)
    return {"state_dict": state}


def test_emotion_fan_file_from_the_hub_cache(hub, resnet_state):
    model = build_model("fan", "paper", num_classes=7).eval()
    with pytest.raises(FileNotFoundError) as err:
        load_trunk(model, "emotion-fan")
    msg = str(err.value)
    assert str(hub / "Resnet18_FER+_pytorch.pth.tar") in msg and "https://github.com/Open-Debin/Emotion-FAN" in msg
    assert "cannot be downloaded automatically" in msg
    hub.mkdir(parents=True)
    torch.save(emotion_fan_backbone(resnet_state), hub / "Resnet18_FER+_pytorch.pth.tar")
    report = load_trunk(model, "emotion-fan")
    assert (report.kind, report.format) == ("emotion-fan", "emotion-fan")
    assert report.dropped == ["module.fc.bias", "module.fc.weight"]
    assert "dropped module.fc.weight: a head of 8 outputs, not part of the trunk" in report.notes
    with torch.no_grad():
        torch.testing.assert_close(model.trunk(X), tv_backbone(resnet_state)(X))


def test_file_formats_are_detected(tmp_path, resnet_state):
    plain = tmp_path / "resnet18.pth"
    torch.save(resnet_state, plain)
    r = load_trunk(build_model("cnn_gru", "paper", num_classes=3), str(plain))
    assert (r.kind, r.format, r.dropped) == ("file", "torchvision", ["fc.bias", "fc.weight"])
    # a full Emotion-FAN checkpoint with a 7-class head into a 6-class FAN: the heads are dropped
    full = emotion_fan_backbone(resnet_state, num_out=8)
    for name, shape in (("alpha.0", (1, 512)), ("beta.0", (1, 1024)), ("pred_fc1", (7, 512)), ("pred_fc2", (7, 1024))):
        full["state_dict"][f"module.{name}.weight"] = torch.randn(*shape)
        full["state_dict"][f"module.{name}.bias"] = torch.randn(shape[0])
    full.update(epoch=60, accuracy=97.5)
    torch.save(full, tmp_path / "fan_fold1.pth.tar")
    six = build_model("fan", "paper", num_classes=6)
    r = load_trunk(six, str(tmp_path / "fan_fold1.pth.tar"))
    assert r.format == "emotion-fan" and len(r.dropped) == 10 and "module.pred_fc2.weight" in r.dropped
    assert any("a head of 7 outputs" in n for n in r.notes)
    # the official triplet-attention ResNet (old names, DataParallel) fills KP-GCN-MSA's trunk, attention included
    net = torchvision.models.resnet18(weights=None)
    add_triplet_attention(net)
    old = {f"module.{k}".replace("triplet_attention.hw.conv.", "triplet_attention.SpatialGate.spatial."): v
           for k, v in net.state_dict().items()}
    torch.save({"epoch": 90, "arch": "resnet18", "state_dict": old}, tmp_path / "triplet.pth.tar")
    kp = build_model("kp_gcn_msa", "paper", num_classes=7)
    r = load_trunk(kp, str(tmp_path / "triplet.pth.tar"))
    assert r.missing == [] and "trunk.7.1.triplet_attention.hw.conv.bn.weight" in r.loaded
    torch.testing.assert_close(kp.trunk.state_dict()["7.1.triplet_attention.hw.conv.bn.weight"],
                               net.state_dict()["layer4.1.triplet_attention.hw.conv.bn.weight"])
    # a state dict of the trunk itself
    torch.save(kp.trunk.state_dict(), tmp_path / "trunk.pt")
    assert load_trunk(build_model("kp_gcn_msa", "paper", num_classes=7), str(tmp_path / "trunk.pt")).format == "ferlib-trunk"


def test_synth_frames_and_small_cnn_files(tiny_frame_pretraining):
    path = resolve_trunk_weights(SYNTH_FRAMES, progress=False)
    saved = torch.load(path, weights_only=True)["trunk"]
    fan = build_model("fan", "demo", num_classes=7)
    r = load_trunk(fan, SYNTH_FRAMES, progress=False)
    assert (r.kind, r.architecture, r.format, r.dropped, r.missing) == ("synth-frames", "small_cnn", "ferlib-small-cnn", [], [])
    assert torch.equal(fan.trunk[0].weight, saved["0.weight"])
    kp = build_model("kp_gcn_msa", "demo", num_classes=7)  # depth 3 + triplet attention on the output
    r = load_trunk(kp, str(path))
    assert r.kind == "file" and torch.equal(kp.trunk[0][0].weight, saved["0.weight"])
    assert all(k.startswith("trunk.1.") for k in r.missing) and len(r.missing) == 3 * 5
    assert "12.weight" in r.dropped  # the file's 4th block, which a depth-3 trunk does not have


def test_what_does_not_fit_is_refused_by_name(tmp_path, resnet_state, tiny_frame_pretraining):
    fan = build_model("fan", "paper", num_classes=7)
    before = fan.trunk[0].weight.clone()
    vgg = tmp_path / "vgg.pth"
    torch.save({f"features.{k}": v for k, v in torchvision.models.vgg11_bn(weights=None).features.state_dict().items()}, vgg)
    with pytest.raises(ValueError, match=f"{vgg} holds VGG weights, FAN's trunk is resnet18"):
        load_trunk(fan, str(vgg))
    r34 = tmp_path / "r34.pth"
    torch.save({**resnet_state, "layer1.2.conv1.weight": torch.zeros(64, 64, 3, 3)}, r34)
    with pytest.raises(ValueError, match=f"{r34} holds ResNet-34 weights"):
        load_trunk(fan, str(r34))
    wide = tmp_path / "wide.pth"
    torch.save({**resnet_state, "conv1.weight": torch.zeros(64, 3, 3, 3)}, wide)
    with pytest.raises(ValueError, match=r"conv1.weight has shape \(64, 3, 3, 3\), the trunk's 0.weight has \(64, 3, 7, 7\)"):
        load_trunk(fan, str(wide))
    partial = tmp_path / "partial.pth"
    torch.save({k: v for k, v in resnet_state.items() if not k.startswith("layer4.")}, partial)
    with pytest.raises(ValueError, match=f"{partial} does not fill FAN's resnet18 trunk"):
        load_trunk(fan, str(partial))
    truncated = tmp_path / "truncated.pth"
    torch.save(resnet_state, truncated)
    truncated.write_bytes(truncated.read_bytes()[:100000])
    with pytest.raises(ValueError, match=f"could not read {truncated}"):
        load_trunk(fan, str(truncated))
    with pytest.raises(ValueError, match="is a ferlib small_cnn weight file"):
        load_trunk(fan, str(resolve_trunk_weights(SYNTH_FRAMES, progress=False)))
    with pytest.raises(FileNotFoundError, match="neither a named source .* nor an existing file"):
        load_trunk(fan, str(tmp_path / "typo.pth"))
    with pytest.raises(ValueError, match="'synth-frames' is the demo model's small_cnn pre-training"):
        load_trunk(fan, SYNTH_FRAMES)
    with pytest.raises(ValueError, match="torchvision ImageNet weights exist for"):
        load_trunk(build_model("fan", "demo", num_classes=7), "imagenet")
    with pytest.raises(ValueError, match="'emotion-fan' is a ResNet-18; FERGCN's trunk is vgg16_bn"):
        load_trunk(build_model("fer_gcn", "paper", num_classes=7), "emotion-fan")
    with pytest.raises(ValueError, match="STGCN has no per-frame CNN trunk"):
        load_trunk(build_model("stgcn", "demo", num_classes=7), "imagenet")
    assert torch.equal(fan.trunk[0].weight, before)  # nothing was loaded by any refusal
    r = load_trunk(build_model("stgcn", "demo", num_classes=7), "")
    assert (r.kind, r.architecture, r.loaded) == ("random", "none", [])
    assert "random initialisation" in load_trunk(fan, "").summary()


class _Payload:
    """Unpickling this would create ``marker``: a file that executes code when loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickled_objects_are_refused_never_executed(tmp_path, resnet_state):
    marker = tmp_path / "executed"
    evil = tmp_path / "evil.pth"
    torch.save({"state_dict": resnet_state, "extra": _Payload(marker)}, evil)
    with pytest.raises(ValueError, match=f"could not read {evil} .*weights_only=True"):
        load_trunk(build_model("fan", "paper", num_classes=7), str(evil))
    assert not marker.exists()


# --------------------------------------------------------------------------- planning printout


def test_describe_trunk_builds_and_loads_nothing(hub, monkeypatch, resnet_state, tiny_frame_pretraining):
    hub.mkdir(parents=True)
    fan_file = hub / "Resnet18_FER+_pytorch.pth.tar"
    torch.save(emotion_fan_backbone(resnet_state), fan_file)

    def forbidden(*a, **k):
        raise AssertionError("describe_trunk must not build a model or read weights")

    monkeypatch.setattr("ferlib.models.registry.build_model", forbidden)
    monkeypatch.setattr(torch, "load", forbidden)
    line = describe_trunk("imagenet", "fan", "paper")
    assert "ResNet18_Weights.IMAGENET1K_V1" in line and str(hub / "resnet18-f37072fd.pth") in line
    assert "missing; will download" in line
    plan = trunk_plan("emotion-fan", "fan", "paper")
    assert plan["present"] and plan["sha256"] == hashlib.sha256(fan_file.read_bytes()).hexdigest()
    assert f"(present, sha256 {plan['sha256']}" in describe_trunk("emotion-fan", "fan")
    assert "present" in describe_trunk(SYNTH_FRAMES, "fan", "demo")
    assert "random initialisation" in describe_trunk("", "stgcn")
    assert "ERROR" in describe_trunk("emotion-fan", "fer_gcn") and "ERROR" in describe_trunk("imagenet", "stgcn")
    monkeypatch.setenv("FERLIB_OFFLINE", "1")
    line = describe_trunk("imagenet", "fer_gcn")
    assert "vgg16_bn-6c64b313.pth (missing; ERROR" in line and "FERLIB_OFFLINE" in line
    fan_file.unlink()
    assert "cannot be downloaded automatically" in describe_trunk("emotion-fan", "fan")


# --------------------------------------------------------------------------- training


def test_paper_sizes_start_from_the_papers_trunks():
    assert resolve_config("fer_gcn", "paper", dataset="ckplus").init_trunk == "imagenet"
    assert resolve_config("fan", "paper", dataset="afew").init_trunk == "emotion-fan"
    assert resolve_config("kp_gcn_msa", "paper", dataset="dfew").init_trunk == "imagenet"
    assert resolve_config("stgcn", "paper", dataset="affwild2").init_trunk == ""
    assert resolve_config("cnn_lstm", "paper", dataset="ckplus").init_trunk == "imagenet"  # not FAN's, whose recipe it borrows
    assert resolve_config("fan", "paper", dataset="ckplus", init_trunk="").init_trunk == ""  # an explicit choice wins


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from ferlib.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("tiny") / "store"
    return generate(root, SynthConfig(n_subjects=3, n_frames=4, side=32, classes=("happy", "surprise"), seed=0), progress=False)


def test_fit_writes_and_logs_the_trunk_report(tiny, tmp_path, capsys):
    from ferlib.train.engine import fit

    cfg = resolve_config("fan", "demo", epochs=1, batch_size=2, input_side=32, progress=False)
    assert cfg.init_trunk == SYNTH_FRAMES
    m = fit(cfg, tiny, Split("f0", np.array([0, 1, 2, 3]), np.array([4, 5])), tmp_path / "run")
    report = json.loads((tmp_path / "run" / "trunk.json").read_text())
    assert m["trunk"] == report and report["kind"] == SYNTH_FRAMES and report["sha256"]
    assert report["file"] == str(resolve_trunk_weights(SYNTH_FRAMES, progress=False).resolve())
    assert "ferlib: trunk (small_cnn) from 'synth-frames'" in capsys.readouterr().out


def test_cli_trunk_flag(tiny, tmp_path, capsys):
    from ferlib.cli import main

    common = ["--store", str(tiny.root), "--method", "fan", "--protocol-arg", "k=3", "--set", "epochs=1",
              "--set", "batch_size=2", "--set", "input_side=32", "--set", "progress=false"]
    assert main(["train", "--out", str(tmp_path / "r"), *common, "--trunk", ""]) == 0
    assert json.loads((tmp_path / "r" / "config.json").read_text())["init_trunk"] == ""
    assert json.loads((tmp_path / "r" / "trunk.json").read_text())["kind"] == "random"
    assert main(["cv", "--out", str(tmp_path / "cv"), *common, "--folds", "0", "--trunk", str(tmp_path / "nope.pt")]) == 2
    err = capsys.readouterr().err  # refused before the run folder is written
    assert f"init_trunk='{tmp_path / 'nope.pt'}'" in err and "no such file" in err
    assert not (tmp_path / "cv").exists()


def test_small_cnn_pools_before_its_relu_with_the_numbers_of_relu_then_pool():
    """Max and ReLU commute: pooling first gives conv-BN-ReLU-pool's outputs and input gradients exactly."""
    from ferlib.models.backbones import small_cnn

    torch.manual_seed(0)
    trunk = small_cnn(width=8, depth=3).trunk
    blocks = [list(trunk)[i:i + 4] for i in range(0, len(trunk), 4)]
    assert all(isinstance(b[2], nn.MaxPool2d) and isinstance(b[3], nn.ReLU) for b in blocks)
    relu_first = nn.Sequential(*[m for b in blocks for m in (b[0], b[1], b[3], b[2])])
    x = torch.randn(6, 3, 32, 32, requires_grad=True)
    out, ref = trunk(x), relu_first(x)
    assert torch.equal(out, ref)
    grad, ref_grad = (torch.autograd.grad(y.square().sum(), x)[0] for y in (out, ref))
    assert torch.equal(grad, ref_grad)


def test_frozen_leading_convs_keep_their_values_and_the_rest_learns():
    """freeze_trunk=1 on the demo KP-GCN-MSA: after training steps the first conv and its BatchNorm
    (weights and running statistics) are unchanged, the second conv moved, and the state-dict keys
    are those of the unfrozen model (so checkpoints and trunk files load either way)."""
    from ferlib.train.engine import build_run_model
    from ferlib.train.schedules import build_optimizer, param_groups

    cfg = resolve_config("kp_gcn_msa", "demo", init_trunk="", freeze_trunk=1, lr=1e-2)
    model = build_run_model(cfg, 3)
    plain = build_run_model(resolve_config("kp_gcn_msa", "demo", init_trunk=""), 3)
    assert list(model.state_dict()) == list(plain.state_dict())
    before = {k: v.clone() for k, v in model.trunk.state_dict().items()}
    opt = build_optimizer(param_groups(model, cfg), cfg)
    torch.manual_seed(0)
    clips, lms = torch.rand(2, 2, 3, 64, 64), torch.rand(2, 2, 68, 2) * 40 + 12
    model.train()
    for _ in range(2):
        logits, extras = model(clips, lms)
        opt.zero_grad()
        model.loss(logits, extras, torch.tensor([0, 1])).backward()
        opt.step()
    after = model.trunk.state_dict()
    body = "0." if "0.0.weight" in after else ""
    for k in (f"{body}0.weight", f"{body}1.weight", f"{body}1.bias", f"{body}1.running_mean", f"{body}1.running_var"):
        assert torch.equal(after[k], before[k]), k
    assert not torch.equal(after[f"{body}4.weight"], before[f"{body}4.weight"])
    assert not torch.equal(after[f"{body}5.running_mean"], before[f"{body}5.running_mean"])
    assert not model.trunk.get_submodule(f"{body}1".rstrip(".")).training  # stays in eval mode under model.train()


def test_freeze_trunk_asks_for_what_a_model_has():
    from ferlib.models.backbones import freeze_leading_convs, small_cnn
    from ferlib.train.engine import build_run_model

    with pytest.raises(ValueError, match="stgcn has no per-frame CNN"):
        build_run_model(resolve_config("stgcn", "demo", freeze_trunk=1), 7)
    with pytest.raises(ValueError, match="freeze_trunk=9 for kp_gcn_msa.*has 6 convolutions followed by a BatchNorm2d"):
        build_run_model(resolve_config("kp_gcn_msa", "demo", init_trunk="", freeze_trunk=9), 7)
    with pytest.raises(ValueError, match="freeze_trunk must be >= 0"):
        resolve_config("fan", "demo", freeze_trunk=-1)
    trunk = small_cnn(8, 2).trunk
    assert freeze_leading_convs(trunk, 2) == ["0", "1", "4", "5"]
    assert not any(p.requires_grad for p in trunk.parameters())
