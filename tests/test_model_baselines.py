"""Baselines: per-frame CNNs, CNN + LSTM/GRU, torchvision's R3D-18."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torchvision

from ferlib.models.baselines import R3D, FrameCNN, RecurrentCNN, fuse_frame_scores, r3d_18_reference
from ferlib.models.registry import available_methods, build_model, model_profile

METHODS = ("cnn_mean", "cnn_score_fusion", "cnn_lstm", "cnn_gru", "r3d_18")
TINY_2D = {"backbone": "small_cnn", "backbone_kwargs": {"width": 4, "depth": 2}}


def tiny(method: str, **kw: object) -> torch.nn.Module:
    torch.manual_seed(0)
    extra = {"width": 2, "layers": (1, 1, 1, 1)} if method == "r3d_18" else dict(TINY_2D)
    return build_model(method, "demo", num_classes=3, **{**extra, **kw})


def test_registered_with_both_sizes() -> None:
    assert set(METHODS) <= set(available_methods())
    for method in METHODS:
        for size in ("demo", "paper"):
            assert model_profile(method, size).num_frames == 16
        assert sum(p.numel() for p in build_model(method, "demo").parameters()) < 1_000_000
    assert model_profile("r3d_18", "paper").input_side == 112


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("t", [1, 3, 16])
def test_forward_backward(method: str, t: int) -> None:
    model = tiny(method)
    logits, extras = model(torch.rand(2, t, 3, 16, 16))
    assert logits.shape == (2, 3)
    assert extras["embedding"].shape[0] == 2
    logits.sum().backward()
    assert all(p.grad is not None for p in model.parameters())


def test_fuse_frame_scores_known_answer() -> None:
    frame_logits = torch.tensor([[[0.0, math.log(3.0)], [math.log(3.0), 0.0]]])  # probs (1/4,3/4), (3/4,1/4)
    fused = fuse_frame_scores(frame_logits, "mean_probs")
    torch.testing.assert_close(torch.exp(fused), torch.tensor([[0.5, 0.5]]))
    torch.testing.assert_close(fuse_frame_scores(frame_logits, "mean_logits"), frame_logits.mean(dim=1))
    with pytest.raises(ValueError, match="score_fusion must be"):
        fuse_frame_scores(frame_logits, "max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"\(B, T, C\)"):
        fuse_frame_scores(frame_logits[0])


def test_mean_pooling_ignores_frame_order_but_the_lstm_does_not() -> None:
    clips = torch.rand(1, 5, 3, 16, 16)
    order = torch.tensor([4, 2, 0, 1, 3])
    for method in ("cnn_mean", "cnn_score_fusion"):
        model = tiny(method).eval()
        torch.testing.assert_close(model(clips)[0], model(clips[:, order])[0])
    lstm = tiny("cnn_lstm").eval()
    assert not torch.allclose(lstm(clips)[0], lstm(clips[:, order])[0])


def test_recurrent_readouts() -> None:
    model = tiny("cnn_gru", bidirectional=True, num_layers=2, hidden_size=6)
    assert model(torch.rand(2, 4, 3, 16, 16))[1]["embedding"].shape == (2, 12)
    model = tiny("cnn_lstm", readout="mean", hidden_size=6)
    assert model(torch.rand(2, 4, 3, 16, 16))[1]["embedding"].shape == (2, 6)


def test_r3d_paper_size_is_torchvisions_r3d_18() -> None:
    torch.manual_seed(0)
    model = build_model("r3d_18", "paper", num_classes=5)
    reference = r3d_18_reference(5)
    ours = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in reference.state_dict().items()}
    assert ours == theirs
    model.load_state_dict(reference.state_dict())
    model.eval(), reference.eval()
    clips = torch.rand(1, 2, 3, 16, 16)  # (B, T, C, H, W)
    with torch.no_grad():
        torch.testing.assert_close(model(clips)[0], reference(clips.permute(0, 2, 1, 3, 4)))


def test_pretrained_weights_offline_name_the_missing_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    monkeypatch.setenv("FERLIB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match=r"r3d_18-b3b3357e.pth.*downloads are off"):
        R3D(3, weights="KINETICS400_V1")
    with pytest.raises(FileNotFoundError, match=r"resnet18-f37072fd.pth.*downloads are off"):
        FrameCNN(3, backbone="resnet18", weights="IMAGENET1K_V1")
    assert torchvision.models.get_weight("R3D_18_Weights.KINETICS400_V1") is not None


def test_bad_input_errors() -> None:
    with pytest.raises(ValueError, match="5 dims"):
        tiny("cnn_mean")(torch.rand(2, 3, 16, 16))
    with pytest.raises(ValueError, match="5 dims"):
        tiny("r3d_18")(torch.rand(3, 16, 16))
    with pytest.raises(ValueError, match="3-channel"):
        tiny("r3d_18")(torch.rand(1, 4, 1, 16, 16))
    with pytest.raises(ValueError, match="pooling must be"):
        FrameCNN(3, backbone="small_cnn", pooling="max")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="cell must be"):
        RecurrentCNN(3, backbone="small_cnn", cell="rnn")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="need width=64"):
        R3D(3, weights="KINETICS400_V1", width=8)
    with pytest.raises(ValueError, match="unknown method 'c3d'"):
        build_model("c3d")
