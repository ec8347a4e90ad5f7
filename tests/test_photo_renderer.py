"""PhotoRenderer on faces the tests draw (known landmarks), and on real photos when the fixtures exist."""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from ferlib.assets import ASSETS
from ferlib.data.landmarks68 import MEAN_SHAPE
from ferlib.synth.photo import FaceNotFoundError, PhotoRenderer, polygon_area

FIXTURES = ASSETS / "london_frl_subset"
PHOTO = 200  # side of the drawn photos
IOD = 60.0  # inter-ocular distance of the drawn face, photo pixels


def _drawn_face(angle_deg: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """A cartoon face ``(PHOTO, PHOTO, 3)`` and its 68 landmarks (the mean shape, rotated by ``angle_deg``)."""
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    lm = (MEAN_SHAPE.astype(np.float64) * IOD) @ rot.T + [PHOTO / 2, PHOTO / 2 - 20]
    img = np.full((PHOTO, PHOTO, 3), 150, np.uint8)
    cv2.fillPoly(img, [np.round(lm[:17]).astype(np.int32)], (220, 180, 160))
    for eye in (lm[36:42], lm[42:48]):
        cv2.fillPoly(img, [np.round(eye).astype(np.int32)], (40, 40, 40))
    cv2.fillPoly(img, [np.round(lm[48:60]).astype(np.int32)], (200, 90, 90))  # closed lips
    cv2.circle(img, tuple(np.round(lm[48]).astype(int)), 2, (0, 0, 255), -1)  # a blue spot on the mouth corner
    return img, lm.astype(np.float32)


def _landmarker_for(lm: np.ndarray):
    box = (float(lm[:, 0].min()), float(lm[:, 1].min()), float(lm[:, 0].max()), float(lm[:, 1].max()))
    return lambda image: (lm, box)


def _smile(class_name: str, intensity: np.ndarray) -> np.ndarray:
    """Stand-in offsets: mouth corners (outer 48/54 and inner 60/64) up and outwards (x right, y down, IOD units)."""
    field = np.zeros((68, 2), np.float32)
    field[[48, 60]] = (-0.10, -0.08)
    field[[54, 64]] = (0.10, -0.08)
    return np.asarray(intensity, np.float32)[:, None, None] * field


def _open_mouth(class_name: str, intensity: np.ndarray) -> np.ndarray:
    """Stand-in offsets: jaw, lower lip and lower inner lip drop (AU26-like)."""
    field = np.zeros((68, 2), np.float32)
    field[[65, 66, 67], 1] = 0.25
    field[list(range(55, 60)), 1] = 0.27
    field[list(range(5, 12)), 1] = 0.2
    return np.asarray(intensity, np.float32)[:, None, None] * field


@pytest.fixture
def drawn(tmp_path: Path):
    def make(angle_deg: float = 0.0, offsets=_smile, **kw) -> tuple[PhotoRenderer, np.ndarray]:
        img, lm = _drawn_face(angle_deg)
        folder = tmp_path / f"photos_{angle_deg:g}"
        folder.mkdir(exist_ok=True)
        cv2.imwrite(str(folder / "a.png"), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
        kw.setdefault("pose_jitter", (0.0, 0.0, 0.0))
        kw.setdefault("appearance", False)  # geometry alone unless a test asks for the appearance
        return PhotoRenderer(folder, side=64, offsets_fn=offsets, landmarker=_landmarker_for(lm), **kw), lm

    return make


def _iod(lm: np.ndarray) -> float:
    return float(np.linalg.norm(lm[45] - lm[36]))


def test_shapes_dtypes_and_determinism(drawn) -> None:
    r, _ = drawn(pose_jitter=(3.0, 0.03, 0.03))
    inten = np.linspace(0, 1, 5).astype(np.float32)
    frames, lm = r.render(0, "happy", inten, np.random.default_rng(0))
    assert frames.shape == (5, 64, 64, 3) and frames.dtype == np.uint8
    assert lm.shape == (5, 68, 2) and lm.dtype == np.float32
    again, lm2 = r.render(0, "happy", inten, np.random.default_rng(0))
    np.testing.assert_array_equal(frames, again)
    np.testing.assert_array_equal(lm, lm2)
    other, _ = r.render(0, "happy", inten, np.random.default_rng(1))
    assert not np.array_equal(frames, other)  # another clip jitter
    with pytest.raises(IndexError, match=r"subject 1 has no photo: the renderer holds 1 photos"):
        r.render(r.n_photos, "happy", inten, np.random.default_rng(0))  # no silent reuse of a photo


def test_intensity_zero_gives_the_neutral_crop(drawn) -> None:
    r, _ = drawn(20.0)
    neutral, neutral_lm = r.neutral(0)
    frames, lm = r.render(0, "happy", np.zeros(3, np.float32), np.random.default_rng(0))
    assert np.abs(frames.astype(int) - neutral).max() <= 1
    np.testing.assert_allclose(lm, np.broadcast_to(neutral_lm, lm.shape), atol=1e-4)
    # the neutral crop frames the face: eyes level and in the upper half, IOD a good share of the side
    assert abs(neutral_lm[36, 1] - neutral_lm[45, 1]) < 0.5
    assert 0.25 * 64 < _iod(neutral_lm) < 0.6 * 64
    assert neutral_lm[36, 1] < 32 < neutral_lm[57, 1]


@pytest.mark.parametrize("angle,align", [(0.0, True), (20.0, True), (20.0, False)])
def test_landmarks_move_by_the_offsets_rotated_with_the_face(drawn, angle: float, align: bool) -> None:
    r, _ = drawn(angle, align=align)
    frames, lm = r.render(0, "happy", np.array([0.0, 1.0], np.float32), np.random.default_rng(0))
    a = 0.0 if align else math.radians(angle)  # levelled crops show the face upright
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    iod = _iod(lm[0])
    expected = iod * (_smile("happy", np.ones(1))[0] @ rot.T)
    np.testing.assert_allclose(lm[1] - lm[0], expected, atol=0.05)
    if a == 0:
        assert lm[1, 48, 0] < lm[0, 48, 0] and lm[1, 48, 1] < lm[0, 48, 1]  # left corner: out (left) and up
        assert lm[1, 54, 0] > lm[0, 54, 0] and lm[1, 54, 1] < lm[0, 54, 1]


def test_pixels_follow_the_landmarks(drawn) -> None:
    r, _ = drawn(offsets=_smile, supersample=3)
    frames, lm = r.render(0, "happy", np.array([0.0, 1.0], np.float32), np.random.default_rng(0))
    centres = []
    for t in (0, 1):
        f = frames[t].astype(np.float64)
        blue = np.clip(f[..., 2] - f[..., :2].max(-1), 0, None)  # the blue spot drawn at landmark 48
        ys, xs = np.mgrid[0:64, 0:64]
        centres.append(np.array([(blue * xs).sum(), (blue * ys).sum()]) / blue.sum())
    np.testing.assert_allclose(centres[0], lm[0, 48], atol=0.5)
    assert np.linalg.norm(lm[1, 48] - lm[0, 48]) > 3.0  # the landmark moved by several pixels …
    # … and the spot's mass centre with it (up to the uneven stretch of the triangles around it)
    np.testing.assert_allclose(centres[1], lm[1, 48], atol=1.2)
    assert np.linalg.norm(centres[1] - lm[1, 48]) < 0.5 * np.linalg.norm(centres[1] - lm[0, 48])


def _inner_mouth_brightness(frame: np.ndarray, lm: np.ndarray) -> float:
    mask = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(lm[60:68]).astype(np.int32)], 1)
    return float(frame[mask > 0].mean()) if mask.any() else float("nan")


