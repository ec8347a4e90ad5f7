"""Frame-level pre-training of the demo small CNN, its weight file and its use by training runs."""

import numpy as np
import pytest
import torch

from ferlib.experiments.frame_cnn import FrameClassifier, train_frame_cnn
from ferlib.experiments.frames import FrameStills, augment, still_loader
from ferlib.models.backbones import load_small_cnn_weights, small_cnn
from ferlib.models.registry import build_model
from ferlib.models.trunks import SYNTH_FRAMES, init_trunk, load_trunk, resolve_trunk_weights, trunk_plan
from ferlib.train.recipes import resolve_config
from ferlib.train.schedules import build_optimizer, param_groups


def test_augment_keeps_shape_and_range_and_is_seeded():
    x = torch.rand(5, 3, 16, 16)
    a = augment(x, torch.Generator().manual_seed(0))
    b = augment(x, torch.Generator().manual_seed(0))
    assert a.shape == x.shape and torch.equal(a, b)
    assert a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, x)


def test_augment_translation_moves_content():
    x = torch.zeros(64, 1, 9, 9)
    x[:, :, 4, 4] = 1.0
    out = augment(x.expand(-1, 3, -1, -1).contiguous(), torch.Generator().manual_seed(1), shift=2, jitter=0.0)
    peaks = out[:, 0].flatten(1).argmax(1)
    assert len(set(peaks.tolist())) > 1  # the bright pixel lands in different places


def test_whole_map_gives_position_aware_1x1_features():
    net = small_cnn(width=8, depth=4, whole_map=4)
    out = net.trunk(torch.rand(2, 3, 64, 64))
    assert out.shape == (2, 8 * 8, 1, 1)
    assert net.trunk(torch.rand(2, 3, 32, 32)).shape == (2, 64, 1, 1)  # other sizes pooled to 4×4 first


def test_default_weights_load_into_every_frame_method(tiny_frame_pretraining):
    path = resolve_trunk_weights(SYNTH_FRAMES, progress=False)
    saved = torch.load(path, weights_only=True)
    assert saved["meta"]["width"] == 16 and saved["meta"]["history"]
    for method in ("fer_gcn", "fan", "kp_gcn_msa"):
        model = build_model(method, "demo", num_classes=7)
        init_trunk(model, path)
        first_conv = next(v for k, v in model.state_dict().items() if k.startswith("trunk.") and v.dim() == 4)
        assert torch.equal(first_conv, saved["trunk"]["0.weight"]), method


def test_weights_that_do_not_fit_are_refused(tmp_path, tiny_frame_pretraining):
    path = resolve_trunk_weights(SYNTH_FRAMES, progress=False)
    with pytest.raises(ValueError, match="does not fit this trunk"):
        load_small_cnn_weights(small_cnn(width=8).trunk, path)
    bad = tmp_path / "x.pt"
    torch.save({"a": torch.zeros(1)}, bad)
    with pytest.raises(ValueError, match="not a ferlib small_cnn weight file"):
        load_small_cnn_weights(small_cnn(width=16).trunk, bad)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        resolve_trunk_weights(str(tmp_path / "missing.pt"))
    with pytest.raises(ValueError, match="STGCN has no per-frame CNN trunk"):
        init_trunk(build_model("stgcn", "demo", num_classes=7), path)


def test_trunk_learns_at_a_fraction_of_the_head_lr():
    model = build_model("fan", "demo", num_classes=7)
    cfg = resolve_config("fan", "demo", lr=1e-2, trunk_lr_scale=0.1)
    opt = build_optimizer(param_groups(model, cfg), cfg)
    lrs = sorted(g["lr"] for g in opt.param_groups)
    assert lrs == pytest.approx([1e-3, 1e-2])
    n = sum(p.numel() for g in opt.param_groups for p in g["params"])
    assert n == sum(p.numel() for p in model.parameters())
    one = build_optimizer(param_groups(model, resolve_config("fan", "demo", trunk_lr_scale=1.0)), cfg)
    assert len(one.param_groups) == 1


