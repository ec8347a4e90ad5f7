import cv2
import numpy as np
import pytest

from ferlib.data.store import FLAG_DISTRACTOR, FLAG_OCCLUDED, ClipStore, StoreError
from ferlib.synth import SynthConfig, generate, generate_clip, intensity_course
from ferlib.synth.expressions import au_offsets, expression_offsets
from ferlib.synth.export import export_layout
from ferlib.synth.generate import clip_plan


def test_courses_shape_the_intensity():
    rng = np.random.default_rng(0)
    for _ in range(10):
        lab = intensity_course("lab", 20, rng)
        assert lab[0] < 0.05 and lab[-1] > 0.7 and lab.argmax() >= 14  # neutral -> apex, held
        ret = intensity_course("lab-return", 20, rng)
        assert ret[0] < 0.05 and ret[-1] < 0.3 and 5 <= ret.argmax() <= 14  # neutral -> apex -> neutral
        wild = intensity_course("wild", 30, rng)
        assert wild.min() >= 0 and wild.max() <= 1
    peaks = [intensity_course("wild", 30, rng).argmax() for _ in range(40)]
    assert np.std(peaks) > 3  # the peak moves around in the wild


def test_expressions_move_the_right_landmarks():
    happy = expression_offsets("happy", 1.0)
    assert happy[48, 1] < 0 and happy[54, 1] < 0 and happy[48, 0] < 0 < happy[54, 0]  # corners up and out
    sad = expression_offsets("sad", 1.0)
    assert sad[48, 1] > 0 and sad[21, 1] < 0  # corners down, inner brows up
    surprise = expression_offsets("surprise", 1.0)
    assert surprise[8, 1] > 0.2 and surprise[19, 1] < 0  # jaw drops, brows rise
    contempt = expression_offsets("contempt", 1.0)
    assert contempt[54, 1] < 0 and contempt[48, 1] == 0  # unilateral (subject's left)
    assert np.allclose(expression_offsets("neutral", 1.0), 0)
    assert expression_offsets("anger", np.linspace(0, 1, 5)).shape == (5, 68, 2)
    with pytest.raises(ValueError, match="unknown action unit 3"):
        au_offsets(3)


def test_generation_is_deterministic_and_carries_ground_truth():
    cfg = SynthConfig(n_frames=6, side=32, seed=4)
    a = generate_clip(cfg, 2, 0, "surprise")
    b = generate_clip(cfg, 2, 0, "surprise")
    np.testing.assert_array_equal(a["frames"], b["frames"])
    assert a["frames"].shape == (6, 32, 32, 3) and a["landmarks"].shape == (6, 68, 2)
    assert a["intensity"][0] < a["intensity"][-1]
    gap = np.linalg.norm(a["landmarks"][:, 66] - a["landmarks"][:, 62], axis=1)
    assert gap[-1] > gap[0] + 1.0  # the mouth opens with the intensity
    c = generate_clip(SynthConfig(n_frames=6, side=32, seed=5), 2, 0, "surprise")
    assert not np.array_equal(a["frames"], c["frames"])


@pytest.mark.parametrize("course", ["lab", "lab-return"])
def test_apex_frames_renders_only_the_most_intense_frames(course):
    cfg = SynthConfig(n_subjects=1, course=course, n_frames=12, side=32, seed=3)
    whole = generate_clip(cfg, 0, 1, "surprise")
    apex = generate_clip(cfg, 0, 1, "surprise", apex_frames=4)
    keep = np.sort(np.argsort(whole["intensity"], kind="stable")[-4:])
    assert apex["frames"].shape == (4, 32, 32, 3) and apex["landmarks"].shape == (4, 68, 2)
    np.testing.assert_array_equal(apex["intensity"], whole["intensity"][keep])  # the same course, its top 4 in time order
    assert apex["intensity"].min() >= np.sort(whole["intensity"])[-4]
    # the expression is the whole clip's at those frames: mouth opening as in the kept frames (pose draws differ)
    gap = lambda lm: (lm[:, 66, 1] - lm[:, 62, 1]) / np.linalg.norm(lm[:, 45] - lm[:, 36], axis=1)  # noqa: E731
    np.testing.assert_allclose(gap(apex["landmarks"]), gap(whole["landmarks"][keep]), atol=0.03)