def test_an_open_mouth_is_dark_and_a_closed_one_is_not(drawn) -> None:
    r, _ = drawn(offsets=_open_mouth)
    frames, lm = r.render(0, "surprise", np.array([0.0, 1.0], np.float32), np.random.default_rng(0))
    assert polygon_area(lm[1, 60:68]) > 20  # the lips part by several pixels
    assert _inner_mouth_brightness(frames[1], lm[1]) < 70
    lips = frames[0][np.round(lm[0, 48:60, 1]).astype(int), np.round(lm[0, 48:60, 0]).astype(int)]
    assert lips.mean() > 70  # before, the mouth region is lip-coloured, not dark
    r_smile, _ = drawn(offsets=_smile)
    smile, _ = r_smile.render(0, "happy", np.array([1.0], np.float32), np.random.default_rng(0))
    assert (smile[0] < 60).all(-1).sum() <= (r_smile.neutral(0)[0] < 60).all(-1).sum() + 2  # no new dark area


def test_bad_inputs_are_refused(drawn, tmp_path: Path) -> None:
    r, _ = drawn()
    with pytest.raises(ValueError, match=r"intensity must be a finite 1-D array"):
        r.render(0, "happy", np.zeros((2, 2)), np.random.default_rng(0))
    with pytest.raises(TypeError, match="numpy.random.Generator"):
        r.render(0, "happy", np.zeros(2), 0)  # type: ignore[arg-type]
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(FileNotFoundError, match=r"no photos .* in .*empty"):
        PhotoRenderer(empty)
    with pytest.raises(ValueError, match="exemplar_region must be 'full', 'face' or 'lower'"):
        drawn(exemplar_region="mouth")


