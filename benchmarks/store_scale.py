"""Paper-scale data: how large a DFEW-size clip store is, how fast it reads on this disk, and
whether that keeps one GPU fed.

    python benchmarks/store_scale.py [--clips 11697] [--frames 16] [--side 112] [--sample 300] [--dir DIR]

Assumes DFEW's 16-frame release (each clip resampled to 16 frames, as its ``clip_224x224_16f``
folders; the full-length clips average about 3 s at 25 fps, about 80 frames: ``--frames 80``),
stored at 112 px. Size: from the format (``frames.npy`` uint8 T×S×S×3, ``landmarks.npy`` float32
T×68×2, ``flags.npy`` uint8 T, ``intensity.npy`` absent for real data, ``meta.json``, one
128-byte ``.npy`` header each), and from ``--sample`` clips written with
:meth:`ferlib.data.store.ClipStore.write` and measured on disk, scaled up. Reading: every frame of
the sample read back whole (``mmap=False``), once after the files' pages were dropped from the
page cache (``posix_fadvise(DONTNEED)``: cold) and once more (warm). A store this size is above
the engine's in-memory limit (``ferlib.data.store.HOLD_BYTES``), so training memory-maps it and reads only the
sampled frames: the frames a method needs per second are its clips/s × frames sampled per clip. Against the GPU: the clips/s
one GPU trains each method's paper model at, from the cost table's forward GFLOPs per clip × 3
at ``--mfu`` of ``--peak`` TFLOP/s (a target, not a measurement: ``gpu_check.py`` measures it).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from ferlib.models.registry import paper_methods

METHODS = paper_methods()


def format_bytes(frames: int, side: int) -> int:
    """Bytes of one stored clip by the store format (without file-system block rounding)."""
    header, meta = 128, 600
    return (header + frames * side * side * 3) + (header + frames * 68 * 2 * 4) + (header + frames) + meta


def _drop_pages(paths: list[Path]) -> None:
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=11697, help="DFEW: 11,697 single-labelled clips")
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--side", type=int, default=112)
    p.add_argument("--sample", type=int, default=300, help="clips written and read here")
    p.add_argument("--dir", default=None, help="where to write the sample (default: a temporary folder)")
    p.add_argument("--peak", type=float, default=989.0, help="GPU dense bf16 TFLOP/s (H100/H200 SXM)")
    p.add_argument("--mfu", type=float, default=0.4, help="assumed model FLOPs utilisation")
    args = p.parse_args(argv)

    from ferlib.analysis.cost import method_flops
    from ferlib.data.store import ClipStore
    from ferlib.models.registry import method_spec, model_profile

    t, s = args.frames, args.side
    per_clip = format_bytes(t, s)
    print(f"# A DFEW-size store: {args.clips} clips x {t} frames at {s} px\n")
    print(f"by the format: {per_clip / 2**20:.3f} MiB a clip, {per_clip * args.clips / 2**30:.1f} GiB in all")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        store = ClipStore.create(Path(tmp) / "store", "dfew", ("a", "b"))
        rng = np.random.default_rng(0)
        frames = rng.integers(0, 256, (t, s, s, 3), dtype=np.uint8)
        lms = rng.uniform(0, s, (t, 68, 2)).astype(np.float32)
        t0 = time.perf_counter()
        for i in range(args.sample):
            store.write({"clip_id": f"c{i:05d}", "label": i % 2, "subject": f"s{i % 50}", "source": "bench"},
                        frames, lms, np.zeros(t, np.uint8))
        write_s = time.perf_counter() - t0
        disk = sum(f.stat().st_blocks * 512 for f in (Path(tmp) / "store" / "clips").rglob("*") if f.is_file())
        print(f"measured: {args.sample} clips written in {write_s:.1f} s ({args.sample / write_s:.0f} clips/s); "
              f"{disk / args.sample / 2**20:.3f} MiB a clip on disk -> {disk / args.sample * args.clips / 2**30:.1f} GiB "
              f"for {args.clips} clips; writing them all takes about {write_s / args.sample * args.clips / 60:.1f} min")
        ids = store.clip_ids()
        files = [f for f in (Path(tmp) / "store" / "clips").rglob("*.npy")]
        rates = {}
        for kind in ("cold", "warm"):
            if kind == "cold":
                _drop_pages(files)
            t0 = time.perf_counter()
            for c in ids:
                store.read(c, mmap=False)
            rates[kind] = len(ids) * t / (time.perf_counter() - t0)
        print(f"read back whole (one process): cold {rates['cold']:.0f} frames/s ({rates['cold'] / t:.0f} clips/s), "
              f"warm {rates['warm']:.0f} frames/s ({rates['warm'] / t:.0f} clips/s)\n")

    print(f"| method (paper model) | GFLOPs/clip | frames/clip | GPU clips/s at {100 * args.mfu:.0f} % of {args.peak:.0f} TFLOP/s "
          f"| stored frames/s it needs | cold read / need (1 process) |")
    print("|---|---|---|---|---|---|")
    for m in METHODS:
        g = method_flops(m, "paper")[0] / 1e9
        need = args.peak * 1e3 * args.mfu / (3 * g)
        # above HOLD_BYTES clips are memory-mapped: only the sampled frames' pages are read
        need_frames = need * min(t, model_profile(m, "paper").num_frames)
        if method_spec(m).inputs == "landmarks":  # reads landmarks.npy alone: 1/70 of a clip's bytes at 112 px
            print(f"| {m} | {g:.1f} | {model_profile(m, 'paper').num_frames} | {need:.0f} | landmarks only "
                  f"({need * (128 + t * 68 * 8) / 2**20:.0f} MiB/s) | - |")
            continue
        print(f"| {m} | {g:.1f} | {model_profile(m, 'paper').num_frames} | {need:.0f} | {need_frames:.0f} | "
              f"{rates['cold'] / need_frames:.2f} |")


if __name__ == "__main__":
    main()