def test_wild_course_adds_distractors_and_occlusion():
    cfg = SynthConfig(n_frames=16, side=32, course="wild", seed=0)
    flags = np.concatenate([generate_clip(cfg, s, 0, "happy")["flags"] for s in range(12)])
    assert (flags & FLAG_DISTRACTOR).any() and (flags & FLAG_OCCLUDED).any()


def test_bad_config_values():
    with pytest.raises(ValueError, match="unknown intensity course 'studio'"):
        SynthConfig(course="studio")
    with pytest.raises(ValueError, match="unknown class name 'grumpy'"):
        SynthConfig(classes=("happy", "grumpy"))
    with pytest.raises(TypeError, match="seed must be an integer, got 1.5"):
        SynthConfig(seed=1.5)
    with pytest.raises(ValueError, match="needs photos_dir"):
        SynthConfig(renderer="photo")


def test_store_resume_and_config_guard(tmp_path):
    cfg = SynthConfig(n_subjects=2, n_frames=4, side=24, classes=("happy", "sad"), include_neutral=True)
    store = generate(tmp_path / "s", cfg, progress=False)
    assert len(store.clip_ids()) == 6 and store.classes == ("happy", "sad", "neutral")
    rec = store.read(store.clip_ids()[0])
    assert rec.intensity is not None and rec.landmarks.shape == (4, 68, 2)
    before = (tmp_path / "s" / "clips" / rec.clip_id / "frames.npy").stat().st_mtime_ns
    generate(tmp_path / "s", cfg, progress=False)  # resume: nothing rewritten
    assert (tmp_path / "s" / "clips" / rec.clip_id / "frames.npy").stat().st_mtime_ns == before
    with pytest.raises(StoreError, match="another config"):
        generate(tmp_path / "s", SynthConfig(n_subjects=2, n_frames=4, side=24, classes=("happy", "sad"), include_neutral=True, seed=9), progress=False)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("x")
    with pytest.raises(StoreError, match="not empty and is not a clip store"):
        generate(tmp_path / "notes", cfg, progress=False)


def test_export_layouts(small_store, tmp_path):
    n = export_layout(small_store, tmp_path / "ck", "ckplus")
    assert n == 70
    pngs = sorted((tmp_path / "ck" / "cohn-kanade-images" / "S000" / "001").glob("*.png"))
    assert len(pngs) == 8 and pngs[0].name == "S000_001_00000001.png"
    emo = list((tmp_path / "ck" / "Emotion").rglob("*_emotion.txt"))
    assert len(emo) == 70 and float(emo[0].read_text()) in range(1, 8)
    k = export_layout(small_store, tmp_path / "afew", "afew")
    assert k == 60  # contempt has no AFEW folder
    assert {p.name for p in (tmp_path / "afew").iterdir()} == {"Train_AFEW", "Val_AFEW", "export.csv"}
    assert len(list((tmp_path / "afew").rglob("*.avi"))) == 60


