"""London set: the adapter's index and layout errors on trees the tests write; the morph clips of its
preprocessing (ferlib.synth.london) on drawn and real faces."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ferlib.assets import ASSETS
from ferlib.data.adapters.base import LayoutError
from ferlib.data.adapters.london import LONDON_CLASSES, london_index
from ferlib.data.landmarks68 import MEAN_SHAPE
from ferlib.data.store import ClipStore
from ferlib.synth.london import build_london_store, pair_alignment

FIXTURES = ASSETS / "london_frl_subset"
SIDE = 160
IOD = 50.0


def _face(smile: float, code: int, shift: tuple[float, float] = (0.0, 0.0)) -> tuple[np.ndarray, np.ndarray]:
    """A drawn face and its landmarks; ``smile`` moves the mouth corners up/out (IOD units).
    ``code`` is written into pixel (0, 0) so the stand-in landmarker knows which photo it sees."""
    lm = MEAN_SHAPE.astype(np.float64).copy()
    lm[[48, 60], 0] -= smile * 0.12
    lm[[54, 64], 0] += smile * 0.12
    lm[[48, 54, 60, 64], 1] -= smile * 0.08
    lm = lm * IOD + [SIDE / 2 + shift[0], SIDE / 2 - 15 + shift[1]]
    img = np.full((SIDE, SIDE, 3), 140, np.uint8)
    cv2.fillPoly(img, [np.round(lm[:17]).astype(np.int32)], (220, 180, 160))
    for part in (lm[36:42], lm[42:48]):
        cv2.fillPoly(img, [np.round(part).astype(np.int32)], (40, 40, 40))
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (190, 80, 80))
    img[0, 0] = code
    return img, lm.astype(np.float32)


def _fake_set(root: Path, ids: tuple[str, ...] = ("001", "002"), faceless: tuple[str, ...] = ()) -> dict:
    """Write ``root/neutral_front/NNN_03.png`` and ``root/smiling_front/NNN_08.png``; return the landmark table."""
    table = {}
    for sub in ("neutral_front", "smiling_front"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for i, fid in enumerate(ids):
        for smile, sub, suffix in ((0.0, "neutral_front", "_03"), (1.0, "smiling_front", "_08")):
            code = 10 * (i + 1) + int(smile)
            img, lm = _face(smile, code, shift=(0.0, 6.0) if smile else (0.0, 0.0))  # the smiling photo sits lower
            cv2.imwrite(str(root / sub / f"{fid}{suffix}.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
            if fid not in faceless:
                table[code] = lm
    return table


def _landmarker(table: dict):
    def run(image: np.ndarray):
        lm = table.get(int(image[0, 0, 0]))
        if lm is None:
            return None
        return lm, (float(lm[:, 0].min()), float(lm[:, 1].min()), float(lm[:, 0].max()), float(lm[:, 1].max()))

    return run


def _mouth_width(lm: np.ndarray) -> np.ndarray:
    return lm[..., 54, 0] - lm[..., 48, 0]


def test_index_of_a_written_tree_pairs_photos_and_warns_about_singles(tmp_path: Path) -> None:
    _fake_set(tmp_path, ("001", "002"))
    cv2.imwrite(str(tmp_path / "neutral_front" / "003_03.png"), np.zeros((8, 8, 3), np.uint8))  # no smiling photo
    (tmp_path / "london_info.csv").write_text("face_id,face_age\n001,24\n002,31\n")
    with pytest.warns(UserWarning, match=r"'003'.*only one of the two photos"):
        index = london_index(tmp_path)
    assert index.classes == LONDON_CLASSES == ("neutral", "happy")
    assert len(index) == 4 and sorted(set(index.subjects)) == ["001", "002"]
    row = index.df.set_index("clip_id").loc["london_002_happy"]
    assert row["label_name"] == "happy" and row["subject"] == "002" and row["face_age"] == "31"
    assert row["source"].endswith("smiling_front/002_08.png") and row["neutral_photo"].endswith("neutral_front/002_03.png")


def test_a_wrong_layout_names_the_folder(tmp_path: Path) -> None:
    (tmp_path / "neutral_front").mkdir()
    (tmp_path / "photos").mkdir()
    with pytest.raises(LayoutError, match=r"smiling_front.*found in .*\['neutral_front/', 'photos/'\]"):
        london_index(tmp_path)
    (tmp_path / "smiling_front").mkdir()
    (tmp_path / "smiling_front" / "001_08.txt").write_text("x")
    with pytest.raises(LayoutError, match=r"no neutral photos named NNN_03\.jpg in .*neutral_front"):
        london_index(tmp_path)


def test_pair_alignment_recovers_a_similarity() -> None:
    lm = MEAN_SHAPE.astype(np.float64) * 40 + 100
    a = np.deg2rad(5.0)
    m = 1.1 * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    moved = lm @ m.T + [7.0, -3.0]  # the "smiling photo": the same face rotated, scaled and shifted
    back = pair_alignment(lm, moved)
    np.testing.assert_allclose(moved @ back[:, :2].T + back[:, 2], lm, atol=1e-3)


def test_store_of_drawn_faces_morphs_resumes_and_records_failures(tmp_path: Path) -> None:
    root = tmp_path / "set"
    table = _fake_set(root, ("001", "002", "003"), faceless=("003",))
    kw = dict(n_frames=5, side=32, seed=3, landmarker=_landmarker(table), progress=False)
    store = build_london_store(root, tmp_path / "store", **kw)
    assert store.clip_ids() == ["london_001_happy", "london_001_neutral", "london_002_happy", "london_002_neutral"]
    fails = store.failures()
    assert sorted(fails["clip_id"]) == ["london_003_happy", "london_003_neutral"]
    assert fails["reason"].str.contains("003_03.png").all()

    happy, neutral = store.read("london_001_happy"), store.read("london_001_neutral")
    assert happy.frames.shape == (5, 32, 32, 3) and happy.frames.dtype == np.uint8
    assert happy.landmarks.shape == (5, 68, 2) and happy.intensity is not None
    s = happy.intensity
    assert s[0] == 0 and np.all(np.diff(s) >= 0) and s[-1] > 0.7  # lab: neutral -> apex
    np.testing.assert_array_equal(neutral.intensity, np.zeros(5, np.float32))
    # the mouth widens with s in the happy clip (relative to the IOD, which jitter rescales) and not in the neutral one
    iod = lambda lm: np.linalg.norm(lm[:, 45] - lm[:, 36], axis=-1)  # noqa: E731
    rel_h, rel_n = _mouth_width(happy.landmarks) / iod(happy.landmarks), _mouth_width(neutral.landmarks) / iod(neutral.landmarks)
    assert rel_h[-1] - rel_h[0] > 0.15 * s[-1]
    assert np.ptp(rel_n) < 0.01
    assert not np.array_equal(neutral.frames[0], neutral.frames[1])  # jittered, not a static clip
    assert store.meta("london_001_happy")["course"] == "lab"

    # resume: a second run writes nothing new; a removed clip is re-made identically
    before = store.read("london_002_happy", mmap=False)
    import shutil

    shutil.rmtree(store.entry_dir("london_002_happy"))
    again = build_london_store(root, tmp_path / "store", **kw)
    after = again.read("london_002_happy", mmap=False)
    np.testing.assert_array_equal(before.frames, after.frames)
    np.testing.assert_array_equal(before.landmarks, after.landmarks)
    assert len(again.clip_ids()) == 4
    assert sorted(again.failures()["clip_id"]) == ["london_003_happy", "london_003_neutral"]  # retried, listed once


def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    _fake_set(tmp_path / "set", ("001",))
    with pytest.raises(ValueError, match="unknown intensity course 'slow'"):
        build_london_store(tmp_path / "set", tmp_path / "s1", course="slow", progress=False)
    with pytest.raises(ValueError, match=r"face ids \['999'\] are not in the London set"):
        build_london_store(tmp_path / "set", tmp_path / "s2", subjects=["999"], progress=False)


@pytest.mark.fixtures
def test_real_set_index() -> None:
    index = london_index(FIXTURES)
    assert len(index) == 40 and len(set(index.subjects)) == 20
    assert index.class_counts().tolist() == [20, 20]
    assert "face_gender" in index.df.columns


@pytest.mark.fixtures
def test_real_store_landmarks_match_the_pixels(tmp_path: Path) -> None:
    from ferlib.preprocess.dlib_models import landmarks_in_box

    store = build_london_store(FIXTURES, tmp_path / "store", n_frames=3, side=96, course="lab-return",
                               subjects=["002", "004"], progress=False)
    assert isinstance(store, ClipStore) and len(store.clip_ids()) == 4 and store.failures().empty
    clip = store.read("london_004_happy")
    assert clip.meta["course"] == "lab-return" and clip.intensity[1] > 0.5 > clip.intensity[0]
    lm = clip.landmarks[1]
    box = (int(lm[:, 0].min()), int(lm[:, 1].min()), int(lm[:, 0].max()), int(lm[:, 1].max()))
    seen = landmarks_in_box(np.asarray(clip.frames[1]), box)
    assert np.abs(seen - lm).mean() < 2.0  # dlib finds the landmarks where the morph says they are
    rel = _mouth_width(clip.landmarks) / np.linalg.norm(clip.landmarks[:, 45] - clip.landmarks[:, 36], axis=-1)
    assert rel[1] - rel[0] > 0.1 * clip.intensity[1]  # this person's smile widens the mouth by 0.17 IOD
