"""Official Emotion-FAN checkpoints into ferlib's FAN, written here in that layout by hand."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ferlib.models import foreign
from ferlib.models.fan import FAN
from ferlib.models.foreign import (
    FOREIGN_LOADERS,
    foreign_loaders,
    load_emotion_fan_state_dict,
    load_foreign,
)

# ferlib name prefix -> Emotion-FAN name prefix (torchvision resnet18 + the official heads)
TO_OFFICIAL = {
    "trunk.0.": "conv1.", "trunk.1.": "bn1.", "trunk.4.": "layer1.", "trunk.5.": "layer2.",
    "trunk.6.": "layer3.", "trunk.7.": "layer4.", "alpha.": "alpha.0.", "beta.": "beta.0.",
    "self_head.": "pred_fc1.", "relation_head.": "pred_fc2.",
}


def official_layout(model: FAN, heads: bool = True) -> dict[str, torch.Tensor]:
    out = {}
    for key, value in model.state_dict().items():
        if key.startswith("input_norm."):  # the official code has no input normalisation
            continue
        prefix = next(p for p in TO_OFFICIAL if key.startswith(p))
        if not heads and not prefix.startswith("trunk."):
            continue
        out["module." + TO_OFFICIAL[prefix] + key[len(prefix):]] = value.clone()
    return out


def make_fan(seed: int, num_classes: int = 7, **kw: object) -> FAN:
    torch.manual_seed(seed)
    model = FAN(num_classes, backbone="resnet18", official_layout=True, **kw)
    with torch.no_grad():  # non-trivial BN statistics, so that they must be copied too
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    return model.eval()


CLIP = torch.rand(1, 3, 3, 32, 32, generator=torch.Generator().manual_seed(1))


def test_full_checkpoint_round_trip(tmp_path: Path) -> None:
    source = make_fan(0)
    path = tmp_path / "fan_ckplus_fold1.pth.tar"
    torch.save({"epoch": 60, "state_dict": official_layout(source), "accuracy": 99.1}, path)
    target = make_fan(1)
    with torch.no_grad():
        assert not torch.allclose(target(CLIP)[0], source(CLIP)[0])
    report = load_emotion_fan_state_dict(target, path)
    assert report.missing == [] and report.unexpected == [] and report.dropped == []
    assert "trunk.7.1.bn2.running_var" in report.loaded and "relation_head.weight" in report.loaded
    with torch.no_grad():
        torch.testing.assert_close(target(CLIP)[0], source(CLIP)[0])


def test_backbone_only_checkpoint_drops_the_8_way_fc(tmp_path: Path) -> None:
    source = make_fan(0)
    state = official_layout(source, heads=False)
    state["module.fc.weight"] = torch.randn(8, 512)
    state["module.fc.bias"] = torch.randn(8)
    for key in [k for k in state if k.endswith("num_batches_tracked")]:
        del state[key]  # files from old torch versions have no such counters
    path = tmp_path / "Resnet18_FER+_pytorch.pth.tar"
    torch.save({"state_dict": state}, path)
    target = make_fan(1)
    report = load_emotion_fan_state_dict(target, path)
    assert sorted(report.dropped) == ["module.fc.bias", "module.fc.weight"]
    assert report.missing == sorted(
        ["alpha.weight", "alpha.bias", "beta.weight", "beta.bias", "self_head.weight", "self_head.bias",
         "relation_head.weight", "relation_head.bias"]
    )
    for key in ("trunk.0.weight", "trunk.4.0.conv1.weight", "trunk.1.running_mean"):
        torch.testing.assert_close(target.state_dict()[key], source.state_dict()[key])
    assert not torch.equal(target.alpha.weight, source.alpha.weight)  # heads untouched


def test_mapping_without_module_prefix_and_shape_mismatch() -> None:
    state = {k[len("module."):]: v for k, v in official_layout(make_fan(0)).items()}
    six = make_fan(1, num_classes=6)
    with pytest.raises(ValueError, match=r"pred_fc1.weight has shape \(7, 512\)"):
        load_emotion_fan_state_dict(six, state)
    report = load_emotion_fan_state_dict(six, state, skip_mismatched=True)
    assert sorted(report.mismatched) == sorted(
        ["self_head.weight", "self_head.bias", "relation_head.weight", "relation_head.bias"]
    )
    assert report.missing == [] and "alpha.weight" in report.loaded


def test_unreadable_and_foreign_files(tmp_path: Path) -> None:
    model = make_fan(0)
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_emotion_fan_state_dict(model, tmp_path / "nope.pth")
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(b"\x80\x02not a checkpoint" * 8)
    with pytest.raises(ValueError, match="could not read .*corrupt.pth"):
        load_emotion_fan_state_dict(model, corrupt)
    truncated = tmp_path / "truncated.pth"
    torch.save({"state_dict": official_layout(model)}, truncated)
    truncated.write_bytes(truncated.read_bytes()[:5000])
    with pytest.raises(ValueError, match="could not read .*truncated.pth"):
        load_emotion_fan_state_dict(model, truncated)
    other = tmp_path / "bert.pth"
    torch.save({"state_dict": {"encoder.layer.0.weight": torch.zeros(2)}}, other)
    with pytest.raises(ValueError, match="not an Emotion-FAN checkpoint"):
        load_emotion_fan_state_dict(model, other)
    tensor_file = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), tensor_file)
    with pytest.raises(ValueError, match="holds a Tensor"):
        load_emotion_fan_state_dict(model, tensor_file)
    no_tensors = tmp_path / "meta.pth"
    torch.save({"epoch": 3}, no_tensors)
    with pytest.raises(ValueError, match="holds no tensors"):
        load_emotion_fan_state_dict(model, no_tensors)


def test_loader_registry_lists_every_format(monkeypatch: pytest.MonkeyPatch) -> None:
    assert FOREIGN_LOADERS["emotion_fan"] is load_emotion_fan_state_dict
    loaders = foreign_loaders()
    assert set(loaders) == {"emotion_fan", "stgcn_yysijie", "triplet_attention"}
    assert all(callable(f) for f in loaders.values())
    monkeypatch.setattr(foreign, "OPTIONAL_LOADERS", {"broken": ("ferlib.models._no_such_module", "load")})
    with pytest.raises(ModuleNotFoundError, match="_no_such_module"):
        foreign_loaders()
    monkeypatch.undo()
    with pytest.raises(ValueError, match="unknown foreign checkpoint format 'caffe'"):
        load_foreign("caffe", make_fan(0), {})


def test_every_loader_takes_a_path_or_a_state_dict_and_returns_the_report(tmp_path: Path) -> None:
    from ferlib.models.foreign import ForeignLoadReport
    from ferlib.models.stgcn import STGCN
    from ferlib.models.triplet_attention import TripletAttention

    tiny = ((8, 1), (8, 2))
    stgcn_keys = {k.replace("blocks.", "st_gcn_networks.", 1): v for k, v in STGCN(3, blocks=tiny).state_dict().items()}
    cases = {
        "emotion_fan": (lambda: make_fan(1), official_layout(make_fan(0))),
        "stgcn_yysijie": (lambda: STGCN(3, blocks=tiny), stgcn_keys),
        "triplet_attention": (TripletAttention, {f"module.{k}": v for k, v in TripletAttention().state_dict().items()}),
    }
    assert set(cases) == set(foreign_loaders())  # a new loader joins this contract test
    for name, (build, state) in cases.items():
        path = tmp_path / f"{name}.pt"
        torch.save({"epoch": 1, "state_dict": state}, path)
        for source in (path, str(path), state):
            report = load_foreign(name, build(), source)
            assert isinstance(report, ForeignLoadReport), (name, type(report))
            assert report.loaded and report.unexpected == [], name
        with pytest.raises(FileNotFoundError, match="missing.pt"):
            load_foreign(name, build(), tmp_path / "missing.pt")
        truncated = tmp_path / f"{name}_truncated.pt"
        truncated.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
        with pytest.raises(ValueError, match=f"could not read {truncated}"):
            load_foreign(name, build(), str(truncated))