def test_a_photo_without_a_face_names_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "faceless"
    folder.mkdir()
    cv2.imwrite(str(folder / "wall_01.jpg"), np.full((120, 120, 3), 128, np.uint8))
    r = PhotoRenderer(folder, side=32)  # the real dlib landmarker
    with pytest.raises(FaceNotFoundError, match=r"wall_01\.jpg.*expected one frontal face"):
        r.render(0, "happy", np.zeros(2, np.float32), np.random.default_rng(0))


@pytest.mark.fixtures
def test_real_photos_smile_is_seen_by_dlib() -> None:
    """On a real London-set photo, dlib's landmarks on the rendered smile move like the targets."""
    from ferlib.preprocess.dlib_models import landmarks_in_box

    r = PhotoRenderer(FIXTURES, side=128, pose_jitter=(0.0, 0.0, 0.0))
    frames, lm = r.render(1, "happy", np.array([0.0, 1.0], np.float32), np.random.default_rng(0))
    assert frames.shape == (2, 128, 128, 3)
    box = (int(lm[0, :, 0].min()), int(lm[0, :, 1].min()), int(lm[0, :, 0].max()), int(lm[0, :, 1].max()))
    seen = np.stack([landmarks_in_box(f, box) for f in frames])  # dlib on the rendered frames
    assert np.abs(seen[0] - lm[0]).mean() < 2.0  # the neutral crop's landmarks are where dlib sees them
    width = lambda p: p[54, 0] - p[48, 0]  # noqa: E731
    corners_y = lambda p: p[[48, 54], 1].mean()  # noqa: E731
    assert width(lm[1]) > width(lm[0]) + 3 and corners_y(lm[1]) < corners_y(lm[0]) - 2
    assert width(seen[1]) > width(seen[0]) + 2  # the pixels show a wider mouth …
    assert corners_y(seen[1]) < corners_y(seen[0]) - 1  # … with raised corners


# -- framing: generated faces are cropped as preprocessing crops real ones ---------------------------
def _iod_width(lm: np.ndarray, width: int) -> float:
    """Distance between the eye centres / frame width (the framing statistic)."""
    from ferlib.preprocess.align import eye_centres

    left, right = eye_centres(lm)
    return float(np.linalg.norm(right - left)) / width


def test_a_render_is_framed_as_preprocessing_crops_the_photo(drawn) -> None:
    """Same box and landmarks → the renderer's neutral frame is the preprocessing's crop of the photo."""
    from ferlib.preprocess.align import align_crop_clip

    r, lm = drawn(12.0)
    frame, frame_lm = r.neutral(0)
    img, _ = _drawn_face(12.0)
    box = np.array([[lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()]])
    crops, crop_lm, _ = align_crop_clip(img[None], box, lm[None], crop_side=64)
    np.testing.assert_allclose(frame_lm, crop_lm[0], atol=0.02)
    assert abs(frame_lm[36, 1] - frame_lm[45, 1]) < 0.05  # eyes levelled although the head is rolled 12°
    assert np.abs(frame.astype(int) - crops[0]).mean() < 4  # the same pixels, up to resampling


