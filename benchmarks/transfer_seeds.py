"""The transfer check over several identity splits: how much of its number is the split.

    python benchmarks/transfer_seeds.py [--seeds 0 1 2] [--methods fan fer_gcn stgcn] [--profile demo]

One :func:`ferlib.experiments.transfer.transfer_check` per method and seed (each seed renders another
40 of the 61 London people, with the neutral-only Canada people, and tests on the other 21, as
notebook 11 does). Prints every run's row and, per method, :func:`ferlib.experiments.transfer.transfer_spread`:
the mean and standard deviation over the seeds of neutral-vs-happy accuracy and of FAN's / FER-GCN's
per-clip ρ between frame weights and the real intensity. ``--pretrain`` changes the demo trunk's photo pre-training. Runs are kept under ``--out`` (default
``runs/transfer-seeds``) and resume; ``--set key=value`` trains with TrainConfig fields over the demo recipe (its runs are
named after them); what they measured is what this prints (no copy of it is kept in the
sources). ``--photos`` chooses the identity sources (default: every one the workbook ships, :func:`ferlib.assets.identity_folders`);
``--real-smooth K`` tests the same trained runs on real clips preprocessed with a K-frame moving average of the crop.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ferlib.assets import identity_folders
from ferlib.experiments.transfer import TRANSFER_METHODS, transfer_check, transfer_spread, transfer_table
from ferlib.options import parse_key_value


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photos", nargs="*", default=[str(f) for f in identity_folders()],
                   help="identity folders: London layout (neutral_front/, smiling_front/) or neutral photos only")
    p.add_argument("--methods", nargs="*", default=list(TRANSFER_METHODS))
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument("--profile", default="demo", help="a profile of ferlib.profiles (smoke, demo, paper): the size of the check")
    p.add_argument("--renderer", default="photo", choices=["photo", "procedural"])
    p.add_argument("--pretrain", action="append", default=[],
                   help="key=value — an argument of the demo trunk's frame pre-training, e.g. photo_clips_per_subject=40")
    p.add_argument("--set", action="append", default=[], dest="overrides",
                   help="key=value — a TrainConfig field over the recipe, e.g. freeze_trunk=1")
    p.add_argument("--real-smooth", type=int, default=1,
                   help="test on real clips whose crop geometry is averaged over this many frames (preprocess --smooth)")
    p.add_argument("--out", default="runs/transfer-seeds")
    args = p.parse_args(argv)

    pretrain = dict(parse_key_value(f) for f in args.pretrain)
    overrides = dict(parse_key_value(f) for f in args.overrides)
    name = "-".join(f"{k}{v}" for k, v in sorted(overrides.items()))
    rows, results = [], []
    for seed in args.seeds:
        for method in args.methods:
            r = transfer_check(method, args.photos, Path(args.out), renderer=args.renderer, profile=args.profile, seed=seed,
                               progress=False, pretrain=pretrain, name=name, real_smooth=args.real_smooth, **overrides)
            results.append(r)
            row = transfer_table([r]).iloc[0].to_dict()
            rows.append({"seed": seed, **row})
            print({k: rows[-1][k] for k in ("seed", "method", "accuracy", "predicted_happy_share", "rho_per_clip_mean")},
                  flush=True)
    table = pd.DataFrame(rows)
    print(table.to_string(index=False))
    print(f"\nover seeds {args.seeds}:\n{transfer_spread(results).to_string(index=False)}")
    return table


if __name__ == "__main__":
    main()
