"""Decode a clip's source (a video file, a folder of frames, or one image) to RGB uint8 frames.

Every reader returns ``(T, H, W, 3)`` uint8 in RGB order. Videos go through OpenCV (FFmpeg
backend: mp4, avi, flv, mov, mkv, webm, m4v, mpg). Frame folders hold png/jpg/jpeg/bmp files
sorted *naturally* by the numbers in their names (``f2.png`` before ``f10.png``). A single image
file is a one-frame clip. Grey-scale and 16-bit images are converted to 8-bit RGB.

A frame range is a Python slice of the source's frames (``start``, ``stop``, ``step``), which is
how the ClipIndex's optional ``frame_start``/``frame_stop`` columns are read: the Aff-Wild2
adapter, say, cuts 45-frame windows out of one video. Negative values count from the end.
"""

from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator

import cv2
import numpy as np

from ferlib.data.folder import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS

_NUMBER = re.compile(r"(\d+)")


class VideoReadError(RuntimeError):
    """A source exists but cannot be decoded (corrupt, truncated, empty, unsupported)."""


def natural_key(name: str) -> tuple:
    """Sort key that orders the digit runs of ``name`` by value: ``f2`` < ``f10``."""
    parts = _NUMBER.split(name)
    return tuple((0, int(p), "") if p.isdigit() else (1, 0, p.lower()) for p in parts)


def list_frame_files(folder: str | Path) -> list[Path]:
    """Image files directly in ``folder``, sorted naturally; raises when there are none."""
    folder = Path(folder)
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
    if not files:
        raise VideoReadError(
            f"frame folder {folder} holds no images (expected files ending in {sorted(IMAGE_EXTENSIONS)})"
        )
    return sorted(files, key=lambda p: natural_key(p.name))


def frame_slice(start: int | None = None, stop: int | None = None, step: int | None = None) -> slice:
    """Validate a frame range and return it as a slice (``step`` must be positive)."""
    for name, value in (("frame_start", start), ("frame_stop", stop), ("frame step", step)):
        if value is not None and not isinstance(value, (int, np.integer)):
            raise TypeError(f"{name} must be an int or None, got {value!r}")
    if step is not None and step < 1:
        raise ValueError(f"frame step must be >= 1, got {step}")
    return slice(None if start is None else int(start), None if stop is None else int(stop), step)


def read_image(path: str | Path) -> np.ndarray:
    """One image file as RGB uint8 ``(H, W, 3)``; raises :class:`VideoReadError` naming it."""
    path = Path(path)
    data = np.fromfile(str(path), dtype=np.uint8)  # np.fromfile + imdecode also handles non-ASCII paths
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None:
        raise VideoReadError(f"cannot decode image {path} (corrupt or not an image)")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def read_frame_folder(folder: str | Path, frames: slice = slice(None)) -> np.ndarray:
    """The frames of a folder of images, in natural order, as ``(T, H, W, 3)`` uint8 RGB."""
    files = list_frame_files(folder)[frames]
    if not files:
        raise VideoReadError(f"frame range {_range_text(frames)} of {folder} is empty ({len(list_frame_files(folder))} frames)")
    out = [read_image(files[0])]
    for f in files[1:]:
        image = read_image(f)
        if image.shape != out[0].shape:
            raise VideoReadError(
                f"frame {f} is {image.shape[1]}x{image.shape[0]}, but the folder's first frame "
                f"{files[0].name} is {out[0].shape[1]}x{out[0].shape[0]}: frames of one clip must share a size"
            )
        out.append(image)
    return np.stack(out)


@contextmanager
def _utf8_path(path: Path) -> Iterator[str]:
    """A name OpenCV can open for ``path``: ``path`` itself, or, for a file name that is not
    valid UTF-8 (bytes Python keeps as surrogates, on which ``cv2.VideoCapture`` crashes), a
    symbolic link with a plain name in a temporary folder, removed once the file is open."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        with tempfile.TemporaryDirectory(prefix="ferlib-video-") as tmp:
            link = Path(tmp) / ("source" + (path.suffix if path.suffix.isascii() else ""))
            os.symlink(os.fsencode(path.resolve()), os.fsencode(link))
            yield str(link)
        return
    yield text


def iter_video(path: str | Path) -> Iterable[np.ndarray]:
    """Yield the frames of a video file as RGB uint8 ``(H, W, 3)``, in order."""
    path = Path(path)
    with _utf8_path(path) as readable:
        cap = cv2.VideoCapture(readable)
    try:
        if not cap.isOpened():
            raise VideoReadError(f"cannot open video {path} (corrupt, truncated or an unsupported codec)")
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    finally:
        cap.release()


def read_video(path: str | Path, frames: slice = slice(None)) -> np.ndarray:
    """The frames of a video file as ``(T, H, W, 3)`` uint8 RGB, restricted to the slice ``frames``.

    Decoding is sequential (seeking is unreliable in many containers); with a non-negative
    ``stop`` it ends as soon as the range is read, so a window near the start of a long video is cheap.
    """
    path = Path(path)
    start, stop, step = frames.start, frames.stop, frames.step or 1
    bounded = (start is None or start >= 0) and stop is not None and stop >= 0
    kept: list[np.ndarray] = []
    n = 0
    for i, frame in enumerate(iter_video(path)):
        n = i + 1
        if bounded:
            if i >= stop:
                break
            if i >= (start or 0) and (i - (start or 0)) % step == 0:
                kept.append(frame)
        else:
            kept.append(frame)
    if n == 0:
        raise VideoReadError(f"video {path} has no decodable frames (corrupt, truncated or empty)")
    if not bounded:
        kept = kept[frames]
    if not kept:
        raise VideoReadError(f"frame range {_range_text(frames)} of video {path} is empty (it has {n} frames)")
    return np.stack(kept)


def read_frames(
    source: str | Path,
    start: int | None = None,
    stop: int | None = None,
    step: int | None = None,
) -> np.ndarray:
    """Decode ``source`` (video file, frame folder or image) to RGB uint8 ``(T, H, W, 3)``.

    ``start``/``stop``/``step`` select frames like ``frames[start:stop:step]``.
    Raises :class:`FileNotFoundError` for a missing source and :class:`VideoReadError` naming
    the file for anything that cannot be decoded.
    """
    path = Path(source)
    frames = frame_slice(start, stop, step)
    if not path.exists():
        raise FileNotFoundError(f"clip source {path} does not exist (expected a video file, a frame folder or an image)")
    if path.is_dir():
        return read_frame_folder(path, frames)
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS:
        image = read_image(path)[None]
        out = image[frames]
        if len(out) == 0:
            raise VideoReadError(f"frame range {_range_text(frames)} of the single image {path} is empty")
        return out
    if suffix in VIDEO_EXTENSIONS:
        return read_video(path, frames)
    raise VideoReadError(
        f"{path} is neither a frame folder nor a known video/image file "
        f"(video: {sorted(VIDEO_EXTENSIONS)}; image: {sorted(IMAGE_EXTENSIONS)})"
    )


def _range_text(frames: slice) -> str:
    parts = ["" if v is None else str(v) for v in (frames.start, frames.stop)]
    text = ":".join(parts)
    return f"[{text}:{frames.step}]" if frames.step not in (None, 1) else f"[{text}]"