def test_framing_defaults_are_the_preprocessing_defaults() -> None:
    from ferlib.preprocess.pipeline import PreprocessConfig
    from ferlib.synth import SynthConfig
    from ferlib.synth.framing import Framing

    pre, f, cfg = PreprocessConfig(), Framing(), SynthConfig()
    assert (f.extend, f.align, f.crop_box) == (pre.extend, pre.align, pre.crop_box)
    assert cfg.framing == f
    with pytest.raises(ValueError, match="crop_box must be one of"):
        SynthConfig(crop_box="tight")


def test_preprocess_cli_passes_every_crop_option(tmp_path: Path, monkeypatch) -> None:
    import ferlib.preprocess.cli as pcli
    from ferlib.cli import main as cli_main
    from ferlib.data.index import ClipIndex

    ClipIndex.from_records([{"clip_id": "a", "label_name": "happy", "subject": "s1", "source": "a.mp4", "split": ""}],
                           ("happy",), "mine").to_csv(tmp_path / "index.csv")
    seen: dict = {}

    def fake(index, out, **kw):
        seen.update(kw)
        from ferlib.preprocess.pipeline import PreprocessSummary

        return PreprocessSummary(Path(out), total=1, done=1)

    monkeypatch.setattr(pcli, "preprocess_index", fake)
    argv = ["preprocess", "--index", str(tmp_path / "index.csv"), "--out", str(tmp_path / "s"), "--workers", "1"]
    assert cli_main(argv) == 0
    assert (seen["crop_box"], seen["antialias"], seen["align"], seen["extend"]) == ("union", True, True, 0.25)
    assert cli_main(argv + ["--crop-box", "detector", "--no-antialias", "--no-align", "--extend", "0.5", "--smooth", "3"]) == 0
    assert (seen["crop_box"], seen["antialias"], seen["align"], seen["extend"], seen["smooth"]) == ("detector", False, False, 0.5, 3)


@pytest.mark.fixtures
def test_real_photo_and_its_render_have_the_same_framing(fixtures_dir: Path) -> None:
    """Inter-ocular distance / frame width: the preprocessed photo and its render agree within 2 %."""
    from ferlib.preprocess.pipeline import PreprocessConfig, preprocess_clip
    from ferlib.synth.photo import list_photos

    root = fixtures_dir / "london_frl_subset"
    r = PhotoRenderer(root, side=64, pose_jitter=(0.0, 0.0, 0.0))
    for i, photo in enumerate(list_photos(root)[:4]):
        real = preprocess_clip(photo, PreprocessConfig(side=64))
        _, lm = r.neutral(i)
        rendered, _ = r.render(i, "happy", np.zeros(2, np.float32), np.random.default_rng(0))
        a, b = _iod_width(real.landmarks[0], 64), _iod_width(lm, 64)
        assert abs(a / b - 1) < 0.02, (photo.name, a, b)
        assert np.abs(rendered[0].astype(int) - real.frames[0]).mean() < 6  # and the same pixels


# -- appearance: what action units do to the skin, driven by their activation ------------------------
def _centroid(diff: np.ndarray) -> np.ndarray:
    ys, xs = np.mgrid[0:diff.shape[0], 0:diff.shape[1]]
    return np.array([(diff * xs).sum(), (diff * ys).sum()]) / diff.sum()


