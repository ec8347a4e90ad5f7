"""Training throughput of each method: clips/s and the share of time spent waiting for data.

    python benchmarks/bench_train.py [--paper] [--store DIR] [--epochs 1] [--workers 0]

Without ``--store`` it generates a small synth ``lab`` store (10 subjects × 7 classes, 16 frames,
64 px; 112 px with ``--paper`` so the paper inputs are not upsampled from tiny frames) in a
temporary folder. Each method trains ``--epochs`` epochs of its size's schedule on fold 1
(no per-epoch test evaluation) and the table prints clips/s and data-wait share.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from ferlib.models.registry import paper_methods

#: the four papers' methods, in notebook order
METHODS = paper_methods()


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--paper", action="store_true", help="paper sizes instead of demo")
    p.add_argument("--store", default=None)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--methods", nargs="*", default=list(METHODS))
    args = p.parse_args(argv)

    from ferlib.data.store import ClipStore
    from ferlib.train.cv import cross_validate

    tmp = Path(tempfile.mkdtemp(prefix="ferlib-bench-"))
    if args.store:
        store = ClipStore.open(args.store)
    else:
        from ferlib.synth import SynthConfig, generate

        store = generate(tmp / "store", SynthConfig(n_subjects=10, n_frames=16, side=112 if args.paper else 64, seed=0), progress=False)
    model_size = "paper" if args.paper else "demo"
    rows = []
    for m in args.methods:
        over = dict(epochs=args.epochs, num_workers=args.workers, eval_test_each_epoch=False, progress=False)
        if args.batch_size:
            over["batch_size"] = args.batch_size
        t0 = time.perf_counter()
        cross_validate(m, store, "subject_kfold", model_size, tmp / m, folds=[0], **over)
        wall = time.perf_counter() - t0
        t = json.loads((tmp / m / "fold01" / "timing.json").read_text())
        rows.append({"method": m, "size": model_size, "clips_per_s": t["clips_per_s"], "data_wait_share": t["data_wait_share"],
                     "train_s": t["train_s"], "wall_s": wall})
    df = pd.DataFrame(rows)
    print(df.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return df


if __name__ == "__main__":
    main()
