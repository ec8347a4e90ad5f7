"""One GPU check: per method with the paper's models, training and inference clips/s under each setting,
the loader's clips/s against what the GPU consumes, model FLOPs utilisation, and KP-GCN-MSA
inference against its paper's Table 8.

    python benchmarks/gpu_check.py            # on one GPU (about 5-8 minutes on an H100)
    python benchmarks/gpu_check.py --smoke    # seconds on a CPU: tiny batch, demo models, 1 step

Settings: ``eager fp32``, ``bf16`` (autocast of the per-frame CNN, as the engine's ``amp``), ``channels-last``
(bf16 + NHWC per-frame trunk, as the engine's default ``channels_last``) and ``compile`` (bf16 + NHWC +
``torch.compile``, as ``compile=true``; skipped on a CPU unless ``--compile``). Inputs are random
batches of each model profile's shapes (:func:`ferlib.analysis.cost.example_inputs`); training is forward,
loss, backward and an AdamW step. MFU = clips/s × GFLOPs per clip (the cost table's forward
count; ×3 for a training step) / the chip's dense bf16 peak (:data:`PEAK_TFLOPS`; NaN for chips
not listed). The loader reads a generated store of the paper frame side (``--side``, 16 frames)
through the engine's data set and DataLoader with ``--workers`` workers, and is set against the
fastest training setting of each method.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from ferlib.models.registry import item_owner, paper_methods
from ferlib.paper_numbers import PAPER_COST

METHODS = paper_methods()
SETTINGS = ("eager fp32", "bf16", "channels-last", "compile")
#: dense bf16 tensor-core peaks (TFLOP/s) by device name fragment (NVIDIA data sheets, SXM parts)
PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0, "RTX 3090": 71.0, "L4": 121.0}
#: KP-GCN-MSA Table 8: inference samples/s on an RTX 3090, and the goal set for an H100/H200-class GPU
KP = item_owner("KP-GCN-MSA", "Table 8")  # the method of the paper that gives a speed
KP_PAPER_CLIPS_PER_S, KP_GOAL_CLIPS_PER_S = PAPER_COST[KP].clips_per_s, 2600.0


def peak_tflops(device) -> float:
    """The chip's dense bf16 peak, NaN when it is not in :data:`PEAK_TFLOPS` (a CPU too)."""
    import torch

    if device.type != "cuda":
        return math.nan
    name = torch.cuda.get_device_name(device)
    return next((v for k, v in PEAK_TFLOPS.items() if k in name), math.nan)


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(method: str, profile: str, setting: str, batch: int, steps: int, device, warmup: int = 2) -> tuple[float, float]:
    """(training clips/s, inference clips/s) of ``method``'s model profile ``profile`` under ``setting``."""
    import torch
    import torch.nn.functional as F

    from ferlib.analysis.cost import build_for_cost, example_inputs
    from ferlib.train.engine import autocast_trunk

    model = build_for_cost(method, profile).to(device)
    args, _ = example_inputs(model, method, profile, batch, device)
    y = torch.zeros(batch, dtype=torch.long, device=device)
    if setting in ("channels-last", "compile") and hasattr(model, "trunk"):
        model.trunk.to(memory_format=torch.channels_last)  # as the engine's channels_last: the per-frame trunk
    run = model
    if setting == "compile" and hasattr(model, "trunk"):  # as the engine: the trunk's forward, inside amp's hooks
        model.trunk.forward = torch.compile(model.trunk.forward)
    elif setting == "compile":
        run = torch.compile(model)
    def amp():  # as the engine's amp: bf16 inside the per-frame CNN
        return autocast_trunk(model, device.type) if setting != "eager fp32" else nullcontext()
    opt = torch.optim.AdamW(model.parameters(), 1e-4)
    own_loss = hasattr(model, "loss")

    def train_step() -> None:
        with amp():
            logits, extras = run(*args)
        loss = model.loss(logits.float(), {k: v.float() for k, v in extras.items()}, y) if own_loss \
            else F.cross_entropy(logits.float(), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def timed(fn) -> float:
        for _ in range(warmup):  # kernels chosen, graphs compiled
            fn()
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        _sync(device)
        return steps * batch / (time.perf_counter() - t0)

    model.train()
    train = timed(train_step)
    model.eval()

    @torch.no_grad()
    def infer() -> None:
        with amp():
            run(*args)

    return train, timed(infer)


def loader_rate(method: str, profile: str, store, batch: int, workers: int, batches: int, device) -> float:
    """Clips/s the engine's training DataLoader delivers (to ``device``, pinned on CUDA)."""
    from ferlib.models.registry import method_spec
    from ferlib.train.recipes import resolve_config
    from ferlib.train.engine import make_dataset, make_loader

    cfg = resolve_config(method, profile, batch_size=batch, num_workers=workers, progress=False, init_trunk="",
                         device=str(device))
    ds = make_dataset(store, store.index(), cfg, train=True, pixels=method_spec(method).inputs != "landmarks",
                      defer_unit=True)  # as fit: uint8 frames, made float on the device by the step
    ds.hold()  # as fit: the clips read into memory before the first epoch (when they fit)
    loader = make_loader(ds, cfg, True)  # as fit: one loader, its workers kept for every epoch
    n, t0, started = 0, 0.0, False
    for epoch in range(1000):
        ds.set_epoch(epoch)
        loader.sampler.set_epoch(epoch)
        for b in loader:
            b["frames"].to(device, non_blocking=True)
            if not started:  # the first batch pays worker start-up
                started, t0 = True, time.perf_counter()
                continue
            n += len(b["label"])
            if n >= batches * batch:
                _sync(device)
                return n / (time.perf_counter() - t0)
    return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--smoke", action="store_true", help="tiny and on whatever device: seconds on a CPU")
    p.add_argument("--methods", nargs="*", default=list(METHODS))
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--side", type=int, default=112, help="stored frame side of the generated store")
    p.add_argument("--subjects", type=int, default=12)
    p.add_argument("--compile", action="store_true", help="time torch.compile on a CPU too")
    args = p.parse_args(argv)

    import torch

    from ferlib.analysis.cost import method_flops
    from ferlib.synth import SynthConfig, generate

    start = time.perf_counter()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    profile = "demo" if args.smoke else "paper"
    batch, steps = (2, 1) if args.smoke else (args.batch, args.steps)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    peak = peak_tflops(device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU ({torch.get_num_threads()} threads)"
    print(f"# gpu_check on {name}: {profile} models, batch {batch}, {steps} timed steps, torch {torch.__version__}\n")
    results: dict = {}
    print("| method | setting | train clips/s | infer clips/s | GFLOPs/clip | train MFU | infer MFU |")
    print("|---|---|---|---|---|---|---|")
    for m in args.methods:
        gflops = method_flops(m, profile)[0] / 1e9
        for s in SETTINGS:
            if s == "compile" and device.type != "cuda" and not args.compile:
                print(f"| {m} | {s} | skipped on CPU (--compile) | | | | |", flush=True)
                continue
            try:  # one setting that fails (e.g. compile on a new stack) leaves the rest of the table
                tr, inf = measure(m, profile, s, batch, steps, device, warmup=0 if args.smoke else 2)
            except Exception as err:  # noqa: BLE001 - reported in the table, not swallowed
                print(f"| {m} | {s} | failed: {type(err).__name__}: {str(err)[:80]} | | | | |", flush=True)
                continue
            results[(m, s)] = (tr, inf)
            mfu_t, mfu_i = tr * 3 * gflops / 1e3 / peak, inf * gflops / 1e3 / peak
            print(f"| {m} | {s} | {tr:.1f} | {inf:.1f} | {gflops:.2f} | {100 * mfu_t:.1f} % | {100 * mfu_i:.1f} % |",
                  flush=True)
    print(f"\n(measured in {time.perf_counter() - start:.0f} s)\n")

    with tempfile.TemporaryDirectory() as tmp:
        subjects, side, workers = (2, 32, 0) if args.smoke else (args.subjects, args.side, args.workers)
        store = generate(Path(tmp) / "store", SynthConfig(n_subjects=subjects, n_frames=16, side=side, seed=0),
                         progress=False)
        print(f"| method | loader clips/s ({workers} workers, {side} px store) | training clips/s on {device.type} (best) "
              "| loader / training |")
        print("|---|---|---|---|")
        for m in args.methods:
            best = max((v[0] for (mm, _), v in results.items() if mm == m), default=math.nan)
            rate = loader_rate(m, profile, store, batch, workers, 2 if args.smoke else 20, device)
            results[(m, "loader")] = rate
            print(f"| {m} | {rate:.0f} | {best:.0f} | {rate / best:.2f} |", flush=True)

    if KP in args.methods:
        best = max(v[1] for (mm, s), v in results.items() if mm == KP and s in SETTINGS)
        verdict = "meets" if best >= KP_GOAL_CLIPS_PER_S else "misses"
        print(f"\nKP-GCN-MSA inference: {best:.0f} clips/s at batch {batch} ({profile} model) vs the paper's Table 8 "
              f"{KP_PAPER_CLIPS_PER_S:.0f} on an RTX 3090 ({best / KP_PAPER_CLIPS_PER_S:.1f}x); {verdict} the goal of "
              f"{KP_GOAL_CLIPS_PER_S:.0f} clips/s for an H100/H200-class GPU")
    print(f"\ntotal {time.perf_counter() - start:.0f} s")
    return results


if __name__ == "__main__":
    main()