@pytest.mark.parametrize("au", [1, 4, 6, 9, 12, 15, 23])
def test_each_action_unit_paints_its_own_region(au: int) -> None:
    from ferlib.synth.appearance import paint_action_units

    img, lm = _drawn_face()
    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    diffs = {a: np.abs(paint_action_units(img, lm, {au: a}).astype(int) - img).sum(-1).astype(float) for a in (0.0, 0.5, 1.0)}
    assert diffs[0.0].sum() == 0  # no activation, no change
    assert diffs[0.5].sum() < diffs[1.0].sum()  # the effect grows with the activation
    d = diffs[1.0]
    assert d.sum() > 500
    cx, cy = _centroid(d)
    mid, iod = lm[27, 0], _iod(lm)
    brow_y, eye_y, nose_y, mouth_y = lm[17:27, 1].mean(), lm[36:48, 1].mean(), lm[33, 1], lm[[48, 54], 1].mean()
    where = {
        1: cy < brow_y,  # forehead folds above the brows
        4: abs(cx - mid) < 0.15 * iod and brow_y - 0.3 * iod < cy < eye_y + 0.1 * iod,  # between the brows
        6: eye_y - 0.05 * iod < cy < nose_y,  # lower lids, crow's feet, cheek apples
        9: d[int(lm[27, 1]):int(lm[30, 1]), int(mid - 0.15 * iod):int(mid + 0.15 * iod)].sum() > 0.15 * d.sum()
        and nose_y - 0.3 * iod < cy < mouth_y,  # wrinkles across the nose bridge, the upper nasolabial folds
        12: nose_y < cy < lm[8, 1] and d[:, np.abs(np.arange(d.shape[1]) - mid) > 0.3 * iod].sum() > 0.5 * d.sum(),
        15: cy > mouth_y,  # below the mouth corners
        23: lm[48:60, 0].min() < cx < lm[48:60, 0].max() and lm[48:60, 1].min() - 2 < cy < lm[48:60, 1].max() + 0.1 * iod,
    }
    assert where[au], (au, cx, cy)


def test_one_sided_action_units_paint_one_side() -> None:
    from ferlib.synth.appearance import paint_action_units

    img, lm = _drawn_face()
    d = np.abs(paint_action_units(img, lm, {12: 1.0, 14: 1.0}, sides=(0.0, 1.0)).astype(int) - img).sum(-1)
    mid = int(round(lm[27, 0]))
    assert d[:, mid:].sum() > 10 * d[:, :mid].sum()  # image right only (subject's left, landmark 54)


def test_strong_smiles_part_the_lips_and_show_teeth(drawn) -> None:
    r, _ = drawn(offsets=None, appearance=True, supersample=3)
    frames, lm = r.render(0, "happy", np.array([0.0, 0.2, 1.0], np.float32), np.random.default_rng(0))
    gap = np.linalg.norm(lm[:, 66] - lm[:, 62], axis=1)
    assert gap[1] < gap[0] + 0.3 < gap[2] - 1.0  # a faint smile keeps the lips closed, a strong one parts them

    def white_in_mouth(f: np.ndarray, p: np.ndarray) -> int:
        mask = np.zeros(f.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(p[60:68]).astype(np.int32)], 1)
        return int(((f.min(-1) > 170) & (mask > 0)).sum())

    assert white_in_mouth(frames[2], lm[2]) >= 4 and white_in_mouth(frames[1], lm[1]) == 0
    plain, _ = drawn(offsets=None, appearance=False)[0].render(0, "happy", np.array([1.0], np.float32), np.random.default_rng(0))
    assert np.abs(plain[0].astype(int) - frames[2]).mean() > 0.5  # the appearance is not a no-op


def test_an_open_mouth_shows_upper_teeth_over_a_dark_interior(drawn) -> None:
    r, _ = drawn(offsets=_open_mouth, appearance=True)
    frames, lm = r.render(0, "surprise", np.array([1.0], np.float32), np.random.default_rng(0))
    f, p = frames[0].astype(float), lm[0]
    top = p[62] + (p[66] - p[62]) * 0.15
    bottom = p[62] + (p[66] - p[62]) * 0.75
    assert f[int(round(top[1])), int(round(top[0]))].min() > 150  # teeth under the upper lip
    assert f[int(round(bottom[1])), int(round(bottom[0]))].max() < 90  # dark mouth further down


def test_no_exemplar_without_a_smiling_photo(drawn) -> None:
    r, _ = drawn(appearance=True, exemplars=True)
    assert r.exemplar(0) is None  # a plain folder of neutral photos: appearance is painted only


