"""The transfer check: train on generated clips only, test on real London-set clips of other people."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ferlib.analysis.real_runs import probabilities_over_time
from ferlib.experiments.transfer import (TransferResult, identity_pool, split_identities, transfer_check,
                                         transfer_spread, transfer_table)

IDS = [f"{i:03d}" for i in range(1, 21)]


def test_split_identities_is_seeded_and_disjoint() -> None:
    a, b = split_identities(IDS, 8, seed=3)
    assert len(a) == 8 and len(b) == 12 and not set(a) & set(b) and sorted(a + b) == IDS
    assert split_identities(IDS, 8, seed=3) == (a, b)
    assert split_identities(IDS, 8, seed=4) != (a, b)
    with pytest.raises(ValueError, match="at least one identity on each side"):
        split_identities(IDS, 20)


@pytest.mark.fixtures
def test_transfer_check_at_smoke_size(fixtures_dir: Path, tmp_path: Path) -> None:
    """Seconds: 3 rendered people, 2 real test people, 1 epoch; what it reports, and that no rendered
    person is ever tested."""
    from ferlib.data.store import ClipStore

    root = fixtures_dir / "london_frl_subset"
    r = transfer_check("fan", root, tmp_path, profile="smoke", seed=1, progress=False)
    assert len(r.rendered_ids) == 3 and len(r.test_ids) == 2 and not set(r.rendered_ids) & set(r.test_ids)
    assert r.classes == ["happy", "neutral"]
    from ferlib.synth.generate import PHOTO_RENDERER_VERSION

    # the folder names the photo renderer's version: renders of another version are never met there
    (folder,) = (tmp_path / "data").glob(f"photo-r{PHOTO_RENDERER_VERSION}-smoke-p*")  # -p<key of the people rendered>
    gen = ClipStore.open(folder)  # one set for the profile's splits: their rendered people, this split's among them
    assert set(r.rendered_ids) <= set(gen.index().df["subject"])
    trained = json.loads((Path(r.run_dir) / "transfer.json").read_text())["trained_subjects"]
    assert trained == r.rendered_ids  # the model learnt from the rendered people's clips only
    assert set(r.predictions["subject"]) == set(r.test_ids)  # and only the others were tested
    assert len(r.predictions) == 4 and set(r.predictions["label_name"]) == {"neutral", "happy"}
    assert int(r.distribution.to_numpy().sum()) == 4 and list(r.distribution.index) == ["neutral", "happy"]
    assert 0.0 <= r.accuracy <= 1.0 and 0.0 <= r.accuracy_2way <= 1.0
    assert r.n_rho_clips == 2 and np.isfinite(r.rho_per_clip_mean) and -1 <= r.rho_pooled <= 1  # FAN's α vs the morph
    assert (Path(r.run_dir) / "transfer.json").is_file()
    table = transfer_table([r])
    assert list(table["method"]) == ["fan"] and "rho_per_clip_mean" in table.columns
    again = transfer_check("fan", root, tmp_path, profile="smoke", seed=1, progress=False)  # cached: same numbers
    assert again.accuracy == r.accuracy and again.rho_pooled == pytest.approx(r.rho_pooled)
    real = next(ClipStore.open(p) for p in (tmp_path / "data").iterdir() if p.name.startswith("real-") and (p / "clips").is_dir())
    rec = real.read(real.clip_ids()[0])
    over_time = probabilities_over_time(r.run_dir, rec.frames, rec.landmarks, window=4, stride=1)
    assert list(over_time["start"]) == [0, 1, 2] and over_time["centre"].iloc[0] == 1.5
    np.testing.assert_allclose(over_time[["prob_happy", "prob_neutral"]].sum(axis=1), 1.0, atol=1e-5)

    # the same run tested on real clips whose crop is smoothed over 3 frames: its own clips and files
    with pytest.raises(ValueError, match="real_smooth must be a whole number of frames >= 1, got 0"):
        transfer_check("fan", root, tmp_path, profile="smoke", seed=1, progress=False, train=False, real_smooth=0)
    first = (Path(r.run_dir) / "transfer.json").read_text()
    smooth = transfer_check("fan", root, tmp_path, profile="smoke", seed=1, progress=False, train=False, real_smooth=3)
    assert smooth.run_dir == r.run_dir and smooth.real_smooth == 3 and smooth.real_dir.endswith("-smooth3")
    assert (Path(r.run_dir) / "transfer-smooth3.json").is_file() and (Path(r.run_dir) / "transfer.json").read_text() == first
    assert list(smooth.predictions["clip_id"]) == list(r.predictions["clip_id"])
    steady = ClipStore.open(smooth.real_dir).read(real.clip_ids()[0])
    assert steady.frames.shape == rec.frames.shape and not np.array_equal(steady.frames, rec.frames)


@pytest.mark.fixtures
def test_a_rendered_person_is_never_a_test_person(fixtures_dir: Path, tmp_path: Path) -> None:
    from ferlib.data.adapters.london import london_index
    from ferlib.synth import SynthConfig, generate

    root = fixtures_dir / "london_frl_subset"
    everyone = sorted(set(london_index(root).df["subject"]))
    with pytest.raises(ValueError, match="the real test needs people the renderer never used"):
        transfer_check("fan", root, tmp_path, profile="smoke", rendered_ids=everyone, progress=False)
    leaky = generate(tmp_path / "leaky", SynthConfig(renderer="photo", photos_dir=str(root), photo_ids=("001", "002"),
                                                     n_subjects=2, n_frames=2, side=16, classes=("happy",),
                                                     include_neutral=True), progress=False)
    with pytest.raises(ValueError, match=r"holds clips of held-out people \['002'\]"):
        transfer_check("fan", root, tmp_path, profile="smoke", rendered_ids=["001", "003", "004"], train_store=leaky,
                       progress=False)


@pytest.mark.fixtures
def test_frame_pretraining_can_add_photo_renders_of_named_people(fixtures_dir: Path, tmp_path: Path) -> None:
    import torch

    from ferlib.experiments.pretrain import frame_pretrained

    root = fixtures_dir / "london_frl_subset"
    plain = frame_pretrained(tmp_path, n_subjects=3, val_subjects=1, epochs=1, side=32, progress=False)
    photo = frame_pretrained(tmp_path, n_subjects=3, val_subjects=1, epochs=1, side=32, progress=False,
                             photos_dir=root, photo_ids=["004", "002"], photo_clips_per_subject=3)
    assert photo != plain and photo.name.startswith("small_cnn_w16_d4_m4_s32_photo")
    meta = torch.load(photo, weights_only=True)["meta"]
    assert meta["photo_ids"] == ["002", "004"] and meta["n_photo_frames"] == 2 * 3 * 4  # 4 apex frames a clip
    assert torch.load(plain, weights_only=True)["meta"]["n_photo_frames"] == 0
    fewer = frame_pretrained(tmp_path, n_subjects=3, val_subjects=1, epochs=1, side=32, progress=False,
                             photos_dir=root, photo_ids=["004", "002"], photo_clips_per_subject=2)
    assert fewer != photo and torch.load(fewer, weights_only=True)["meta"]["n_photo_frames"] == 2 * 2 * 4
    # fine-tuning: the plain file is the starting point, the photo frames alone are trained on
    tuned = frame_pretrained(tmp_path, n_subjects=3, val_subjects=1, epochs=1, side=32, progress=False,
                             photos_dir=root, photo_ids=["004", "002"], photo_clips_per_subject=2, photo_epochs=1)
    tuned_meta = torch.load(tuned, weights_only=True)["meta"]
    assert tuned not in (photo, fewer) and tuned_meta["init"] == plain.name and tuned_meta["n_frames"] == 2 * 2 * 4
    before, after = (torch.load(f, weights_only=True)["trunk"] for f in (plain, tuned))
    assert any(not torch.equal(before[k], after[k]) for k in before)  # trained further
    with pytest.raises(ValueError, match="photo_clips_per_subject must be an integer >= 1, got 0"):
        frame_pretrained(tmp_path, n_subjects=3, val_subjects=1, epochs=1, side=32, progress=False, photos_dir=root,
                         photo_ids=["004"], photo_clips_per_subject=0)
    with pytest.raises(ValueError, match="photo_epochs must be an integer >= 1, got 0"):
        frame_pretrained(tmp_path, n_subjects=3, val_subjects=1, epochs=1, side=32, progress=False, photos_dir=root,
                         photo_ids=["004"], photo_epochs=0)
    with pytest.raises(ValueError, match="photos_dir needs photo_ids"):
        frame_pretrained(tmp_path, n_subjects=3, val_subjects=1, epochs=1, side=32, progress=False, photos_dir=root)


@pytest.mark.fixtures
def test_photo_pretraining_in_the_check_sees_only_rendered_people(fixtures_dir: Path, tmp_path: Path) -> None:
    import json

    import torch

    r = transfer_check("fan", fixtures_dir / "london_frl_subset", tmp_path, profile="smoke", seed=2, photo_pretrain=True,
                       progress=False)
    trunk = json.loads((Path(r.run_dir) / "config.json").read_text())["init_trunk"]
    assert Path(r.run_dir).parent.name.endswith("-" + Path(trunk).stem)  # the run's folder names its trunk file
    meta = torch.load(trunk, weights_only=True)["meta"]
    assert meta["photo_ids"] == r.rendered_ids and not set(meta["photo_ids"]) & set(r.test_ids)
    other = transfer_check("fan", fixtures_dir / "london_frl_subset", tmp_path, profile="smoke", seed=2, photo_pretrain=True,
                           progress=False, pretrain={"photo_clips_per_subject": 1})
    other_trunk = json.loads((Path(other.run_dir) / "config.json").read_text())["init_trunk"]
    assert other.run_dir != r.run_dir and other_trunk != trunk  # another pre-training: another trunk and run, none reused
    assert torch.load(other_trunk, weights_only=True)["meta"]["n_photo_frames"] == len(r.rendered_ids) * 4


@pytest.mark.fixtures
def test_the_identity_sources_give_61_london_people_to_test_and_40_neutral_only_to_render(fixtures_dir: Path) -> None:
    from ferlib.assets import IDENTITY_SOURCES, identity_folders
    from ferlib.data.adapters.base import LayoutError
    from ferlib.data.adapters.london import london_index

    folders = identity_folders()
    assert [f.name for f in folders] == list(IDENTITY_SOURCES)
    roots, london, neutral_only = identity_pool(folders)
    assert [r.name for r in roots] == ["london_frl_subset", "london_frl_more"]
    assert len(london) == 61 and len(neutral_only) == 40 and not set(london) & set(neutral_only)
    assert len(london_index(roots).df) == 2 * 61  # a neutral and a happy clip a person, over both folders
    with pytest.raises(LayoutError, match=r"face id '001' is in both .*london_frl_subset and .*london_frl_subset"):
        london_index([roots[0], roots[0]])
    with pytest.raises(ValueError, match="the real test needs a London-layout folder"):
        identity_pool([fixtures_dir / "canada_frl"])


@pytest.mark.fixtures
def test_the_photo_renderer_takes_several_folders_and_the_canada_photos(fixtures_dir: Path) -> None:
    from ferlib.assets import identity_folders
    from ferlib.synth.photo import PhotoRenderer

    r = PhotoRenderer(identity_folders(), side=32, photo_ids=["003f", "001"])  # a Canada (512x683) and a London person
    assert r.ids == ["003f", "001"] and r.photos[0].parent.parent.name == "canada_frl"
    frame, landmarks = r.neutral(0)
    assert frame.shape == (32, 32, 3) and landmarks.shape == (68, 2)
    assert r.exemplar(0) is None and r.exemplar(1) is not None  # a smile only where the person's own photo exists
    again = PhotoRenderer(identity_folders(), side=32, photo_ids=["001"])
    assert again.face(0) is r.face(1)  # a photo's face is found once a process, whichever renderer asks
    seen = []
    own = PhotoRenderer(identity_folders(), side=32, photo_ids=["001"], landmarker=lambda im: seen.append(1))
    with pytest.raises(ValueError, match="no face found in photo .*001_03.jpg"):
        own.face(0)  # a landmarker of one's own is asked, never the shared cache
    assert seen == [1]
    with pytest.raises(ValueError, match=r"photo identities \['nobody'\] are not in .*london_frl_subset, .*canada_frl"):
        PhotoRenderer(identity_folders(), photo_ids=["nobody"])
    with pytest.raises(ValueError, match="have the same identity '001'"):
        PhotoRenderer([fixtures_dir / "london_frl_subset"] * 2)


@pytest.mark.fixtures
def test_transfer_check_renders_neutral_only_people_and_tests_only_held_out_london_ones(tmp_path: Path) -> None:
    from ferlib.assets import identity_folders
    from ferlib.data.store import ClipStore

    r = transfer_check("stgcn", identity_folders(), tmp_path, profile="smoke", seed=0, progress=False)
    _, london, neutral_only = identity_pool(identity_folders())
    canada = set(r.rendered_ids) & set(neutral_only)
    assert len(canada) == 1 and len(r.rendered_ids) == 3 + 1  # smoke: 3 London people and 1 neutral-only one
    assert set(r.test_ids) <= set(london) and not set(r.test_ids) & set(r.rendered_ids)
    (folder,) = (tmp_path / "data").glob("photo-*")
    pool = set(ClipStore.open(folder).index().df["subject"])
    assert set(r.predictions["subject"]) == set(r.test_ids)
    other = transfer_check("stgcn", identity_folders(), tmp_path, profile="smoke", seed=1, progress=False)
    assert other.rendered_ids != r.rendered_ids and other.run_dir != r.run_dir  # another split: its own run
    assert list((tmp_path / "data").glob("photo-*")) == [folder]  # the profile's splits share one rendered set
    assert pool == set(r.rendered_ids) | set(other.rendered_ids)  # of the people its splits render, rendered once
    for run in (r, other):
        assert json.loads((Path(run.run_dir) / "transfer.json").read_text())["trained_subjects"] == run.rendered_ids
    spread = transfer_spread([r, other]).iloc[0]
    assert spread["n_splits"] == 2 and spread["n_real_clips"] == len(r.predictions)
    smoothed = transfer_check("stgcn", identity_folders(), tmp_path, profile="smoke", seed=0, progress=False,
                              variant="smoothed")  # a model variant: its own run beside the full model's, never reused
    assert Path(smoothed.run_dir).name == "stgcn-smoothed" and Path(smoothed.run_dir).parent == Path(r.run_dir).parent
    assert json.loads((Path(smoothed.run_dir) / "config.json").read_text())["variant"] == "smoothed"


def _result(method: str, accuracy: float, rho: float, test_ids: list[str], variant: str = "full") -> TransferResult:
    import pandas as pd

    preds = pd.DataFrame({"clip_id": [f"c{i}" for i in range(4)], "pred_name": ["happy", "neutral"] * 2})
    return TransferResult(method, "photo", ["r"], test_ids, ["happy", "neutral"], accuracy, accuracy, rho, 0.0, rho, 2,
                          0.9, "run", "real", preds, pd.DataFrame(), variant=variant)


def test_transfer_spread_gives_mean_and_sd_over_splits_per_method() -> None:
    rows = [_result("fan", 0.7, 0.8, ["a"]), _result("fan", 0.8, 0.9, ["b"]), _result("fan", 0.9, 1.0, ["c"]),
            _result("stgcn", 0.6, float("nan"), ["a"])]
    t = transfer_spread(rows).set_index("method")
    assert t.loc["fan", "n_splits"] == 3 and t.loc["fan", "real accuracy (%) mean"] == pytest.approx(80.0)
    assert t.loc["fan", "real accuracy (%) sd"] == pytest.approx(10.0)  # sample sd of 70, 80, 90
    assert t.loc["fan", "rho per clip mean"] == pytest.approx(0.9) and t.loc["fan", "n_real_clips"] == 4
    assert np.isnan(t.loc["stgcn", "real accuracy (%) sd"]) and np.isnan(t.loc["stgcn", "rho per clip mean"])
    with pytest.raises(ValueError, match=r"\['fan'\]: one identity split given twice"):
        transfer_spread(rows + [_result("fan", 0.5, 0.5, ["a"])])
    with pytest.raises(ValueError, match="fan: non-finite real accuracy in run"):
        transfer_spread([_result("fan", float("nan"), 0.5, ["a"])])
    with pytest.raises(ValueError, match="at least one TransferResult"):
        transfer_spread([])


def test_transfer_variants_are_the_full_model_then_registered_variants() -> None:
    from ferlib.experiments.transfer import TRANSFER_METHODS, transfer_variants
    from ferlib.models.registry import method_spec

    for m in TRANSFER_METHODS:
        first, *more = transfer_variants(m)
        assert first == "full" and set(more) <= set(method_spec(m).variants) - {"full"}, m
    assert transfer_variants("stgcn") == ("full", "smoothed")


def test_transfer_spread_keeps_a_methods_variants_apart() -> None:
    rows = [_result("stgcn", 0.6, float("nan"), ["a"]), _result("stgcn", 0.8, float("nan"), ["b"]),
            _result("stgcn", 0.9, float("nan"), ["a"], "smoothed"), _result("stgcn", 1.0, float("nan"), ["b"], "smoothed")]
    t = transfer_spread(rows).set_index(["method", "variant"])  # the same split once per variant: no double count
    assert t.loc[("stgcn", "full"), "real accuracy (%) mean"] == pytest.approx(70.0)
    assert t.loc[("stgcn", "smoothed"), "real accuracy (%) mean"] == pytest.approx(95.0)
    assert list(transfer_table(rows[1:3])["variant"]) == ["full", "smoothed"]
