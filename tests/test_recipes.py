"""Recipes: each (method, data set) pair trains as its paper did, every value names its source, and
the paper's text is the default where the official code differs."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ferlib.data.transforms import AUGMENTATIONS, make_transform
from ferlib.models import build_model, method_spec
from ferlib.train.recipes import resolve_config
from ferlib.train.engine import check_starting_points, init_from_checkpoint
from ferlib.train.recipes import RecipeError, dataset_key, get_recipe


def test_fan_text_is_the_default_and_the_official_code_is_named():
    text = get_recipe("fan", "CK+")
    assert text.key == "ckplus" and text.name == "paper"
    assert (text.fields["lr"], text.fields["milestones"], text.fields["gamma"], text.fields["epochs"]) == (0.1, [30], 0.2, 60)
    assert text.protocol == "fan_ckplus" and text.fields["test_sampler"] == "all" and "span" not in text.fields
    code = get_recipe("fan", "ckplus", "official")
    assert code.key == "ckplus:official" and code.fields["lr"] == 1e-2 and code.fields["span"] == 0.6
    assert code.fields["fixed_draws"] and code.fields["model_overrides"] == {"bn_batches": "position"}
    assert "official Emotion-FAN code" in code.sources["lr"] and "FAN paper" in text.sources["lr"]
    assert get_recipe("fan", "afew").fields["lr"] == 4e-6 and get_recipe("fan", "afew", "official").fields["lr"] == 4e-3


def test_each_paper_gets_its_own_recipe_and_protocol():
    kp = resolve_config("kp_gcn_msa", "paper", dataset="dfew")
    assert (kp.batch_size, kp.epochs, kp.optimizer, kp.betas, kp.milestones) == (64, 80, "adam", [0.9, 0.99], [40, 60])
    assert get_recipe("kp_gcn_msa", "dfew").protocol == "official_folds"
    assert get_recipe("kp_gcn_msa", "afew").fields["init_from"] == "run:dfew"  # fine-tuned from the DFEW model
    fg = resolve_config("fer_gcn", "paper", dataset="oulu")
    assert (fg.augmentation, fg.lr, fg.weight_decay, fg.epochs, fg.num_frames) == ("resize_crop", 1e-3, 5e-5, 120, 16)
    assert get_recipe("fer_gcn", "afew").protocol_kwargs == {"train": "train", "test": "val"}
    assert get_recipe("fer_gcn", "ckplus").protocol == "subject_kfold"  # FER-GCN: not FAN's fold rule
    st = resolve_config("stgcn", "paper", dataset="affwild2")
    assert st.num_frames == 45 and st.nesterov and not st.augment
    fan = resolve_config("fan", "paper", dataset="ckplus")
    assert (fan.sampler, fan.num_frames, fan.test_sampler, fan.batch_size, fan.recipe) == ("segments", 3, "all", 48, "ckplus")
    demo = resolve_config("fan", "demo", dataset="ckplus")  # the demo recipe serves any data set
    assert demo.recipe == "demo" and demo.profile == "demo" and demo.init_trunk == "synth-frames"


def test_missing_or_bad_recipes_are_named():
    with pytest.raises(RecipeError, match=r"'stgcn' has no 'paper' recipe for data set 'ckplus'.*its recipes: affwild2, demo, synth"):
        get_recipe("stgcn", "ckplus")
    with pytest.raises(RecipeError, match=r"no 'official' recipe for data set 'dfew'"):
        get_recipe("kp_gcn_msa", "dfew", "official")
    spec = method_spec("stgcn")
    saved = dict(spec.recipes)
    try:
        spec.recipes["affwild2"] = {**saved["affwild2"], "epochs": ("80", "paper")}
        with pytest.raises(RecipeError, match=r"recipe 'affwild2' of 'stgcn': epochs='80' is a str; expected <class 'int'>"):
            get_recipe("stgcn", "affwild2")
        spec.recipes["affwild2"] = {**saved["affwild2"], "lr": 0.1}
        with pytest.raises(RecipeError, match=r"'lr' must be a \(value, source\) pair"):
            get_recipe("stgcn", "affwild2")
        spec.recipes["affwild2"] = {**saved["affwild2"], "epoch": (80, "paper")}
        with pytest.raises(RecipeError, match="unknown key 'epoch'"):
            get_recipe("stgcn", "affwild2")
    finally:
        spec.recipes.clear()
        spec.recipes.update(saved)
    assert dataset_key("synth-lab-return") == "synth" and dataset_key("Aff-Wild2") == "affwild2"


def test_augmentation_policies_follow_their_papers():
    frames = np.zeros((2, 64, 64, 3), np.uint8)
    frames[:, 30:34, 30:34] = 255
    landmarks = np.full((2, 68, 2), 31.5, np.float32)
    rng = np.random.default_rng(0)
    # FER-GCN at test: the centre 224/256 of the frame, scaled to the input side
    clip, lm = make_transform(32, False, "resize_crop")(frames, landmarks, rng)
    side = round(64 * 224 / 256)
    assert clip.shape == (2, 3, 32, 32)
    np.testing.assert_allclose(lm[0, 0].numpy(), [(31.5 - (64 - side) // 2 + 0.5) * 32 / side - 0.5] * 2, atol=1e-5)
    # training crops land at random; the FAN policy only resizes and flips
    crops = {tuple(make_transform(32, True, "resize_crop")(frames, landmarks, np.random.default_rng(s))[1][0, 0].tolist())
             for s in range(6)}
    assert len(crops) > 1
    fan_clip, fan_lm = make_transform(32, True, "resize_flip")(frames, landmarks, np.random.default_rng(1))
    assert float(fan_lm[0, 0, 1]) == pytest.approx((31.5 + 0.5) * 0.5 - 0.5)  # no crop: y only scales
    assert set(AUGMENTATIONS) >= {"default", "resize_crop", "resize_flip", "former_dfer", "none"}
    with pytest.raises(ValueError, match="unknown augmentation 'vflip'"):
        make_transform(32, True, "vflip")
    with pytest.raises(ValueError, match="augmentation 'vflip' unknown"):
        resolve_config("fan", "demo", augmentation="vflip")


def test_fan_official_batch_norm_runs_the_trunk_once_per_frame_position():
    torch.manual_seed(0)
    model = build_model("fan", "demo", num_classes=3, bn_batches="position").train()
    clips = torch.rand(4, 3, 3, 32, 32)
    _, extras = model(clips)
    per_position = torch.cat([model.trunk(clips[:, i]).mean(dim=(2, 3)).unsqueeze(1) for i in range(3)], 1)
    pooled = model.trunk(clips.flatten(0, 1)).mean(dim=(2, 3)).unflatten(0, (4, 3))
    assert not torch.allclose(per_position, pooled, atol=1e-4)  # BN statistics differ in training
    model.eval()
    clip_mode = build_model("fan", "demo", num_classes=3).eval()
    clip_mode.load_state_dict(model.state_dict())
    with torch.no_grad():
        torch.testing.assert_close(model(clips)[0], clip_mode(clips)[0])  # and agree in eval mode
    with pytest.raises(ValueError, match="bn_batches must be"):
        build_model("fan", "demo", num_classes=3, bn_batches="frame")


def test_starting_from_another_runs_checkpoint_maps_classes_by_name(tmp_path):
    from ferlib.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    src = build_model("stgcn", "demo", num_classes=3)
    save_checkpoint(tmp_path / "best.pt", {"kind": "best", "config": {"method": "stgcn"}, "classes": ["happy", "sad", "anger"],
                                            "epoch": 1, "model": src.state_dict(), "best": {}})
    dst = build_model("stgcn", "demo", num_classes=3)
    report = init_from_checkpoint(dst, tmp_path / "best.pt", ("anger", "happy", "sad"))
    assert report["class_map"] == "by name" and not report["dropped"]
    torch.testing.assert_close(dst.fcn.weight, src.fcn.weight[[2, 0, 1]])
    torch.testing.assert_close(dst.fcn.bias, src.fcn.bias[[2, 0, 1]])
    other = build_model("stgcn", "demo", num_classes=2)
    report = init_from_checkpoint(other, tmp_path / "best.pt", ("neutral", "happy"))
    assert "fcn.weight" in report["dropped"] and report["class_map"].startswith("none")
    cfg = resolve_config("stgcn", "demo", init_from=str(tmp_path / "nope.pt"))
    with pytest.raises(FileNotFoundError, match="init_from=.*nope.pt.*no such checkpoint"):
        check_starting_points(cfg, dst)
    cfg = resolve_config("fan", "demo", init_trunk="emotion-fan")  # a ResNet-18 file for the demo's small CNN
    with pytest.raises(FileNotFoundError, match="init_trunk='emotion-fan'"):
        check_starting_points(cfg, build_model("fan", "demo", num_classes=3))


def test_fan_tests_every_frame_of_clips_of_different_lengths(tmp_path):
    """Clips of 3, 5 and 5 frames: each is predicted on all its frames; same-length clips share a
    batch; per-frame by-products are padded with NaN (−1 for frame indices) to the longest clip."""
    from ferlib.data.landmarks68 import MEAN_SHAPE
    from ferlib.data.store import ClipStore
    from ferlib.train.engine import evaluate_loader, make_dataset, make_loader, same_length_batches

    store = ClipStore.create(tmp_path / "s", "synth-lab", ("happy", "sad"))
    rng = np.random.default_rng(0)
    for i, t in enumerate((5, 3, 5)):
        lm = np.repeat((MEAN_SHAPE * 10 + 16)[None].astype(np.float32), t, 0)
        store.write({"clip_id": f"c{i}", "source": "x", "label": i % 2, "subject": f"s{i}", "split": ""},
                    rng.integers(0, 255, (t, 32, 32, 3), dtype=np.uint8), lm)
    cfg = resolve_config("fan", "demo", input_side=32, init_trunk="")
    ds = make_dataset(store, store.index(), cfg, train=False)
    assert same_length_batches(ds, 8) == [[1], [0, 2]]
    torch.manual_seed(0)
    model = build_model("fan", "demo", num_classes=2)
    ev = evaluate_loader(model, make_loader(ds, cfg, False), cfg, torch.device("cpu"), collect=True, progress=False)
    assert sorted(ev.rows.tolist()) == [0, 1, 2]
    short = int(np.where(ev.rows == 1)[0][0])
    assert ev.byproducts["frame_idx"][short].tolist() == [0, 1, 2, -1, -1]
    assert np.isnan(ev.byproducts["alpha"][short, 3:]).all() and np.isfinite(ev.byproducts["alpha"][short, :3]).all()


def test_recipe_labels_name_their_true_source():
    from ferlib.train.recipes import get_recipe

    kp = get_recipe("kp_gcn_msa", "dfew")
    assert kp.fields["input_side"] == 112 and kp.sources["input_side"].startswith("ferlib's choice")
    assert "§4.3.5" in kp.sources["num_frames"]
    assert "§IV-A" in get_recipe("fer_gcn", "ckplus").sources["protocol"]
    official = get_recipe("fan", "afew", "official")
    assert official.fields["fixed_draws"] is True and "once" in official.sources["fixed_draws"]
    assert not get_recipe("fan", "afew").fields.get("fixed_draws", False)  # the text's recipe draws anew