@pytest.mark.fixtures
def test_the_smiling_exemplar_gives_happy_the_persons_real_smile(fixtures_dir: Path) -> None:
    root = fixtures_dir / "london_frl_subset"
    kw = dict(side=64, pose_jitter=(0.0, 0.0, 0.0), photo_ids=["005"])
    with_ex, without = PhotoRenderer(root, exemplars=True, **kw), PhotoRenderer(root, exemplars=False, **kw)
    ex = with_ex.exemplar(0)
    assert ex is not None and ex.face.path.name == "005_08.jpg"
    assert ex.displacement[48, 0] < 0 < ex.displacement[54, 0] and ex.displacement[[48, 54], 1].max() < 0  # corners out and up
    inten = np.array([0.0, 1.0], np.float32)
    a, lm_a = with_ex.render(0, "happy", inten, np.random.default_rng(0))
    b, lm_b = without.render(0, "happy", inten, np.random.default_rng(0))
    np.testing.assert_array_equal(a[0], b[0])  # the neutral frame is the neutral photo's
    norm = lambda p: (p - (p[36] + p[45]) / 2) / _iod(p)  # noqa: E731  (frames are crops: compare face-relative shapes)
    moved = norm(lm_a[1]) - norm(lm_a[0])
    real = ex.displacement - ex.displacement[[36, 45]].mean(0)
    np.testing.assert_allclose(moved[[48, 54]], real[[48, 54]], atol=0.02)  # the real smile's geometry …
    d = np.abs(a[1].astype(int) - b[1]).mean(-1)
    mouth_y = int(lm_a[1, 48:68, 1].mean())
    assert d[mouth_y - 4:mouth_y + 5].mean() > 6  # … and its pixels
    sad_a, _ = with_ex.render(0, "sad", inten, np.random.default_rng(0))
    sad_b, _ = without.render(0, "sad", inten, np.random.default_rng(0))
    np.testing.assert_array_equal(sad_a, sad_b)  # only happy (AU6 with AU12) uses the smiling photo


# -- domain randomisation ----------------------------------------------------------------------------
def _nothing():
    from ferlib.synth.randomise import Randomisation

    return Randomisation(pose=(0.0, 0.0, 0.0), frame_jitter=(0.0, 0.0, 0.0), light=0.0, gain=(1.0, 1.0), colour=0.0,
                         gamma=(1.0, 1.0), blur=0.0, noise=0.0, p_jpeg=0.0, p_background=0.0, p_occluder=0.0)


def test_each_nuisance_does_its_job(drawn) -> None:
    from dataclasses import replace

    from ferlib.synth.photo import RenderedClip

    inten = np.array([0.0, 0.0, 0.5, 1.0], np.float32)

    def clip(randomise, seed: int = 0) -> RenderedClip:
        r, _ = drawn(randomise=randomise, appearance=True)
        return r.render_clip(0, "happy", inten, np.random.default_rng(seed))

    clean = clip(None)
    off = clip(_nothing())
    np.testing.assert_array_equal(off.frames, clean.frames)  # every nuisance off = the clean render
    np.testing.assert_allclose(off.landmarks, clean.landmarks, atol=1e-4)
    nothing = _nothing()
    corner = (slice(0, 6), slice(0, 6))
    bg = clip(replace(nothing, p_background=1.0), seed=3).frames
    assert np.abs(bg[:, corner[0], corner[1]].astype(int) - clean.frames[:, corner[0], corner[1]]).mean() > 5  # backdrop swapped
    assert np.abs(bg[:, 28:36, 28:36].astype(int) - clean.frames[:, 28:36, 28:36]).mean() < 2  # the face kept
    noisy = clip(replace(nothing, noise=8.0)).frames
    assert not np.array_equal(noisy[0], noisy[1])  # new sensor noise in every frame of a still face
    blurred = clip(replace(nothing, blur=1.1), seed=1).frames
    lap = lambda f: float(np.var(cv2.Laplacian(f.mean(-1), cv2.CV_64F)))  # noqa: E731
    assert lap(blurred[0]) < lap(clean.frames[0])
    jpeg = clip(replace(nothing, p_jpeg=1.0, jpeg=(20, 20))).frames
    assert 0 < np.abs(jpeg.astype(int) - clean.frames).mean() < 8
    lit = clip(replace(nothing, light=0.45, gain=(0.7, 0.7)), seed=2).frames
    assert lit.mean() < 0.85 * clean.frames.mean()
    moved = clip(replace(nothing, pose=(6.0, 0.06, 0.05), frame_jitter=(0.8, 0.01, 0.008)), seed=5)
    shift = np.linalg.norm(moved.landmarks - clean.landmarks, axis=-1).mean(-1)
    assert shift.min() > 0.2 and np.ptp(shift) > 0  # per-clip pose plus per-frame jitter
    covered = clip(replace(nothing, p_occluder=1.0), seed=4)
    assert covered.occluded.any()
    assert np.abs(covered.frames[covered.occluded].astype(int) - clean.frames[covered.occluded]).mean() > 3