def test_procedural_faces_are_framed_like_preprocessed_real_faces(fixtures_dir):
    """Eye-centre distance / frame width of generated neutral faces is that of the 20 real London
    photos after preprocessing (it was 25 % smaller before the generator used the preprocessing crop)."""
    from ferlib.preprocess.align import eye_centres
    from ferlib.preprocess.pipeline import PreprocessConfig, preprocess_clip
    from ferlib.synth.photo import list_photos

    def stat(lm):
        left, right = eye_centres(lm)
        return float(np.linalg.norm(right - left)) / 64

    real = [stat(preprocess_clip(p, PreprocessConfig(side=64)).landmarks[0]) for p in list_photos(fixtures_dir / "london_frl_subset")]
    cfg = SynthConfig(side=64, n_frames=4)
    gen = [stat(generate_clip(cfg, s, 0, "neutral")["landmarks"][0]) for s in range(20)]
    assert abs(np.mean(gen) / np.mean(real) - 1) < 0.06, (np.mean(gen), np.mean(real))
    lab = generate_clip(cfg, 3, 0, "happy")["landmarks"]
    assert np.abs(lab[:, 36, 1] - lab[:, 45, 1]).max() < 1.0  # eyes level in every frame, as preprocessing makes them
    still = generate_clip(cfg, 3, 1, "neutral")["landmarks"]
    wobble = np.linalg.norm(np.diff(still, axis=0), axis=-1).mean(-1)
    assert (wobble > 0.02).all() and wobble.max() < 1.5  # the detector box wobbles a little, as a real one does


def test_more_photo_subjects_than_photos_is_refused_before_writing(tmp_path, capsys):
    from ferlib.cli import main as cli_main

    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("anna", "ben", "carl"):
        cv2.imwrite(str(photos / f"{name}.png"), np.full((40, 40, 3), 128, np.uint8))
    cfg = SynthConfig(renderer="photo", photos_dir=str(photos), n_subjects=5, n_frames=4, side=32)
    with pytest.raises(ValueError, match=r"n_subjects=5 but .*photos holds 3 photos.*one subject per photo"):
        generate(tmp_path / "out", cfg, progress=False)
    assert not (tmp_path / "out").exists()  # nothing written
    assert cli_main(["synth", "--out", str(tmp_path / "cli"), "--renderer", "photo", "--photos", str(photos), "--subjects", "5"]) == 2
    assert "one subject per photo" in capsys.readouterr().err and not (tmp_path / "cli").exists()
    with pytest.raises(ValueError, match=r"photo identities \['dora'\] are not in"):
        SynthConfig(renderer="photo", photos_dir=str(photos), n_subjects=1, photo_ids=("dora",)).photo_renderer()
    plan = clip_plan(SynthConfig(renderer="photo", photos_dir=str(photos), n_subjects=2, classes=("happy",)), ["anna", "ben"])
    assert [r["subject"] for r in plan] == ["anna", "ben"] and plan[1]["clip_id"] == "lab_ben_00_happy"


@pytest.mark.fixtures
def test_a_photo_is_one_subject_and_never_in_two_folds(fixtures_dir, tmp_path):
    """Photo subjects carry the photo's identity (the London face id), so subject_kfold keeps each
    real person's clips in one fold."""
    from ferlib.data.protocols import subject_kfold

    root = fixtures_dir / "london_frl_subset"
    cfg = SynthConfig(renderer="photo", photos_dir=str(root), n_subjects=20, n_frames=2, side=16,
                      classes=("happy", "sad"), clips_per_subject=3)
    store = generate(tmp_path / "photo", cfg, progress=False)
    df = store.index().df
    assert len(df) == 60 and df["subject"].nunique() == 20
    assert (df["photo"].str[:3] == df["subject"]).all()  # 001_03.jpg -> subject "001"
    folds = subject_kfold(store.index(), k=5)
    seen: dict[str, set[int]] = {}
    for f, split in enumerate(folds):
        for photo in df["photo"].iloc[split.test]:
            seen.setdefault(photo, set()).add(f)
        assert not set(df["photo"].iloc[split.test]) & set(df["photo"].iloc[split.train])
    assert len(seen) == 20 and all(len(v) == 1 for v in seen.values())
    with pytest.raises(ValueError, match=r"n_subjects=40 but .* holds 20 photos"):
        generate(tmp_path / "p40", SynthConfig(renderer="photo", photos_dir=str(root), n_subjects=40), progress=False)


