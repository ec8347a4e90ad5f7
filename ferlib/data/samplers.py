"""Frame samplers: which frames of a clip a method sees.

Every sampler maps a clip length ``n_frames`` to an index array ``(num_frames,)`` (or, for
evaluation windows, ``(n_windows, length)``), chronological and possibly repeating frames when
the clip is shorter than what the method needs.

* :func:`chronological` — FER-GCN: N frames evenly spaced in order; a short clip reuses frames.
* :func:`segments` — FAN: K equal segments (over the first ``span`` of the clip; 3/5 on CK+ in
  the official code), one random frame per segment in training, the centre frame at test.
* :func:`tsn` — the DFEW recipe (Former-DFER): 8 segments × 2 consecutive frames, random offset
  per segment in training, the segment centre at test.
* :func:`window` / :func:`all_windows` — ST-GCN: a fixed-length window (45 frames), random start
  in training, centred at test; a short clip is padded by repeating its last frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

SAMPLERS = ("chronological", "segments", "tsn", "window", "all")


def _check(n_frames: int, num: int) -> None:
    if int(n_frames) < 1:
        raise ValueError(f"a clip needs at least one frame, got n_frames={n_frames}")
    if int(num) < 1:
        raise ValueError(f"a sampler must pick at least one frame, got {num}")


def chronological(n_frames: int, num: int) -> np.ndarray:
    """``num`` evenly spaced frame indices in order; frames repeat when ``n_frames < num``."""
    _check(n_frames, num)
    if n_frames >= num:
        return np.round(np.linspace(0, n_frames - 1, num)).astype(np.int64)
    return (np.arange(num) * n_frames // num).astype(np.int64)


@lru_cache(maxsize=1024)
def _segment_bounds(n_frames: int, k: int, span: float) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last frame ``(k,)`` of each of ``segments``' ``k`` segments (cached per clip length)."""
    length = max(1, int(round(n_frames * span)))
    edges = np.linspace(0, length, k + 1)
    lo = np.floor(edges[:-1]).astype(np.int64)
    hi = np.maximum(lo + 1, np.floor(edges[1:]).astype(np.int64))
    lo.flags.writeable = hi.flags.writeable = False
    return lo, hi


def segments(
    n_frames: int, k: int = 3, train: bool = True, rng: np.random.Generator | None = None, span: float = 1.0
) -> np.ndarray:
    """One frame from each of ``k`` equal segments of the first ``span`` of the clip."""
    _check(n_frames, k)
    if not 0.0 < span <= 1.0:
        raise ValueError(f"span must be in (0, 1], got {span}")
    lo, hi = _segment_bounds(int(n_frames), int(k), float(span))
    if train:
        rng = rng or np.random.default_rng()
        idx = lo + (rng.random(k) * (hi - lo)).astype(np.int64)
    else:
        idx = (lo + hi - 1) // 2
    return np.minimum(idx, n_frames - 1)


def tsn(
    n_frames: int,
    n_segments: int = 8,
    frames_per_segment: int = 2,
    train: bool = True,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """``n_segments`` × ``frames_per_segment`` consecutive frames (TSN-style), flattened in order."""
    _check(n_frames, n_segments * frames_per_segment)
    seg_len = n_frames / n_segments
    starts = np.arange(n_segments) * seg_len
    room = max(seg_len - frames_per_segment, 0.0)
    if train:
        rng = rng or np.random.default_rng()
        offset = rng.random(n_segments) * room
    else:
        offset = np.full(n_segments, room / 2)
    first = np.floor(starts + offset).astype(np.int64)
    idx = first[:, None] + np.arange(frames_per_segment)[None, :]
    return np.minimum(idx, n_frames - 1).reshape(-1)


def window(n_frames: int, length: int = 45, train: bool = True, rng: np.random.Generator | None = None) -> np.ndarray:
    """A window of ``length`` consecutive frames; random start in training, centred at test."""
    _check(n_frames, length)
    if n_frames <= length:
        return np.minimum(np.arange(length), n_frames - 1).astype(np.int64)
    if train:
        rng = rng or np.random.default_rng()
        start = int(rng.integers(0, n_frames - length + 1))
    else:
        start = (n_frames - length) // 2
    return np.arange(start, start + length, dtype=np.int64)


def all_windows(n_frames: int, length: int = 45, stride: int | None = None) -> np.ndarray:
    """Every window ``(n_windows, length)`` with the given stride (default: non-overlapping)."""
    _check(n_frames, length)
    stride = stride or length
    if n_frames <= length:
        return window(n_frames, length, train=False)[None]
    starts = np.arange(0, n_frames - length + 1, stride)
    return starts[:, None] + np.arange(length)[None, :]


@dataclass(frozen=True)
class Sampler:
    """A named sampler with its frame count: ``sampler(n_frames, train, rng) -> indices``."""

    name: str
    num_frames: int
    span: float = 1.0

    def __post_init__(self) -> None:
        if self.name not in SAMPLERS:
            raise ValueError(f"unknown sampler {self.name!r}; expected one of {SAMPLERS}")
        if self.name == "tsn" and self.num_frames % 2:
            raise ValueError(f"the tsn sampler takes 2 frames per segment: num_frames must be even, got {self.num_frames}")

    def __call__(self, n_frames: int, train: bool, rng: np.random.Generator | None = None) -> np.ndarray:
        if self.name == "segments":
            return segments(n_frames, self.num_frames, train, rng, self.span)
        if self.name == "tsn":
            return tsn(n_frames, self.num_frames // 2, 2, train, rng)
        if self.name == "chronological":
            return chronological(n_frames, self.num_frames)
        if self.name == "window":
            return window(n_frames, self.num_frames, train, rng)
        return np.arange(n_frames, dtype=np.int64)  # "all"
