"""Training throughput of each method: clips/s, the share of time spent waiting for data, the
engine against a plain PyTorch loop, and (``--baseline REV``) against an earlier ferlib, in one run.

    python benchmarks/bench_train.py [--paper] [--store DIR] [--epochs 2] [--workers 0] [--baseline REV]

Without ``--store`` it generates a small synth ``lab`` store (``--subjects`` × 7 classes, 16 frames,
64 px; 112 px with ``--paper`` so the paper inputs are not upsampled from tiny frames) in a
temporary folder. Each method trains ``--epochs`` epochs of its model profile's schedule (trunk from
scratch) on fold 1 of 4 subject folds (no per-epoch test evaluation); ``timing.json`` gives clips/s (counting
``load_s``, the clips read into memory before the first epoch) and the share of the epochs' time spent waiting for
data; ``fit_s`` is the whole run's wall time (set-up, loading, training, validation, test). ``plain_clips_per_s`` is
a minimal loop (loader → model → loss → backward → step) over the
same model, data set and batch, and ``fit/plain`` the engine's rate over it. ``--baseline REV``
exports ``ferlib/`` of git revision ``REV`` and times it the same way in a subprocess (same store,
same machine, same run): ``speedup`` is this tree's clips/s over that one's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from io import BytesIO
from pathlib import Path

import pandas as pd

from ferlib.models.registry import paper_methods

#: the four papers' methods, in notebook order
METHODS = paper_methods()
REPO = Path(__file__).resolve().parents[1]

#: timed by whichever ferlib is first on the path: prints one JSON row per method
_FIT = """
import json, sys, time
from pathlib import Path
from ferlib.data.store import ClipStore
from ferlib.train.cv import cross_validate
store, out, profile, epochs, workers, batch = sys.argv[1], Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
store = ClipStore.open(store)
for m in sys.argv[7:]:
    over = dict(epochs=epochs, num_workers=workers, eval_test_each_epoch=False, progress=False, init_trunk="")
    if batch:
        over["batch_size"] = batch
    t0 = time.perf_counter()
    cross_validate(m, store, "subject_kfold", profile, out / m, folds=[0], protocol_kwargs={"k": 4}, **over)
    t = json.loads((out / m / "fold01" / "timing.json").read_text())
    load = t.get("load_s", 0.0)  # the clips read before the first epoch (older ferlib read them in it)
    print(json.dumps({"method": m, "clips_per_s": t["clips"] / (t["train_s"] + load), "data_wait_share": t["data_wait_share"],
                      "load_s": load, "wall_s": time.perf_counter() - t0}), flush=True)
"""


def plain_loop(method: str, store, profile: str, epochs: int, workers: int, batch: int | None) -> float:
    """Clips/s of a minimal training loop over the engine's model, training data set and batch, with the
    engine's model settings (the per-frame CNN in NHWC and under bf16 autocast where ``amp`` puts it)."""
    from contextlib import nullcontext

    import torch
    import torch.nn.functional as F

    from ferlib.data.protocols import get_protocol, with_validation
    from ferlib.models.registry import method_spec, model_inputs
    from ferlib.train.recipes import resolve_config
    from ferlib.train.engine import autocast_trunk, build_run_model, make_dataset, make_loader, precision
    from ferlib.train.schedules import build_optimizer, param_groups

    over = dict(epochs=epochs, num_workers=workers, progress=False, init_trunk="")
    if batch:
        over["batch_size"] = batch
    cfg = resolve_config(method, profile, **over)
    index = store.index()
    split = with_validation(index, get_protocol("subject_kfold", index, k=4)[0], cfg.val_fraction, seed=cfg.seed)  # fold 1
    model = build_run_model(cfg, len(store.classes))
    if cfg.channels_last and hasattr(model, "trunk"):
        model.trunk.to(memory_format=torch.channels_last)
    bf16 = precision(torch.device("cpu"), cfg) == "bf16"
    opt = build_optimizer(param_groups(model, cfg), cfg)
    ds = make_dataset(store, index.subset(split.train), cfg, train=True, pixels=method_spec(method).inputs != "landmarks")
    own_loss = hasattr(model, "loss")
    n, t = 0, 0.0
    for epoch in range(epochs):
        ds.set_epoch(epoch)
        t0 = time.perf_counter()
        for b in make_loader(ds, cfg, True, epoch):
            with autocast_trunk(model, "cpu") if bf16 else nullcontext():
                logits, extras = model(*model_inputs(method, b, stgcn_normalise=cfg.stgcn_normalise))
            loss = model.loss(logits, extras, b["label"]) if own_loss else F.cross_entropy(logits, b["label"])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            n += len(b["label"])
        t += time.perf_counter() - t0
    return n / t