def test_a_store_from_an_earlier_generator_is_refused_with_a_clear_message(tmp_path):
    import json

    cfg = SynthConfig(n_subjects=1, n_frames=2, side=16, classes=("happy",))
    generate(tmp_path / "s", cfg, progress=False)
    manifest = tmp_path / "s" / "synth.json"
    old = json.loads(manifest.read_text())
    for key in ("crop_extend", "crop_align", "crop_box"):
        old.pop(key)
    manifest.write_text(json.dumps(old))
    with pytest.raises(StoreError, match=r"made by an earlier ferlib .*crop_align.*delete the folder"):
        generate(tmp_path / "s", cfg, progress=False)



def _rename_manifest_key(root, new: str, old: str) -> None:
    """Make a generated store's ``synth.json`` look written by an older ferlib that called ``new`` ``old``."""
    import json

    manifest = root / "synth.json"
    data = json.loads(manifest.read_text())
    data[old] = data.pop(new)
    manifest.write_text(json.dumps(data))


def test_a_store_written_before_the_course_rename_is_still_read(tmp_path):
    cfg = SynthConfig(n_subjects=1, n_frames=2, side=16, classes=("happy",), course="lab-return")
    generate(tmp_path / "s", cfg, progress=False)
    _rename_manifest_key(tmp_path / "s", "course", "profile")
    assert generate(tmp_path / "s", cfg, progress=False).clip_ids() == ["lab-return_S000_00_happy"]
    with pytest.raises(StoreError, match=r"differs in \{'seed': \(0, 1\)\}"):  # only what really differs
        generate(tmp_path / "s", SynthConfig(n_subjects=1, n_frames=2, side=16, classes=("happy",), course="lab-return",
                                             seed=1), progress=False)


def test_a_store_written_when_the_side_was_called_size_is_still_read(tmp_path):
    cfg = SynthConfig(n_subjects=1, n_frames=2, side=16, classes=("happy",))
    generate(tmp_path / "s", cfg, progress=False)
    _rename_manifest_key(tmp_path / "s", "side", "size")
    assert generate(tmp_path / "s", cfg, progress=False).clip_ids() == ["lab_S000_00_happy"]
    with pytest.raises(StoreError, match=r"differs in \{'side': \(16, 24\)\}"):  # the old key compared as the new one
        generate(tmp_path / "s", SynthConfig(n_subjects=1, n_frames=2, side=24, classes=("happy",)), progress=False)


@pytest.mark.fixtures
def test_photo_renders_of_an_earlier_photo_renderer_are_refused_and_drawn_stores_are_not(fixtures_dir, tmp_path, monkeypatch):
    """Photo stores carry the photo renderer's version (a store without one predates the stamp:
    version 1); drawn stores do not, so a photo-only change leaves them valid."""
    import importlib
    import json

    gen = importlib.import_module("ferlib.synth.generate")
    cfg = SynthConfig(renderer="photo", photos_dir=str(fixtures_dir / "london_frl_subset"), n_subjects=1, n_frames=2,
                      side=16, classes=("happy",), clips_per_subject=1)
    generate(tmp_path / "photo", cfg, progress=False)
    manifest = tmp_path / "photo" / "synth.json"
    old = json.loads(manifest.read_text())
    assert old["photo_renderer"] == gen.PHOTO_RENDERER_VERSION
    del old["photo_renderer"]
    manifest.write_text(json.dumps(old))
    with pytest.raises(StoreError, match=rf"photo renderer version 1, this ferlib renders version {gen.PHOTO_RENDERER_VERSION}"):
        generate(tmp_path / "photo", cfg, progress=False)
    drawn = SynthConfig(n_subjects=1, n_frames=2, side=16, classes=("happy",))
    n = len(generate(tmp_path / "drawn", drawn, progress=False).index())
    assert "photo_renderer" not in json.loads((tmp_path / "drawn" / "synth.json").read_text())
    monkeypatch.setattr(gen, "PHOTO_RENDERER_VERSION", gen.PHOTO_RENDERER_VERSION + 1)
    assert len(generate(tmp_path / "drawn", drawn, progress=False).index()) == n  # resumed, not refused