def test_randomised_clips_are_deterministic_and_default_to_the_wild_course(drawn, tmp_path: Path) -> None:
    from ferlib.synth import SynthConfig
    from ferlib.synth.randomise import Randomisation

    r, _ = drawn(randomise=Randomisation(), appearance=True)
    inten = np.linspace(0, 1, 6).astype(np.float32)
    a = r.render_clip(0, "surprise", inten, np.random.default_rng(11))
    b = r.render_clip(0, "surprise", inten, np.random.default_rng(11))
    np.testing.assert_array_equal(a.frames, b.frames)
    assert not np.array_equal(a.frames, r.render_clip(0, "surprise", inten, np.random.default_rng(12)).frames)
    photos = str(tmp_path)
    assert SynthConfig(renderer="photo", photos_dir=photos, course="wild").randomised
    assert not SynthConfig(renderer="photo", photos_dir=photos, course="lab").randomised
    assert not SynthConfig(renderer="photo", photos_dir=photos, course="lab-return").randomised
    assert SynthConfig(renderer="photo", photos_dir=photos, course="lab", randomise=True).randomised
    assert not SynthConfig(renderer="photo", photos_dir=photos, course="wild", randomise=False).randomised
    with pytest.raises(ValueError, match="randomise applies to renderer='photo'"):
        SynthConfig(randomise=True)


def test_frame_jitter_moves_every_frame_a_little(drawn) -> None:
    still, _ = drawn()
    shaky, _ = drawn(frame_jitter=(1.5, 0.015, 0.015))
    zeros = np.zeros(4, np.float32)
    a, lm_a = still.render(0, "neutral", zeros, np.random.default_rng(0))
    b, lm_b = shaky.render(0, "neutral", zeros, np.random.default_rng(0))
    assert all(np.array_equal(a[0], f) for f in a)  # a neutral clip without jitter is a still picture
    steps = np.linalg.norm(np.diff(lm_b, axis=0), axis=-1).mean(-1)
    assert (steps > 0.05).all() and steps.max() < 3.0  # with it, every frame moves, by a pixel or so


@pytest.mark.fixtures
def test_dlib_landmarks_are_the_predictors_on_the_rendered_frames(fixtures_dir: Path) -> None:
    root = fixtures_dir / "london_frl_subset"
    kw = dict(side=64, pose_jitter=(0.0, 0.0, 0.0), photo_ids=["003"])
    truth = PhotoRenderer(root, **kw)
    found = PhotoRenderer(root, landmarks="dlib", **kw)
    inten = np.array([0.0, 1.0], np.float32)
    f_t, lm_t = truth.render(0, "happy", inten, np.random.default_rng(0))
    f_d, lm_d = found.render(0, "happy", inten, np.random.default_rng(0))
    np.testing.assert_array_equal(f_t, f_d)  # the same pixels …
    err = np.linalg.norm(lm_d - lm_t, axis=-1)
    assert 0 < err.mean() < 1.5  # … and landmarks near the truth, with the predictor's own error
    with pytest.raises(ValueError, match="landmarks must be 'truth' or 'dlib'"):
        PhotoRenderer(root, landmarks="exact")
