"""Decoding clips: frame folders (natural order), videos, single images, frame ranges, bad files."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from ferlib.assets import ASSETS
from ferlib.preprocess.video import VideoReadError, natural_key, read_frames

FIXTURES = ASSETS
VIDEOS = FIXTURES / "videos"


def _colour_frame(i: int, size: tuple[int, int] = (24, 32)) -> np.ndarray:
    """An RGB frame whose red channel encodes ``i`` (distinct, JPEG-robust values)."""
    frame = np.zeros((*size, 3), np.uint8)
    frame[..., 0] = 20 * i + 10
    frame[..., 2] = 200
    return frame


def _write_rgb(path: Path, rgb: np.ndarray) -> None:
    assert cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def test_natural_key_orders_numbers_by_value():
    names = ["img10.png", "img2.png", "img1.png", "img_100.png", "img20.png"]
    assert sorted(names, key=natural_key)[:4] == ["img1.png", "img2.png", "img10.png", "img20.png"]


def test_frame_folder_is_read_in_natural_order_as_rgb(tmp_path):
    for i in (1, 2, 10, 3):
        _write_rgb(tmp_path / f"frame_{i}.png", _colour_frame(i))
    (tmp_path / "notes.txt").write_text("not a frame")
    frames = read_frames(tmp_path)
    assert frames.shape == (4, 24, 32, 3) and frames.dtype == np.uint8
    # red channel first (RGB, not OpenCV's BGR), frames ordered 1, 2, 3, 10
    assert frames[:, 0, 0, 0].tolist() == [30, 50, 70, 210]
    assert (frames[..., 2] == 200).all()


def test_frame_folder_range_is_a_python_slice(tmp_path):
    for i in range(1, 9):
        _write_rgb(tmp_path / f"{i:03d}.png", _colour_frame(i))
    full = read_frames(tmp_path)
    np.testing.assert_array_equal(read_frames(tmp_path, 2, 6), full[2:6])
    np.testing.assert_array_equal(read_frames(tmp_path, -3, None), full[-3:])
    np.testing.assert_array_equal(read_frames(tmp_path, 1, None, 3), full[1::3])


def test_grey_and_jpeg_frames_become_three_channels(tmp_path):
    cv2.imwrite(str(tmp_path / "1.png"), np.full((10, 12), 77, np.uint8))
    cv2.imwrite(str(tmp_path / "2.jpeg"), np.full((10, 12, 3), 77, np.uint8))
    frames = read_frames(tmp_path)
    assert frames.shape == (2, 10, 12, 3)
    assert abs(int(frames[1].mean()) - 77) <= 2


def test_frames_of_different_sizes_are_refused_naming_the_file(tmp_path):
    _write_rgb(tmp_path / "1.png", _colour_frame(1))
    _write_rgb(tmp_path / "2.png", _colour_frame(2, size=(20, 20)))
    with pytest.raises(VideoReadError, match=r"2\.png.*share a size"):
        read_frames(tmp_path)


def test_empty_folder_and_empty_range_are_errors(tmp_path):
    with pytest.raises(VideoReadError, match="holds no images"):
        read_frames(tmp_path)
    _write_rgb(tmp_path / "1.png", _colour_frame(1))
    with pytest.raises(VideoReadError, match=r"frame range \[5:9\].*empty"):
        read_frames(tmp_path, 5, 9)


def test_single_image_is_a_one_frame_clip(tmp_path):
    _write_rgb(tmp_path / "face.jpg", _colour_frame(3))
    assert read_frames(tmp_path / "face.jpg").shape == (1, 24, 32, 3)


def test_missing_source_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.mp4"):
        read_frames(tmp_path / "nowhere.mp4")


def test_corrupt_video_raises_naming_the_file(tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    with pytest.raises(VideoReadError, match="broken.mp4"):
        read_frames(bad)


def test_corrupt_image_and_unknown_extension_are_errors(tmp_path):
    (tmp_path / "x.png").write_bytes(b"not a png")
    with pytest.raises(VideoReadError, match=r"x\.png"):
        read_frames(tmp_path / "x.png")
    (tmp_path / "clip.xyz").write_bytes(b"abc")
    with pytest.raises(VideoReadError, match=r"clip\.xyz.*neither"):
        read_frames(tmp_path / "clip.xyz")


def test_bad_range_values_are_refused(tmp_path):
    with pytest.raises(ValueError, match="step must be >= 1"):
        read_frames(tmp_path, 0, 4, 0)
    with pytest.raises(TypeError, match="frame_start must be an int"):
        read_frames(tmp_path, 1.5, 4)


def test_written_video_round_trips_with_ranges(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10, (32, 24))
    assert writer.isOpened()
    for i in range(9):
        writer.write(cv2.cvtColor(_colour_frame(i), cv2.COLOR_RGB2BGR))
    writer.release()
    full = read_frames(path)
    assert full.shape == (9, 24, 32, 3)
    assert np.abs(full[:, 5, 5, 0].astype(int) - (20 * np.arange(9) + 10)).max() <= 4  # MJPG is lossy
    np.testing.assert_array_equal(read_frames(path, 2, 5), full[2:5])
    np.testing.assert_array_equal(read_frames(path, None, -6), full[:-6])
    np.testing.assert_array_equal(read_frames(path, 1, 9, 4), full[1:9:4])
    with pytest.raises(VideoReadError, match=r"\[20:30\].*clip\.avi"):
        read_frames(path, 20, 30)


@pytest.mark.fixtures
def test_fixture_video_decodes_to_its_frame_count():
    frames = read_frames(VIDEOS / "single_face.mp4")
    assert frames.shape == (72, 360, 640, 3)
    window = read_frames(VIDEOS / "single_face.mp4", 40, 45)
    np.testing.assert_array_equal(window, frames[40:45])
