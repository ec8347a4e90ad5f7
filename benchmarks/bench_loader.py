"""Is the loader fast enough? Clips/s read from the store through the DataLoader vs clips/s a
demo-size model consumes in training (forward + backward + optimiser step), in one run.

    python benchmarks/bench_loader.py [--method fer_gcn] [--workers 2] [--clips 210]

Prints both rates and their ratio; a ratio above 1 means the loader is not what limits training.
Also prints the generation speed (clips/s) and the store's size per 1000 clips.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch
from torch.utils.data import DataLoader

from ferlib.data.dataset import ClipDataset
from ferlib.data.samplers import Sampler
from ferlib.data.transforms import ClipTransform
from ferlib.models.registry import build_model, model_profile, paper_methods
from ferlib.synth import SynthConfig, generate


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--method", default=paper_methods()[0])
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--subjects", type=int, default=30)
    p.add_argument("--steps", type=int, default=10)
    args = p.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store = generate(f"{tmp}/s", SynthConfig(n_subjects=args.subjects, n_frames=16, side=64), progress=False)
        gen_s = time.perf_counter() - t0
        n = len(store.clip_ids())
        per_1000 = store.size_bytes() / n * 1000 / 2**20
        print(f"generation: {n} clips in {gen_s:.1f} s = {n / gen_s:.1f} clips/s; store {per_1000:.0f} MiB per 1000 clips (16 frames, 64x64)")

        prof = model_profile(args.method, "demo")
        ds = ClipDataset(store, store.index(), Sampler(prof.sampler, prof.num_frames), ClipTransform(prof.input_side, train=True))
        loader = DataLoader(ds, batch_size=args.batch, shuffle=True, num_workers=args.workers, persistent_workers=args.workers > 0)
        for _ in loader:  # warm-up: worker start, page cache
            break
        t0 = time.perf_counter()
        seen = 0
        for _ in range(2):
            for batch in loader:
                seen += len(batch["label"])
        load_rate = seen / (time.perf_counter() - t0)

        model = build_model(args.method, "demo", num_classes=len(store.classes))
        opt = torch.optim.AdamW(model.parameters(), 1e-3)
        batch = next(iter(loader))
        landmarks = batch["landmarks"] if model.input_kind != "frames" else None

        def step() -> None:
            if model.input_kind == "frames":
                logits, _ = model(batch["frames"])
            elif model.input_kind == "frames+landmarks":
                logits, _ = model(batch["frames"], landmarks=landmarks)
            else:
                from ferlib.models.stgcn import landmarks_to_stgcn_input

                logits, _ = model(landmarks_to_stgcn_input(batch["landmarks"]))
            loss = torch.nn.functional.cross_entropy(logits, batch["label"])
            opt.zero_grad()
            loss.backward()
            opt.step()

        step()
        t0 = time.perf_counter()
        for _ in range(args.steps):
            step()
        train_rate = args.steps * len(batch["label"]) / (time.perf_counter() - t0)
    print(f"loader ({args.workers} workers, {prof.sampler} x{prof.num_frames}, {prof.input_side}px): {load_rate:.0f} clips/s")
    print(f"training {args.method} demo (torch threads {torch.get_num_threads()}): {train_rate:.0f} clips/s")
    print(f"ratio loader/training = {load_rate / train_rate:.1f}x")


if __name__ == "__main__":
    main()
