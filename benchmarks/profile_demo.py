"""Where a demo-size training step's time goes, per method, as a Markdown table.

    python benchmarks/profile_demo.py [--subjects 6] [--steps 8] [--methods fer_gcn fan ...]

Each method runs its demo recipe as ``fit`` runs it (per-frame CNN in NHWC, under bf16 where
``amp`` puts it; trunk from scratch: the profile does not need the pre-trained frames) on a small
generated ``lab`` store: ``--steps`` training steps timed phase by phase, then
one evaluation of the same clips. Phases (ms per step and share of the step):

* ``read``      store read + frame sampling + collation (the loader's work minus the transform)
* ``augment``   the loader's part of the clip transform (crop, flip, resize), timed on the same items; as in
  ``fit``, the conversion to float and the colour jitter run in the step (``forward``)
* ``forward``, ``backward``, ``optimiser``  the model step (``loss`` counted in forward)
* ``overhead``  the rest of the engine's loop (metrics, bookkeeping, Python)
* ``eval``      one evaluation pass over the training clips, per clip × batch, for scale

Timers around each phase (CPU: synchronous, so wall time is the phase's own). ``--workers 0`` is
the engine's default; with workers the loader's work overlaps the step and ``read``+``augment``
are the main process's wait.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from ferlib.models.registry import paper_methods

METHODS = paper_methods()


def profile_method(method: str, store, steps: int, workers: int) -> dict[str, float]:
    """Seconds per training step in each phase for ``method``'s demo recipe on ``store``."""
    import torch

    from ferlib.models.registry import method_spec
    from ferlib.train.recipes import resolve_config
    from ferlib.train.engine import (autocast_trunk, build_run_model, compute_loss, forward_batch, make_dataset,
                                     make_loader, evaluate_loader, precision)
    from ferlib.train.schedules import build_optimizer, param_groups

    cfg = resolve_config(method, "demo", init_trunk="", num_workers=workers, progress=False)
    index = store.index()
    model = build_run_model(cfg, len(store.classes))
    if cfg.channels_last and hasattr(model, "trunk"):  # as fit runs it: the per-frame CNN in NHWC and bf16
        model.trunk.to(memory_format=torch.channels_last)
    opt = build_optimizer(param_groups(model, cfg), cfg)
    ds = make_dataset(store, index, cfg, train=True, pixels=method_spec(method).inputs != "landmarks", defer_unit=True)
    dev = torch.device("cpu")
    amp = (lambda: autocast_trunk(model, "cpu")) if precision(dev, cfg) == "bf16" else nullcontext
    t = dict.fromkeys(("read", "augment", "forward", "backward", "optimiser", "overhead", "eval"), 0.0)
    n_steps, n_clips = 0, 0
    loader = make_loader(ds, cfg, True, 0)
    model.train()
    it = iter(loader)
    for _ in range(steps + 1):  # the first step warms up (allocator, worker start) and is not counted
        t0 = time.perf_counter()
        try:
            batch = next(it)
        except StopIteration:
            it = iter(loader)
            batch = next(it)
        t1 = time.perf_counter()
        y = batch["label"]
        with amp():
            logits, extras = forward_batch(model, batch, dev, cfg)
        loss = compute_loss(model, logits, extras, y, cfg)
        t2 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t3 = time.perf_counter()
        opt.step()
        t4 = time.perf_counter()
        float(loss.detach()), int((logits.detach().argmax(1) == y).sum())
        t5 = time.perf_counter()
        if _ > 0:
            t["read"] += t1 - t0
            t["forward"] += t2 - t1
            t["backward"] += t3 - t2
            t["optimiser"] += t4 - t3
            t["overhead"] += t5 - t4
            n_steps += 1
            n_clips += len(y)
    # the transform's share of the loader's time: re-run it alone on the items the loader read
    aug = 0.0
    rows = list(range(min(len(ds), n_clips)))
    import numpy as np

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as the data set makes its items (ferlib.data.dataset)
    for i in rows:
        rec = ds.store.read(ds._ids[i])
        rng = np.random.default_rng([cfg.seed, 0, i])
        idx = ds.sampler(rec.n_frames, ds.transform.train, rng)
        frames, lms = np.asarray(rec.frames[idx]), np.asarray(rec.landmarks[idx])
        a0 = time.perf_counter()
        ds.transform.geometry(frames, lms, rng, pixels=ds.pixels)  # the loader's part; the step makes the floats
        aug += time.perf_counter() - a0
    torch.set_num_threads(threads)
    aug_per_step = aug / max(len(rows), 1) * (n_clips / max(n_steps, 1)) * n_steps
    if workers == 0:  # in-process loading: the transform is part of the measured wait
        t["augment"] = min(aug_per_step, t["read"])
        t["read"] -= t["augment"]
    else:
        t["augment"] = 0.0
    e0 = time.perf_counter()
    val = make_dataset(store, index, cfg, train=False)
    ev = evaluate_loader(model, make_loader(val, cfg, False), cfg, dev, progress=False)
    t["eval"] = (time.perf_counter() - e0) / len(ev.y_true) * cfg.batch_size * n_steps
    out = {k: v / n_steps for k, v in t.items()}
    out["clips_per_step"] = n_clips / n_steps
    return out


def markdown(rows: dict[str, dict[str, float]]) -> str:
    """The table: ms per step and share of the training step (eval as ms per batch of clips)."""
    phases = ("read", "augment", "forward", "backward", "optimiser", "overhead")
    head = "| method | clips/step | step ms | " + " | ".join(phases) + " | eval ms/batch |"
    lines = [head, "|" + "---|" * (len(phases) + 4)]
    for m, r in rows.items():
        step = sum(r[p] for p in phases)
        cells = [f"{1000 * r[p]:.0f} ({100 * r[p] / step:.0f} %)" for p in phases]
        lines.append(f"| {m} | {r['clips_per_step']:.0f} | {1000 * step:.0f} | " + " | ".join(cells)
                     + f" | {1000 * r['eval']:.0f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> str:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--subjects", type=int, default=6, help="generated lab subjects (7 clips each)")
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--workers", type=int, default=0)
    p.add_argument("--methods", nargs="*", default=list(METHODS))
    args = p.parse_args(argv)

    import torch

    from ferlib.synth import SynthConfig, generate

    with tempfile.TemporaryDirectory() as tmp:
        store = generate(Path(tmp) / "store", SynthConfig(n_subjects=args.subjects, n_frames=16, side=64, seed=0),
                         progress=False)
        rows = {m: profile_method(m, store, args.steps, args.workers) for m in args.methods}
        n_clips = len(store.clip_ids())
    table = markdown(rows)
    print(f"demo recipes, {n_clips} clips of 16 frames at 64 px, {args.steps} steps, "
          f"{args.workers} workers, torch threads {torch.get_num_threads()}\n")
    print(table)
    return table


if __name__ == "__main__":
    main()
