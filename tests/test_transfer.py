"""The transfer check: train on generated clips only, test on real London-set clips of other people."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ferlib.analysis.real_runs import probabilities_over_time
from ferlib.experiments.transfer import split_identities, transfer_check, transfer_table

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
    gen = ClipStore.open(tmp_path / "data" / f"photo-r{PHOTO_RENDERER_VERSION}-smoke-s1")
    assert set(gen.index().df["subject"]) == set(r.rendered_ids)  # the renderer used the rendered people only
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
