"""What the integrity checks cost: store writing with and without the per-file SHA-256 that
``meta.json`` records, and a run's start (store fingerprint, checkpoint load) with and without the
checks, measured in one run on the same files.

    python benchmarks/bench_checks.py [--clips 60] [--frames 16] [--side 112] [--repeats 3]

Prints seconds per step and the ratio after/before for each; "before" is the same code with the
check switched off (the hash a no-op, the fingerprint's former per-clip landmark sample, the
checkpoint read without its seal check).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import torch

import ferlib.data.store as store_module
import ferlib.train.checkpoint as checkpoint_module
from ferlib.data.store import ClipStore
from ferlib.models.registry import build_model, methods
from ferlib.synth import SynthConfig, generate
from ferlib.train.checkpoint import load_checkpoint, save_checkpoint
from ferlib.train.guards import store_fingerprint


def _write(root: Path, clips: int, frames: int, side: int) -> float:
    rng = np.random.default_rng(0)
    store = ClipStore.create(root, "bench", ("a", "b"))
    data = rng.integers(0, 256, (frames, side, side, 3), dtype=np.uint8)
    lms = rng.random((frames, 68, 2), dtype=np.float32) * side
    t0 = time.perf_counter()
    for i in range(clips):
        store.write({"clip_id": f"c{i:04d}", "label": i % 2, "subject": f"s{i % 5}", "source": "x"}, data, lms)
    return time.perf_counter() - t0


def _old_fingerprint(store: ClipStore) -> str:
    """The fingerprint before per-file hashes: meta.json + the first frame's landmarks of each clip."""
    h = hashlib.sha256()
    h.update(json.dumps([store.dataset, list(store.classes)]).encode())
    for cid in store.clip_ids():
        meta = {k: v for k, v in store.meta(cid).items() if k != "files"}
        h.update(json.dumps(meta, sort_keys=True, default=str).encode())
        h.update(np.ascontiguousarray(np.load(store.entry_dir(cid) / "landmarks.npy", mmap_mode="r")[:1]).tobytes())
    return h.hexdigest()


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--clips", type=int, default=60)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--side", type=int, default=112)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--method", default=methods(lambda spec: spec.profiles["paper"].kwargs.get("backbone") == "resnet18")[0],
                   help="model whose paper-model checkpoint is saved and loaded (default: the first with a ResNet-18)")
    args = p.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        before = after = float("inf")
        for r in range(args.repeats):  # interleaved, so a busy machine slows both alike
            with mock.patch.object(store_module, "file_digest", lambda path: [0, ""]):
                before = min(before, _write(tmp / f"plain{r}", args.clips, args.frames, args.side))
            after = min(after, _write(tmp / f"hashed{r}", args.clips, args.frames, args.side))
        rows.append((f"store writing ({args.clips} clips of {args.frames}x{args.side}px)", before, after))

        before = after = float("inf")
        cfg = SynthConfig(n_subjects=3, n_frames=args.frames, side=64)
        for r in range(args.repeats):
            with mock.patch.object(store_module, "file_digest", lambda path: [0, ""]):
                t0 = time.perf_counter()
                generate(tmp / f"synth-plain{r}", cfg, progress=False)
                before = min(before, time.perf_counter() - t0)
            t0 = time.perf_counter()
            generate(tmp / f"synth-hashed{r}", cfg, progress=False)
            after = min(after, time.perf_counter() - t0)
        rows.append((f"synth: 21 clips of {args.frames}x64px, rendered and written", before, after))

        store = ClipStore.open(tmp / "hashed0")
        rows.append(("run start: store fingerprint", _best(lambda: _old_fingerprint(ClipStore.open(store.root)), args.repeats),
                     _best(lambda: store_fingerprint(ClipStore.open(store.root)), args.repeats)))

        model = build_model(args.method, "paper", num_classes=7)
        path = save_checkpoint(tmp / "last.pt", {"kind": "last", "config": {}, "classes": list("abcdefg"), "epoch": 1,
                                                 "model": model.state_dict()})
        mib = path.stat().st_size / 2**20
        with mock.patch.object(checkpoint_module, "check_sealed", lambda path: None):
            plain = _best(lambda: load_checkpoint(path), args.repeats)
        rows.append((f"run start: checkpoint load ({args.method} paper, {mib:.0f} MiB)", plain,
                     _best(lambda: load_checkpoint(path), args.repeats)))
        with mock.patch.object(checkpoint_module, "replace_sealed", lambda tmp_file, final: tmp_file.replace(final)):
            plain = _best(lambda: save_checkpoint(path, {"model": model.state_dict()}), args.repeats)
        rows.append(("each epoch: checkpoint save", plain, _best(lambda: save_checkpoint(path, {"model": model.state_dict()}),
                                                               args.repeats)))
    torch.set_num_threads(1)
    print(f"{'step':60s} {'before s':>9s} {'after s':>9s} {'ratio':>6s}")
    for name, b, a in rows:
        print(f"{name:60s} {b:9.3f} {a:9.3f} {a / b:6.2f}")


if __name__ == "__main__":
    main()
