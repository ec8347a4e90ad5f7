"""What the demo's models, trained on drawn faces only, call real faces among all their classes.

    python benchmarks/real_calls.py [--runs runs/synth-lab-demo] [--people 21] [--seed 0]

The method notebooks' runs (02–05: every method, every fold found under ``--runs``,
``<method>/full/<fold>``) are tested on real London-set neutral → smile clips
(:func:`ferlib.experiments.transfer.real_store`) of ``--people`` London people: the first split's
held-out people of the transfer check by default, so the numbers sit beside its two-class ones
(the drawn-face models never saw any London person). For each run it prints how often a real
smile is called ``happy`` among the run's own classes and, when the model has a ``neutral`` class,
how often a real neutral face is called so; what each kind of real clip is called most; then the
mean ± sd over each method's folds. Chance among K classes is 1/K.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd
import torch

from ferlib.analysis.real_runs import load_run
from ferlib.assets import identity_folders
from ferlib.data.labels import NEUTRAL
from ferlib.experiments.transfer import identity_pool, real_store, split_identities
from ferlib.models.registry import method_spec, model_inputs
from ferlib.profiles import get_profile
from ferlib.train.engine import make_dataset, make_loader


@torch.no_grad()
def calls(run: Path, store) -> pd.DataFrame:
    """The run's selected model's call (one of its own classes) for every clip of ``store``, beside the
    clip's real label (a name of ``store.classes``, which may hold a class the model lacks: neutral)."""
    model, cfg, classes = load_run(run)
    method = cfg.method
    index = store.index()
    ds = make_dataset(store, index, cfg, False, pixels=method_spec(method).inputs != "landmarks")
    rows = []
    for b in make_loader(ds, cfg, False):
        logits, _ = model(*model_inputs(method, b, stgcn_normalise=cfg.stgcn_normalise))
        rows += [{"label_name": store.classes[int(y)], "pred_name": classes[int(p)]}
                 for y, p in zip(b["label"], logits.argmax(1))]
    return pd.DataFrame(rows)


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
        if "happy" not in classes:
            print(f"{run}: classes {classes} lack happy; skipped")
            continue
        labelled = classes if NEUTRAL in classes else (*classes, NEUTRAL)  # the real clips' labels
        if labelled not in stores:
            stores[labelled] = real_store(london, out / f"real-{len(stores)}", people, labelled, check["n_frames"],
                                          check["side"], check["repeats"], args.seed, progress=False)
        preds = calls(run, stores[labelled])
        smile, plain = preds[preds["label_name"] == "happy"], preds[preds["label_name"] == NEUTRAL]
        rows.append({"method": run.parents[1].name, "fold": run.name, "classes": len(classes),
                     "smile called happy (%)": 100 * float((smile["pred_name"] == "happy").mean()),
                     "neutral called neutral (%)": (100 * float((plain["pred_name"] == NEUTRAL).mean())
                                                    if NEUTRAL in classes else float("nan")),
                     "most called, smiles": smile["pred_name"].mode().iat[0],
                     "most called, neutrals": plain["pred_name"].mode().iat[0],
                     "real clips": len(preds)})
        print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    print(table.round(1).to_string(index=False))
    cols = ["smile called happy (%)", "neutral called neutral (%)"]
    spread = table.groupby("method")[cols].agg(["mean", "std"]).round(1)
    spread[("folds", "")] = table.groupby("method").size()
    print(f"\nover folds ({len(people)} London people, chance 1/{table['classes'].iat[0]}):")
    print(spread.to_string())
    return table


if __name__ == "__main__":
    main()
