"""What the demo's models, trained on drawn faces only, call real faces among all their classes.

    python benchmarks/real_calls.py [--runs runs/synth-lab-demo] [--people 21] [--seed 0]

The method notebooks' runs (02–05: every method, every fold found under ``--runs``,
``<method>/full/<fold>``) are tested on real London-set neutral → smile clips
(:func:`ferlib.experiments.transfer.real_store`) of ``--people`` London people: the first split's
held-out people of the transfer check by default, so the numbers sit beside its two-class ones
(the drawn-face models never saw any London person). For each run it prints how often a real
smile is called ``happy`` and a real neutral face ``neutral`` among the run's own classes, and what
the real clips are called most; then the mean ± sd over each method's folds. Chance among K
classes is 1/K.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from ferlib.analysis.real_runs import evaluate_run, load_run
from ferlib.assets import identity_folders
from ferlib.data.labels import NEUTRAL
from ferlib.experiments.transfer import identity_pool, real_store, split_identities
from ferlib.profiles import get_profile


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", default="runs/synth-lab-demo", help="the method notebooks' runs of one generated set")
    p.add_argument("--people", type=int, default=None,
                   help="London people tested (default: those the transfer check's first split holds out)")
    p.add_argument("--seed", type=int, default=0, help="the transfer check's split whose held-out people are tested")
    p.add_argument("--out", default=None, help="work folder for the real clips (default: a temporary one)")
    args = p.parse_args(argv)

    runs = sorted(f.parent for f in Path(args.runs).glob("*/full/*/metrics.json"))
    if not runs:
        raise SystemExit(f"no finished runs under {args.runs}/<method>/full/<fold>/ (run notebooks 02-05 first)")
    check = get_profile("demo").transfer
    london, ids, _ = identity_pool(identity_folders())
    _, held_out = split_identities(ids, check["n_rendered"], args.seed)
    people = held_out if args.people is None else held_out[: args.people]
    out = Path(args.out or tempfile.mkdtemp(prefix="ferlib-real-calls-"))
    stores: dict[tuple[str, ...], object] = {}
    rows = []
    for run in runs:
        _, _, classes = load_run(run)
        if "happy" not in classes or NEUTRAL not in classes:
            print(f"{run}: classes {classes} lack happy or neutral; skipped")
            continue
        if classes not in stores:
            stores[classes] = real_store(london, out / f"real-{len(stores)}", people, classes, check["n_frames"],
                                         check["side"], check["repeats"], args.seed, progress=False)
        preds, _ = evaluate_run(run, stores[classes])
        smile, plain = preds[preds["label_name"] == "happy"], preds[preds["label_name"] == NEUTRAL]
        rows.append({"method": run.parents[1].name, "fold": run.name, "classes": len(classes),
                     "smile called happy (%)": 100 * float((smile["pred_name"] == "happy").mean()),
                     "neutral called neutral (%)": 100 * float((plain["pred_name"] == NEUTRAL).mean()),
                     "most called, smiles": smile["pred_name"].mode().iat[0],
                     "most called, neutrals": plain["pred_name"].mode().iat[0],
                     "real clips": len(preds)})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.round(1).to_string(index=False))
    cols = ["smile called happy (%)", "neutral called neutral (%)"]
    spread = table.groupby("method")[cols].agg(["mean", "std"]).round(1)
    spread["folds"] = table.groupby("method").size()
    print(f"\nover folds ({len(people)} London people, chance 1/{table['classes'].iat[0]}):")
    print(spread.to_string())
    return table


if __name__ == "__main__":
    main()
