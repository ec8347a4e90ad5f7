"""Face boxes, landmarks, tracking, missing-face carry-over, and the alignment maths."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ferlib.assets import ASSETS
from ferlib.data.landmarks68 import MEAN_SHAPE
from ferlib.data.store import FLAG_INTERPOLATED, FLAG_NO_FACE
from ferlib.preprocess.align import (
    align_crop_clip,
    crop_transforms,
    eye_angle,
    eye_centres,
    transform_points,
    warp_crop,
)
from ferlib.preprocess.face import (
    DetectorConfig,
    NoFaceError,
    Rung,
    box_from_landmarks,
    choose_box,
    detect_face,
    iou,
    landmark_box_relation,
    nearest_with_face,
    track_faces,
)

FIXTURES = ASSETS
LONDON = FIXTURES / "london_frl_subset"
VIDEOS = FIXTURES / "videos"


def _needs(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the real-face material ships in assets/")


def _rotate(points: np.ndarray, degrees: float, centre=(0.0, 0.0)) -> np.ndarray:
    a = np.deg2rad(degrees)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return (points - centre) @ r.T + centre


def _tilted_face(degrees: float = 20.0, scale: float = 60.0, centre=(150.0, 120.0)) -> np.ndarray:
    return (_rotate(MEAN_SHAPE * scale, degrees) + centre).astype(np.float32)


# -- alignment maths ---------------------------------------------------------------------------
def test_crop_transform_known_answer_without_rotation():
    # box columns 10..49, rows 20..59 (40 px, inclusive) onto a 40 px crop: a pure shift
    m = crop_transforms(np.array([29.5, 39.5]), np.array(40.0), np.array(0.0), 40)
    np.testing.assert_allclose(m, [[1, 0, -10], [0, 1, -20]], atol=1e-12)
    np.testing.assert_allclose(transform_points(m, np.array([[10, 20], [49, 59]])), [[0, 0], [39, 39]], atol=1e-5)


def test_after_alignment_the_eyes_are_level_and_scaled():
    lm = _tilted_face(20.0)
    assert np.rad2deg(eye_angle(lm)) == pytest.approx(20.0, abs=1e-3)
    frames = np.zeros((1, 240, 300, 3), np.uint8)
    box = np.array([[lm[:, 0].min(), lm[:, 1].min(), lm[:, 0].max(), lm[:, 1].max()]])
    _, out, m = align_crop_clip(frames, box, lm[None], crop_side=64, extend=0.25, crop_box="detector")
    left, right = eye_centres(out[0])
    assert abs(left[1] - right[1]) < 1e-3  # eye line horizontal
    assert left[0] < right[0]  # and not flipped
    side = max(box[0, 2] - box[0, 0], box[0, 3] - box[0, 1]) + 1
    s_expected = 64 / (side * 1.25)
    assert np.linalg.norm(right - left) == pytest.approx(s_expected * np.linalg.norm(eye_centres(lm)[1] - eye_centres(lm)[0]), rel=1e-4)
    _, out_plain, _ = align_crop_clip(frames, box, lm[None], crop_side=64, extend=0.25, align=False)
    assert np.rad2deg(eye_angle(out_plain[0])) == pytest.approx(20.0, abs=1e-3)


def test_union_crop_keeps_every_landmark_inside_with_the_extension_margin():
    lm = _tilted_face(12.0)
    small_box = np.array([[135.0, 110.0, 165.0, 150.0]])  # a detector box inside the face: misses jaw and chin
    frames = np.zeros((1, 240, 300, 3), np.uint8)
    _, tight, _ = align_crop_clip(frames, small_box, lm[None], crop_side=100, extend=0.25, crop_box="detector")
    assert (tight < 0).any() or (tight > 99).any()
    _, out, m = align_crop_clip(frames, small_box, lm[None], crop_side=100, extend=0.25, crop_box="union")
    margin = 100 * 0.125 / 1.25  # 12.5 % of the face box on each side, in crop pixels
    extent = out[0].max(0) - out[0].min(0)
    assert out[0].min() >= margin - 0.51 and out[0].max() <= 99 - margin + 0.51
    assert max(extent) == pytest.approx(100 / 1.25, abs=1.0)  # the longer side of the landmarks fills the box
    corners = transform_points(m, np.array([[[135.0, 110.0], [165.0, 150.0]]]))[0]
    assert (corners >= margin - 1).all() and (corners <= 99 - margin + 1).all()  # and the detector box too


@pytest.mark.parametrize("scale", [0.7, 0.2])  # 0.2 goes through the anti-aliased path
def test_landmarks_map_onto_the_same_pixels_as_the_image(scale):
    src = np.zeros((400, 400), np.float32)
    yy, xx = np.mgrid[:400, :400]
    points = np.array([[120.3, 140.8], [260.6, 150.1], [200.2, 290.7], [150.9, 230.4]])
    for x, y in points:
        src += np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 6.0**2))
    image = np.repeat((src / src.max() * 255).astype(np.uint8)[..., None], 3, axis=2)
    size = int(round(300 * scale))
    m = crop_transforms(np.array([195.0, 210.0]), np.array(300.0), np.deg2rad(25.0), size)
    crop = warp_crop(image, m, size).astype(np.float64)[..., 0]
    mapped = transform_points(m, points)
    r = max(3, int(round(12 * scale)))
    for qx, qy in mapped:
        cx, cy = int(round(qx)), int(round(qy))
        win = crop[cy - r: cy + r + 1, cx - r: cx + r + 1]
        wy, wx = np.mgrid[cy - r: cy + r + 1, cx - r: cx + r + 1]
        centroid = np.array([(win * wx).sum(), (win * wy).sum()]) / win.sum()
        assert np.linalg.norm(centroid - [qx, qy]) < 0.25


def test_align_refuses_bad_shapes_and_values():
    frames = np.zeros((2, 20, 20, 3), np.uint8)
    with pytest.raises(ValueError, match=r"expected boxes \(2, 4\)"):
        align_crop_clip(frames, np.zeros((1, 4)), np.zeros((2, 68, 2)))
    with pytest.raises(ValueError, match="crop_side must be >= 8"):
        align_crop_clip(frames, np.zeros((2, 4)), np.zeros((2, 68, 2)), crop_side=4)


def test_smoothing_averages_the_crop_geometry_over_frames():
    lm = np.stack([_tilted_face(0, centre=(150 + dx, 120)) for dx in (0.0, 6.0, 0.0)])
    boxes = np.stack([[l[:, 0].min(), l[:, 1].min(), l[:, 0].max(), l[:, 1].max()] for l in lm])
    frames = np.zeros((3, 240, 300, 3), np.uint8)
    _, raw, _ = align_crop_clip(frames, boxes, lm, crop_side=64, smooth=1, crop_box="detector")
    _, smooth, _ = align_crop_clip(frames, boxes, lm, crop_side=64, smooth=3, crop_box="detector")
    np.testing.assert_allclose(raw[1], raw[0], atol=1e-3)  # per-frame crops follow the face exactly
    shift = (smooth[1] - raw[1])[:, 0].mean()  # the middle crop centre moves 2 px left of the face's 6 px jump
    assert shift == pytest.approx(4.0 * 64 / ((boxes[1, 2] - boxes[1, 0] + 1) * 1.25), rel=1e-3)


# -- box choice and carry-over -----------------------------------------------------------------
def test_iou_known_values():
    np.testing.assert_allclose(iou(np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]]), np.array([0, 0, 10, 10])),
                               [1.0, 1 / 3, 0.0])


def test_choose_box_threshold_score_and_temporal_preference():
    boxes = np.array([[0, 0, 10, 10], [100, 100, 140, 140], [2, 1, 12, 11]], float)
    scores = np.array([0.4, 1.5, -0.2])
    assert choose_box(boxes, scores, 0.0) == 1  # best score
    assert choose_box(boxes, scores, 0.0, prev_box=np.array([1, 0, 11, 10])) == 0  # near the previous box wins
    assert choose_box(boxes, scores, 0.0, prev_box=np.array([300, 300, 310, 310])) == 1  # nothing near: best score
    assert choose_box(boxes, scores, 2.0) is None  # everything below the threshold
    assert choose_box(np.zeros((0, 4)), np.zeros(0), 0.0) is None


def test_nearest_with_face_ties_go_to_the_earlier_frame():
    has = np.array([False, True, False, False, True, False])
    assert nearest_with_face(has).tolist() == [1, 1, 1, 4, 4, 4]
    assert nearest_with_face(np.array([True, False, True])).tolist() == [0, 0, 2]
    with pytest.raises(ValueError, match="at least one frame"):
        nearest_with_face(np.zeros(3, bool))


def test_box_from_landmarks_follows_translation_and_scale():
    lm = MEAN_SHAPE * 50 + 100
    box = np.array([50.0, 70.0, 160.0, 180.0])
    rel = landmark_box_relation(box, lm)
    np.testing.assert_allclose(box_from_landmarks(lm, rel), box, atol=1e-6)
    moved = (lm - 100) * 2 + [300, 200]  # scale 2 about the landmarks' origin, then shift
    np.testing.assert_allclose(box_from_landmarks(moved, rel), (box - 100) * 2 + [300, 200, 300, 200], atol=1e-5)


# -- tracking with an injected detector --------------------------------------------------------
def _fake_clip(t: int):
    frames = np.zeros((t, 16, 16, 3), np.uint8)
    frames[:, 0, 0, 0] = np.arange(t)  # each frame carries its index
    return frames


def _fake_predict(img, box):
    return (MEAN_SHAPE * 10 + [box[0] + 20, box[1] + 20]).astype(np.float32)


def test_frames_without_a_face_take_the_nearest_face_and_are_kept():
    missing = {0, 2, 3}

    def detect(img, prev):
        t = int(img[0, 0, 0])
        return None if t in missing else (np.array([10.0 * t, 0, 10.0 * t + 40, 40]), 1.0)

    faces = track_faces(_fake_clip(6), detect=detect, predict=_fake_predict)
    assert faces.flags.tolist() == [FLAG_NO_FACE, 0, FLAG_NO_FACE, FLAG_NO_FACE, 0, 0]
    np.testing.assert_array_equal(faces.landmarks[0], faces.landmarks[1])
    np.testing.assert_array_equal(faces.landmarks[2], faces.landmarks[1])
    np.testing.assert_array_equal(faces.landmarks[3], faces.landmarks[4])
    np.testing.assert_array_equal(faces.boxes[3], faces.boxes[4])
    assert np.isnan(faces.scores[[0, 2, 3]]).all() and faces.n_no_face == 3


def test_clip_without_any_face_raises_naming_the_source():
    with pytest.raises(NoFaceError, match=r"no face found in any of the 4 frames of clips/x\.mp4"):
        track_faces(_fake_clip(4), source="clips/x.mp4", detect=lambda img, prev: None, predict=_fake_predict)


def test_detect_every_k_propagates_boxes_from_landmarks_in_between():
    calls, prevs, boxes_seen = [], [], {}

    def detect(img, prev):
        t = int(img[0, 0, 0])
        calls.append(t)
        prevs.append(prev)
        return None if t == 3 else (np.array([5.0 * t, 0, 5.0 * t + 40, 40]), 2.0)

    def predict(img, box):
        boxes_seen[int(img[0, 0, 0])] = np.asarray(box, float)
        return _fake_predict(img, box)

    faces = track_faces(_fake_clip(8), detect_every=3, detect=detect, predict=predict)
    # detector on 0, 3, 6; on 2 (checked backwards after the miss on 3); 4 and 5 are skipped
    # (no face to follow) and checked backwards from the face found on 6
    assert calls == [0, 3, 2, 6, 5, 4]
    assert prevs[0] is None and prevs[3] is None and prevs[4] is not None  # 6 has nothing to follow
    assert faces.flags.tolist() == [0, FLAG_INTERPOLATED, 0, FLAG_NO_FACE, 0, 0, 0, FLAG_INTERPOLATED]
    # a propagated box keeps the detector's framing of the previous frame's landmarks
    np.testing.assert_allclose(boxes_seen[1], [0, 0, 40, 40], atol=1e-4)
    np.testing.assert_allclose(faces.boxes[2], [10, 0, 50, 40])  # re-detected, not propagated
    np.testing.assert_allclose(faces.boxes[4], [20, 0, 60, 40])
    assert faces.detector_calls == 6 and faces.n_interpolated == 2


def test_a_face_that_leaves_between_detections_is_not_tracked_into_empty_frames():
    calls = []

    def detect(img, prev):
        t = int(img[0, 0, 0])
        calls.append(t)
        return (np.array([0.0, 0, 40, 40]), 1.0) if t < 2 else None

    faces = track_faces(_fake_clip(9), detect_every=4, detect=detect, predict=_fake_predict)
    # 5, 6, 7 are skipped (nothing to follow), 8 is a detection frame
    assert calls == [0, 4, 3, 2, 1, 8]
    assert faces.flags.tolist() == [0, 0] + [FLAG_NO_FACE] * 7
    np.testing.assert_array_equal(faces.landmarks[2:], np.broadcast_to(faces.landmarks[1], (7, 68, 2)))


def test_a_face_that_appears_between_detections_is_found_to_the_frame():
    calls = []

    def detect(img, prev):
        t = int(img[0, 0, 0])
        calls.append(t)
        return (np.array([0.0, 0, 40, 40]), 1.0) if 3 <= t else None

    faces = track_faces(_fake_clip(8), detect_every=4, detect=detect, predict=_fake_predict)
    assert calls == [0, 4, 3, 2]
    assert faces.flags.tolist() == [FLAG_NO_FACE] * 3 + [0, 0] + [FLAG_INTERPOLATED] * 3
    # the last frame is searched when nothing is followed, and a face there is found backwards too
    calls.clear()
    faces = track_faces(_fake_clip(7), detect_every=4, detect=lambda img, prev: detect(img, prev) if img[0, 0, 0] >= 5 else None,
                        predict=_fake_predict)
    assert faces.flags.tolist() == [FLAG_NO_FACE] * 5 + [0, 0]


def test_track_faces_refuses_bad_input():
    with pytest.raises(ValueError, match="detect_every must be >= 1"):
        track_faces(_fake_clip(2), detect_every=0, detect=lambda i, p: None, predict=_fake_predict)
    with pytest.raises(ValueError, match=r"frames must be \(T>0, H, W, 3\)"):
        track_faces(np.zeros((3, 16, 16), np.uint8))
    with pytest.raises(ValueError, match="detect_scale must be > 0"):
        DetectorConfig(detect_scale=0)


# -- real faces (fixtures) ---------------------------------------------------------------------
def _rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


@pytest.mark.fixtures
def test_every_london_photo_yields_a_face_and_68_landmarks():
    _needs(LONDON)
    photos = sorted(LONDON.glob("*_front/*.jpg"))
    assert len(photos) == 40
    for path in photos:
        image = _rgb(path)
        faces = track_faces(image[None], source=str(path))
        box, lm = faces.boxes[0], faces.landmarks[0]
        assert faces.flags[0] == 0 and lm.shape == (68, 2), path
        assert box[2] - box[0] > 100, path  # a face, not a speck, in a 512 px portrait
        inside = (lm[:, 0] > box[0] - 40) & (lm[:, 0] < box[2] + 40) & (lm[:, 1] > box[1] - 40) & (lm[:, 1] < box[3] + 60)
        assert inside.all(), path
        assert abs(np.rad2deg(eye_angle(lm))) < 10, path  # frontal photos


@pytest.mark.fixtures
def test_a_tilted_real_face_comes_out_eye_level():
    _needs(LONDON)
    image = _rgb(LONDON / "neutral_front" / "001_03.jpg")
    rot = cv2.getRotationMatrix2D((256, 256), 15, 1.0)  # counter-clockwise 15 degrees
    tilted = cv2.warpAffine(image, rot, (512, 512), borderMode=cv2.BORDER_REFLECT)
    faces = track_faces(tilted[None])
    assert np.rad2deg(eye_angle(faces.landmarks[0])) == pytest.approx(-15, abs=3)
    crops, lm, _ = align_crop_clip(tilted[None], faces.boxes, faces.landmarks, crop_side=112)
    assert crops.shape == (1, 112, 112, 3)
    assert abs(np.rad2deg(eye_angle(lm[0]))) < 1e-3
    # the predictor agrees: landmarks found again on the aligned crop are eye-level too
    again = track_faces(crops, DetectorConfig(ladder=(Rung(1),)))
    assert abs(np.rad2deg(eye_angle(again.landmarks[0]))) < 3


@pytest.mark.fixtures
def test_threshold_drops_a_low_scoring_box_on_clothing():
    _needs(VIDEOS)
    from ferlib.preprocess.video import read_frames

    frame = read_frames(VIDEOS / "face_noface.mov", 104, 105)[0]  # the face has left; a shirt remains
    lenient = DetectorConfig(threshold=-0.6, ladder=(Rung(0),), detect_max_side=None)
    found = detect_face(frame, lenient)
    assert found is not None and found[1] < 0  # dlib proposes a weak box ...
    assert detect_face(frame, DetectorConfig(ladder=(Rung(0),), detect_max_side=None)) is None  # ... the default drops it
