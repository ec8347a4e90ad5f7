"""Do the demo models learn the photo renders? Accuracy on photo renders of people they never saw.

    python benchmarks/photo_renders.py [--methods fan fer_gcn] [--seed 0] [--synth exemplars=false]
                                       [--setting NAME:key=value,...]

Every identity the workbook ships is used as the transfer check uses them
(:func:`ferlib.experiments.transfer.identity_pool`, :func:`~ferlib.experiments.transfer.split_identities`):
``--rendered`` of the 61 London people (default: the demo check's 40) and the neutral-only Canada
people are rendered, the other London people are held out. Each method trains on
photo renders of the rendered people (``lab`` course, the seven expressions and neutral, with the
per-frame jitter and predictor landmarks real clips have: ``PHOTO_SYNTH``; ``--synth`` changes a
SynthConfig field of both sets), starting from the demo trunk pre-trained with photo renders of the
same people (``--pretrain-clips`` clips each, ``--photo-epochs`` of fine-tuning as
:data:`ferlib.experiments.pretrain.PHOTO_PRETRAIN` by default, or with ``--photo-epochs 0``
``--pretrain-epochs`` of joint training), and is tested on photo renders
of the held-out people (one clip per class each); ``--blends N`` adds N blends of two rendered
London people as further training identities (:mod:`ferlib.experiments.blend`). Each ``--setting`` adds
a row of TrainConfig fields on top of the demo recipe (``demo`` itself always runs; ``select=last``
trains on every rendered person instead of carving two for model selection). Prints accuracy per
method and setting.

It prints one table (accuracy per method and setting) and each run's confusion table; the
numbers of a run are that run's, so compare rows measured together.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ferlib.analysis.real_runs import evaluate_run
from ferlib.assets import identity_folders
from ferlib.data.labels import BASIC7
from ferlib.data.protocols import Split, with_validation
from ferlib.experiments.blend import blend_identities
from ferlib.experiments.pretrain import PHOTO_PRETRAIN, frame_pretrained
from ferlib.experiments.transfer import PHOTO_SYNTH, identity_pool, split_identities, training_store
from ferlib.models.synth_frames import default_cache_dir
from ferlib.models.registry import method_spec, methods
from ferlib.options import parse_key_value
from ferlib.profiles import get_profile
from ferlib.synth.photo import list_photos, photo_identity
from ferlib.train.recipes import resolve_config
from ferlib.train.engine import fit


def main(argv: list[str] | None = None) -> pd.DataFrame:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--photos", nargs="*", default=[str(f) for f in identity_folders()],
                   help="identity folders: London layout (neutral_front/, smiling_front/) or neutral photos only")
    p.add_argument("--rendered", type=int, default=get_profile("demo").transfer["n_rendered"],
                   help="London people rendered for training (the others are tested); neutral-only people are all rendered")
    p.add_argument("--methods", nargs="*", default=list(methods(lambda spec: bool(spec.weight_keys))),
                   help="default: the methods with frame weights")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--clips-per-subject", type=int, default=10, help="training clips per rendered person")
    p.add_argument("--blends", type=int, default=0,
                   help="also render this many blends of two rendered people (ferlib.experiments.blend) as further identities")
    p.add_argument("--setting", action="append", default=[],
                   help="NAME:key=value,key=value — TrainConfig fields over the demo recipe, e.g. full-lr:trunk_lr_scale=1")
    p.add_argument("--synth", action="append", default=[],
                   help="key=value — a SynthConfig field of both the training and the test renders, e.g. exemplars=false")
    p.add_argument("--pretrain-clips", type=int, default=PHOTO_PRETRAIN["photo_clips_per_subject"],
                   help="photo clips per rendered person in the trunk's frame pre-training")
    p.add_argument("--pretrain-epochs", type=int, default=10,
                   help="with --photo-epochs 0: epochs of the trunk's joint frame pre-training (drawn + photo frames)")
    p.add_argument("--photo-epochs", type=int, default=PHOTO_PRETRAIN["photo_epochs"],
                   help="epochs of fine-tuning the plain demo trunk on the photo frames (PHOTO_PRETRAIN's); 0: joint training")
    p.add_argument("--out", default=None, help="work folder (default: a temporary one)")
    args = p.parse_args(argv)

    settings: dict[str, dict] = {"demo": {}}
    for s in args.setting:
        name, _, fields = s.partition(":")
        settings[name] = dict(parse_key_value(f) for f in fields.split(",") if f)
    synth = {**PHOTO_SYNTH, **dict(parse_key_value(f) for f in args.synth)}
    out = Path(args.out or tempfile.mkdtemp(prefix="ferlib-photo-"))
    london, ids, neutral_only = identity_pool(args.photos)
    rendered_london, held_out = split_identities(ids, args.rendered, args.seed)
    rendered = sorted(rendered_london + neutral_only)
    source, identities = list(args.photos), rendered
    if args.blends:
        blended = blend_identities(london, out / "blended", rendered_london, args.blends, seed=args.seed)
        source = [blended] + [f for f in args.photos if Path(f) not in london]
        identities = sorted(photo_identity(p) for p in list_photos(blended)) + neutral_only
    train = training_store(out / "train", "photo", source, identities, BASIC7, clips_per_subject=args.clips_per_subject,
                           seed=args.seed, progress=False, **synth)
    test = training_store(out / "test", "photo", london, held_out, BASIC7, clips_per_subject=0,
                          seed=args.seed + 1, progress=False, **synth)
    # fine-tuning starts from the plain demo trunk (its default epochs); joint training runs --pretrain-epochs
    joint = {} if args.photo_epochs else {"epochs": args.pretrain_epochs}
    trunk = frame_pretrained(default_cache_dir(), side=64, photos_dir=args.photos, photo_ids=rendered, progress=False,
                             photo_clips_per_subject=args.pretrain_clips, photo_epochs=args.photo_epochs or None, **joint)
    index = train.index()
    split = with_validation(index, Split("photo", np.arange(len(index)), np.zeros(0, int)), 0.15, seed=args.seed)
    split = Split("photo", split.train, split.val, split.val)
    print(f"train: {len(split.train)} clips of {len(rendered)} people ({len(neutral_only)} neutral-only) and {args.blends} "
          f"blends (val {len(split.val)}); "
          f"test: {len(test.index())} clips of {len(held_out)} other people; classes {list(train.classes)}")
    rows = []
    for method in args.methods:
        for name, fields in settings.items():
            trunk_init = {"init_trunk": str(trunk)} if method_spec(method).frame_cnn else {}
            cfg = resolve_config(method, "demo", dataset=train.dataset, **{"progress": False, "seed": args.seed, **trunk_init,
                                                                          **fields})
            run = out / "runs" / name / method
            # select=last: no model selection, so every rendered person trains (the carved ones are only reported)
            rows_split = Split("photo", np.arange(len(index)), split.test) if cfg.select == "last" else split
            metrics = fit(cfg, train, rows_split, run, index=index)
            preds, _ = evaluate_run(run, test)
            acc = float((preds["pred_name"] == preds["label_name"]).mean())
            rows.append({"method": method, "setting": name, "epochs": cfg.epochs, "val_accuracy": metrics.get("accuracy"),
                         "test_accuracy_other_people": acc})
            print(rows[-1], flush=True)
            print(pd.crosstab(preds["label_name"], preds["pred_name"]).to_string(), flush=True)
    table = pd.DataFrame(rows)
    print(table.round(3).to_string(index=False))
    return table


if __name__ == "__main__":
    main()