def test_a_pretrained_file_is_only_reused_for_the_settings_and_generator_that_made_it(tmp_path, monkeypatch):
    import ferlib.experiments.pretrain as pretrain
    import ferlib.models.synth_frames as names
    from ferlib.data.store import StoreError
    from ferlib.synth import SynthConfig, generate

    tiny = pretrain.frame_pretrained(tmp_path, n_subjects=3, val_subjects=1, epochs=1, side=32, progress=False)
    assert tiny == names.frame_pretrained_path(tmp_path, side=32, n_subjects=3, val_subjects=1, epochs=1)
    assert tiny != names.frame_pretrained_path(tmp_path, side=32)  # the default settings name another file
    assert tiny != names.frame_pretrained_path(tmp_path, side=32, n_subjects=3, val_subjects=1, epochs=2)
    assert torch.load(tiny, weights_only=True)["meta"]["generator"] == pretrain.GENERATOR_VERSION
    # a new photo renderer renames the photo-trained files only
    photo = names.frame_pretrained_path(tmp_path, side=32, photo_ids=["001"])
    with monkeypatch.context() as m:
        m.setattr(names, "PHOTO_RENDERER_VERSION", names.PHOTO_RENDERER_VERSION + 1)
        assert names.frame_pretrained_path(tmp_path, side=32, photo_ids=["001"]) != photo
        assert names.frame_pretrained_path(tmp_path, side=32, n_subjects=3, val_subjects=1, epochs=1) == tiny
    with monkeypatch.context() as m:  # another pre-training renames every file
        m.setattr(names, "TRAINER_VERSION", names.TRAINER_VERSION + 1)
        assert tiny != names.frame_pretrained_path(tmp_path, side=32, n_subjects=3, val_subjects=1, epochs=1)
    monkeypatch.setattr(names, "GENERATOR_VERSION", names.GENERATOR_VERSION + 1)
    assert tiny != names.frame_pretrained_path(tmp_path, side=32, n_subjects=3, val_subjects=1, epochs=1)
    # a store of another generator version is refused, naming both versions
    import importlib

    gen = importlib.import_module("ferlib.synth.generate")  # the module (the package exports a function of that name)

    cfg = SynthConfig(n_subjects=1, n_frames=2, side=16, classes=("happy",))
    generate(tmp_path / "s", cfg, progress=False)
    monkeypatch.setattr(gen, "GENERATOR_VERSION", gen.GENERATOR_VERSION + 1)
    with pytest.raises(StoreError, match=rf"generator version {gen.GENERATOR_VERSION - 1}, this ferlib renders version "
                                         rf"{gen.GENERATOR_VERSION}: delete the folder"):
        generate(tmp_path / "s", cfg, progress=False)


def test_pre_training_says_each_epoch_and_the_time_left(capsys):
    frames = np.random.default_rng(0).integers(0, 255, (6, 32, 32, 3), dtype=np.uint8)
    train_frame_cnn(frames, np.arange(6) % 2, 2, width=4, depth=2, whole_map=1, epochs=2, report="pre:")
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split(":")[0] + ":" + ln.split(":")[1] for ln in lines] == ["pre: epoch 1/2", "pre: epoch 2/2"]
    assert "s left)" in lines[0] and lines[1].endswith("about 0 s left)")
    train_frame_cnn(frames, np.arange(6) % 2, 2, width=4, depth=2, whole_map=1, epochs=1)
    assert capsys.readouterr().out == ""  # no report asked: silent


def test_epoch_lines_show_a_decayed_learning_rate():
    from ferlib.train.engine import epoch_line

    line = epoch_line({"epoch": 3, "train_loss": 0.51234, "lr": 2e-5})
    assert line == "epoch=3 train_loss=0.5123 lr=2e-05"
    assert "lr=0.001 " in epoch_line({"lr": 1e-3, "val_accuracy": 1.0}) + " "


