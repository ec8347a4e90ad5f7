"""Preprocessing speed on the real fixture videos, with ratios measured in one run.

1. frames/s of :func:`ferlib.preprocess.pipeline.preprocess_clip` with the detector on every frame
   (``detect_every=1``) and on every k-th frame (landmarks propagated in between);
2. how far the propagated landmarks are from the per-frame ones: mean and 95th-percentile
   distance in pixels of the crop, both sets mapped through the per-frame run's crop transform
   (so crop differences do not count), over frames where both runs found the face;
3. the speed-up of :func:`preprocess_index` from 1 to 2 worker processes on a small index of
   windows cut from the same videos.

    python benchmarks/bench_preprocess.py [--side 112] [--every 2 4 8] [--videos assets/videos]

Timings depend on the machine and its load; compare only ratios from one run.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

import numpy as np

from ferlib.data.index import ClipIndex
from ferlib.data.store import FLAG_NO_FACE
from ferlib.preprocess.align import transform_points
from ferlib.preprocess.pipeline import PreprocessConfig, ProcessedClip, preprocess_clip, preprocess_index
from ferlib.preprocess.video import read_frames

ROOT = Path(__file__).resolve().parents[1]


def _invert(m: np.ndarray) -> np.ndarray:
    """Inverse of affine transforms ``(T, 2, 3)``."""
    a_inv = np.linalg.inv(m[:, :, :2])
    return np.concatenate([a_inv, -np.einsum("tij,tj->ti", a_inv, m[:, :, 2])[..., None]], axis=-1)


def landmark_gap(reference: ProcessedClip, other: ProcessedClip) -> tuple[float, float]:
    """Mean and 95th percentile distance (crop pixels of ``reference``) between the two runs' landmarks."""
    both = ((reference.flags | other.flags) & FLAG_NO_FACE) == 0
    src_ref = transform_points(_invert(reference.transforms), reference.landmarks)
    src_other = transform_points(_invert(other.transforms), other.landmarks)
    d = np.linalg.norm(transform_points(reference.transforms, src_other) - transform_points(reference.transforms, src_ref), axis=-1)
    d = d[both]
    return float(d.mean()), float(np.percentile(d, 95))


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def bench_detect_every(videos: list[Path], side: int, every: list[int]) -> None:
    print(f"\n== per-frame detection vs detect_every=k (crop {side} px) ==")
    print(f"{'video':18s} {'k':>3s} {'frames':>6s} {'det.calls':>9s} {'seconds':>8s} {'frames/s':>9s} {'speed-up':>8s} "
          f"{'no-face':>7s} {'gap mean':>8s} {'gap p95':>8s}")
    for video in videos:
        ref, t_ref = timed(preprocess_clip, video, PreprocessConfig(side=side, detect_every=1))
        n = ref.frames.shape[0]
        print(f"{video.name:18s} {1:3d} {n:6d} {ref.detector_calls:9d} {t_ref:8.2f} {n / t_ref:9.1f} {1.0:8.2f} "
              f"{int((ref.flags & FLAG_NO_FACE > 0).sum()):7d} {'-':>8s} {'-':>8s}")
        for k in every:
            clip, t = timed(preprocess_clip, video, PreprocessConfig(side=side, detect_every=k))
            mean, p95 = landmark_gap(ref, clip)
            print(f"{video.name:18s} {k:3d} {n:6d} {clip.detector_calls:9d} {t:8.2f} {n / t:9.1f} {t_ref / t:8.2f} "
                  f"{int((clip.flags & FLAG_NO_FACE > 0).sum()):7d} {mean:8.2f} {p95:8.2f}")


def bench_workers(videos: list[tuple[Path, int]], side: int, window: int, repeats: int) -> None:
    """``videos``: (path, number of leading frames to cut windows from)."""
    rows = []
    for video, n in videos:
        for start in range(0, n - window + 1, window):
            rows.append({"clip_id": f"{video.stem}_{start:04d}", "label": 0, "subject": video.stem, "source": str(video),
                         "frame_start": start, "frame_stop": start + window})
    rows = rows * repeats
    rows = [{**r, "clip_id": f"{r['clip_id']}_{i}"} for i, r in enumerate(rows)]
    index = ClipIndex.from_records(rows, ("any",), "bench")
    frames = len(rows) * window
    print(f"\n== preprocess_index: 1 vs 2 worker processes ({len(rows)} clips of {window} frames, crop {side} px) ==")
    times = {}
    for workers in (1, 2):
        load = os.getloadavg()[0]
        cpu0 = _cpu_seconds()
        with tempfile.TemporaryDirectory() as tmp:
            summary, t = timed(preprocess_index, index, Path(tmp) / "store", side=side, workers=workers, progress=False)
        cpu = _cpu_seconds() - cpu0
        times[workers] = t
        print(f"workers={workers}: {t:6.2f} s wall, {cpu:6.2f} s CPU (cores obtained {cpu / t:.2f}), "
              f"{frames / t:6.1f} frames/s, {summary.done} done, {summary.failed} failed, load average before {load:.1f}")
    print(f"speed-up 1 -> 2 processes: {times[1] / times[2]:.2f}x on {os.cpu_count()} CPUs "
          "(a speed-up needs idle cores: compare 'cores obtained')")


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (worker processes), user + system."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", type=Path, default=ROOT / "assets" / "videos", help="a folder holding single_face.mp4 and face_noface.mov")
    parser.add_argument("--side", type=int, default=112)
    parser.add_argument("--every", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--window", type=int, default=24, help="frames per clip in the workers benchmark")
    parser.add_argument("--repeats", type=int, default=2, help="copies of each window in the workers benchmark")
    args = parser.parse_args(argv)
    videos_dir = args.videos
    if not videos_dir.is_dir():
        print(f"fixture videos not found in {videos_dir.resolve()}; pass --videos")
        return 1
    videos = [videos_dir / "single_face.mp4", videos_dir / "face_noface.mov"]
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    bench_detect_every(videos, args.side, args.every)
    # windows with a face only (face_noface.mov loses the face at frame 72), so every clip is stored
    n_single = read_frames(videos[0]).shape[0]
    bench_workers([(videos[0], n_single), (videos[1], 72)], args.side, args.window, args.repeats)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