def _timed(code_root: Path, store: Path, out: Path, args: argparse.Namespace, profile: str) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(code_root))
    cmd = [sys.executable, "-c", _FIT, str(store), str(out), profile, str(args.epochs), str(args.workers),
           str(args.batch_size or 0), *args.methods]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=code_root)
    if r.returncode:
        raise SystemExit(f"timing {code_root} failed:\n{r.stderr[-3000:]}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def export_revision(rev: str, dest: Path) -> Path:
    """``ferlib/`` of git revision ``rev`` unpacked under ``dest`` (one ``ValueError`` if git cannot)."""
    r = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", rev, "ferlib"], capture_output=True)
    if r.returncode:
        raise ValueError(f"git archive {rev!r} failed: {r.stderr.decode()[-300:]}")
    with tarfile.open(fileobj=BytesIO(r.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--paper", action="store_true", help="paper models instead of demo")
    p.add_argument("--store", default=None)
    p.add_argument("--subjects", type=int, default=8)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--baseline", default=None, help="a git revision to time too (e.g. the commit this branch started from)")
    p.add_argument("--no-plain", action="store_true", help="skip the plain-loop comparison")
    p.add_argument("--repeats", type=int, default=2, help="alternating rounds; each rate is the best of its rounds")
    p.add_argument("--methods", nargs="*", default=list(METHODS))
    args = p.parse_args(argv)

    from ferlib.data.store import ClipStore

    tmp = Path(tempfile.mkdtemp(prefix="ferlib-bench-"))
    if args.store:
        store_root = Path(args.store)
    else:
        from ferlib.synth import SynthConfig, generate

        store_root = tmp / "store"
        generate(store_root, SynthConfig(n_subjects=args.subjects, n_frames=16, side=112 if args.paper else 64, seed=0),
                 progress=False)
    store = ClipStore.open(store_root)
    profile = "paper" if args.paper else "demo"
    # rounds alternate baseline, this tree and the plain loop, so that a busy machine slows all alike
    old = export_revision(args.baseline, tmp / "baseline") if args.baseline else None
    base: dict[str, dict] = {}
    now: dict[str, dict] = {}
    plain: dict[str, float] = {}

    def keep(best: dict[str, dict], rows: list[dict]) -> None:
        for r in rows:
            if r["method"] not in best or r["clips_per_s"] > best[r["method"]]["clips_per_s"]:
                best[r["method"]] = r

    for k in range(max(1, args.repeats)):
        if old is not None:
            keep(base, _timed(old, store_root, tmp / f"old{k}", args, profile))
        keep(now, _timed(REPO, store_root, tmp / f"new{k}", args, profile))
        if not args.no_plain:
            for m in args.methods:
                plain[m] = max(plain.get(m, 0.0), plain_loop(m, store, profile, args.epochs, args.workers, args.batch_size))
    rows = []
    for m in args.methods:
        row = {"method": m, "profile": profile, "clips_per_s": now[m]["clips_per_s"], "data_wait_share": now[m]["data_wait_share"],
               "load_s": now[m]["load_s"], "fit_s": now[m]["wall_s"]}
        if base:
            row.update(baseline_clips_per_s=base[m]["clips_per_s"], baseline_data_wait=base[m]["data_wait_share"],
                       baseline_fit_s=base[m]["wall_s"],
                       speedup=now[m]["clips_per_s"] / base[m]["clips_per_s"])
        if plain:
            row["plain_clips_per_s"] = plain[m]
            row["fit/plain"] = row["clips_per_s"] / plain[m]
        rows.append(row)
    df = pd.DataFrame(rows)
    print(f"{len(store.clip_ids())} clips, {args.epochs} epochs, {args.workers} workers, best of {args.repeats} rounds"
          + (f", baseline {args.baseline}" if args.baseline else ""))
    print(df.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    return df


if __name__ == "__main__":
    main()