def test_stills_are_one_frame_clips_and_bad_input_is_named():
    frames = np.random.default_rng(0).integers(0, 255, (5, 8, 8, 3), dtype=np.uint8)
    ds = FrameStills(frames, np.arange(5) % 2)
    batch = next(iter(still_loader(ds, 4, train=False)))
    assert batch["frames"].shape == (4, 1, 3, 8, 8) and batch["row"].tolist() == [0, 1, 2, 3]
    assert torch.allclose(batch["frames"][1, 0], torch.as_tensor(frames[1]).permute(2, 0, 1).float() / 255)
    a, b = (next(iter(still_loader(ds, 5, train=True, seed=3)))["frames"] for _ in range(2))
    assert torch.equal(a, b) and a.min() >= 0 and a.max() <= 1  # augmented and shuffled, seeded
    with pytest.raises(ValueError, match="need as many labels as frames"):
        FrameStills(frames, np.arange(4))
    with pytest.raises(ValueError, match=r"expected stills \(N, S, S, 3\) uint8"):
        FrameStills(frames.astype(np.float32), np.arange(5))


def test_the_engine_trains_the_frame_cnn_to_a_known_answer():
    """Dark versus bright stills: the engine's loop learns them, and the trunk it returns separates
    held-out stills (nearest class mean of its features; the head's own held-out accuracy waits on
    BatchNorm's running statistics after so few steps)."""
    rng = np.random.default_rng(0)
    labels = np.arange(64) % 2
    frames = (rng.integers(0, 60, (64, 16, 16, 3)) + 150 * labels[:, None, None, None]).astype(np.uint8)
    trunk, history = train_frame_cnn(frames[:48], labels[:48], 2, width=4, depth=2, whole_map=1, epochs=4,
                                     batch_size=8, lr=1e-2, val=(frames[48:], labels[48:]))
    assert [h["epoch"] for h in history] == [1, 2, 3, 4] and all(0 <= h["val_accuracy"] <= 1 for h in history)
    assert history[-1]["loss"] < history[0]["loss"] and history[-1]["accuracy"] >= 0.95
    with torch.no_grad():
        feats = trunk.eval()(torch.as_tensor(frames).permute(0, 3, 1, 2).float() / 255).flatten(1)
    means = torch.stack([feats[:48][torch.as_tensor(labels[:48] == c)].mean(0) for c in (0, 1)])
    assert (torch.cdist(feats[48:], means).argmin(1).numpy() == labels[48:]).all()
    model = FrameClassifier(2, width=4, depth=2, whole_map=1)
    assert model(torch.rand(3, 5, 3, 16, 16))[0].shape == (3, 2)  # clips of any length: logits averaged over T


def test_a_missing_synth_frames_file_names_itself_and_the_command(tmp_path, monkeypatch):
    from ferlib.experiments.pretrain import ensure_synth_frames
    import ferlib.experiments.pretrain as pretrain

    monkeypatch.setenv("FERLIB_CACHE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"small_cnn_w16_d4_m4_s64_.*\.pt does not exist; make it with "
                                                r"`python -m ferlib pretrain`"):
        load_trunk(build_model("fan", "demo", num_classes=7), SYNTH_FRAMES, progress=False)
    plan = trunk_plan(SYNTH_FRAMES, "fan", "demo")
    assert plan["status"] == "error" and "python -m ferlib pretrain" in plan["message"]
    made = []
    monkeypatch.setattr(pretrain, "frame_pretrained", lambda cache, progress=True: made.append(cache) or cache)
    assert ensure_synth_frames(["", "imagenet"]) is None and made == []  # nobody asks for it: nothing made
    ensure_synth_frames(["", SYNTH_FRAMES], progress=False)
    assert made == [tmp_path]
