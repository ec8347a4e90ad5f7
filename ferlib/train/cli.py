"""``python -m ferlib train | evaluate | cv | ablate``: the Python API's options on the command line.

* ``train``: one fold of a protocol (``--fold``, default the first) into ``--out``.
* ``cv``: :func:`ferlib.train.cv.cross_validate` into ``--out`` (``--folds 0 1`` or all).
* ``evaluate``: a checkpoint on a store (``--rows-of-fold`` picks a fold's test clips).
* ``ablate``: a paper grid by name (``--grid fer_gcn_table5``) or a JSON/YAML file.

Config fields go through ``--set key=value`` (JSON values: ``--set lr=0.01 --set milestones=[30]``)
and model arguments through ``--model-set key=value``; unknown keys, values of the wrong type and
model arguments the constructor refuses fail naming the key before anything is written. ``--out``
must be a new or empty folder (or, for train/cv/ablate, one holding the same run to resume);
a file there fails in one line. ``--threads N`` sets torch's CPU threads (default: torch's own,
which follows ``OMP_NUM_THREADS``). Under ``torchrun`` the same commands run distributed (rank 0
writes).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _kv(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"expected key=value, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k] = json.loads(v)
        except json.JSONDecodeError:
            out[k] = v
    return out


def add_arguments(parser: argparse.ArgumentParser, name: str = "train") -> None:
    """Options of ``name`` (train, evaluate, cv, ablate)."""
    parser.add_argument("--store", required=True, help="clip store folder")
    parser.add_argument("--out", required=True, help="output folder (runs/<experiment>)")
    if name == "evaluate":
        parser.add_argument("--checkpoint", required=True, help="best.pt or last.pt of a ferlib run")
        parser.add_argument("--fold", default=None, help="evaluate only this fold's test clips (name or position)")
        parser.add_argument("--protocol", default=None, help="protocol that defines --fold (default: the recipe's of the checkpoint's run)")
        parser.add_argument("--protocol-arg", action="append", help="protocol keyword, key=value (e.g. k=10)")
    else:
        parser.add_argument("--protocol", default=None,
                            help="subject_kfold | fan_ckplus | official_folds | train_test (default: the recipe's for the store's data set)")
        parser.add_argument("--protocol-arg", action="append", help="protocol keyword, key=value (e.g. k=10)")
        parser.add_argument("--profile", default="demo", choices=("demo", "paper"),
                            help="demo: the demo recipe on the small models; paper: the paper's recipe for the store's data set")
        parser.add_argument("--recipe", default=None,
                            help="a named recipe instead of the profile's: 'paper', 'demo' or an alternative such as 'official'")
        parser.add_argument("--set", action="append", dest="sets", help="config field, key=value (JSON value)")
        parser.add_argument("--config", help="JSON file of config fields (applied before --set)")
    if name in ("train", "cv"):
        parser.add_argument("--method", required=True, help="fer_gcn | fan | kp_gcn_msa | stgcn | baselines")
        parser.add_argument("--variant", default="full")
        parser.add_argument("--model-set", action="append", dest="model_sets", help="model argument, key=value")
        parser.add_argument("--trunk", metavar="PATH|NAME", help="init_trunk: '' | synth-frames | imagenet | emotion-fan | a file")
    if name == "train":
        parser.add_argument("--fold", default="0", help="fold name or position (default 0)")
    if name in ("cv", "ablate"):
        parser.add_argument("--folds", nargs="*", default=None, help="fold names or positions (default all)")
    if name == "ablate":
        parser.add_argument("--grid", required=True, help="a paper grid name or a JSON/YAML file of table → rows")
        parser.add_argument("--tables", nargs="*", default=None)
    parser.add_argument("--no-resume", action="store_true", help="refuse to continue a run found in --out")
    parser.add_argument("--threads", type=_positive_int, default=None, metavar="N",
                        help="torch CPU threads (torch.set_num_threads); default: torch's own, which follows OMP_NUM_THREADS")


def _positive_int(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {n}")
    return n


def _fold(value: str) -> int | str:
    return int(value) if str(value).isdigit() else value


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if getattr(args, "config", None):
        path = Path(args.config)
        try:
            data.update(json.loads(path.read_text()))
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read config file {path}: {exc}") from exc
        for k in ("method", "profile", "variant", "recipe", "dataset", "experiment"):
            data.pop(k, None)
    data.update(_kv(getattr(args, "sets", None)))
    if getattr(args, "trunk", None) is not None:
        data["init_trunk"] = args.trunk
    return data


def _load_grid(spec: str) -> dict | str:
    path = Path(spec)
    if not path.is_file():
        return spec
    text = path.read_text()
    if path.suffix in (".yml", ".yaml"):
        try:
            import yaml  # type: ignore[import-not-found]
        except ImportError as exc:
            raise ValueError(f"{path}: reading YAML needs PyYAML; give the grid as JSON instead") from exc
        return yaml.safe_load(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc


def run(args: argparse.Namespace) -> int:
    """Dispatch on ``args.command``."""
    from ferlib.data.protocols import get_protocol
    from ferlib.data.store import ClipStore
    from ferlib.train import distributed

    from ferlib.train.guards import check_out_path

    check_out_path(args.out, "--out")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    distributed.init_from_env()
    store = ClipStore.open(args.store)
    cmd = args.command
    resume = not args.no_resume
    try:
        if cmd == "evaluate":
            from ferlib.train.engine import evaluate

            rows = None
            if args.fold is not None:
                protocol, pkw = args.protocol, _kv(args.protocol_arg)
                if protocol is None:
                    from ferlib.train.checkpoint import load_checkpoint
                    from ferlib.train.config import TrainConfig
                    from ferlib.train.cv import recipe_protocol

                    saved = TrainConfig.from_dict(load_checkpoint(args.checkpoint)["config"], str(args.checkpoint))
                    protocol, pkw = recipe_protocol(saved, store.dataset, pkw)
                splits = get_protocol(protocol, store.index(), **pkw)
                rows = _pick(splits, _fold(args.fold)).test
            m = evaluate(args.checkpoint, store, rows=rows, out_dir=args.out)
            keys = ("accuracy", "uar", "n", "unmatched_data_classes", "unmatched_checkpoint_classes", "n_left_out")
            print(json.dumps({k: m[k] for k in keys if k in m}))
            return 0
        pkw = _kv(args.protocol_arg)
        if cmd == "train":
            from ferlib.train.config import resolve_config
            from ferlib.train.engine import fit

            from ferlib.train.cv import recipe_protocol

            cfg = resolve_config(args.method, args.profile, dataset=store.dataset, recipe=args.recipe, variant=args.variant,
                                 model_overrides=_kv(args.model_sets), experiment=Path(args.out).name, **_overrides(args))
            protocol = args.protocol
            if protocol is None:
                protocol, pkw = recipe_protocol(cfg, store.dataset, pkw)
            split = _pick(get_protocol(protocol, store.index(), **pkw), _fold(args.fold))
            m = fit(cfg, store, split, args.out, resume=resume)
            print(json.dumps({k: m[k] for k in ("accuracy", "uar", "n")}))
        elif cmd == "cv":
            from ferlib.train.cv import cross_validate

            folds = [_fold(f) for f in args.folds] if args.folds else None
            table = cross_validate(args.method, store, args.protocol, args.profile, args.out, folds=folds, variant=args.variant,
                                   protocol_kwargs=pkw, model_overrides=_kv(args.model_sets), resume=resume,
                                   recipe=args.recipe, **_overrides(args))
            print(table.to_string())
        elif cmd == "ablate":
            from ferlib.train.ablate import ablate

            folds = [_fold(f) for f in args.folds] if args.folds else None
            table = ablate(_load_grid(args.grid), store, args.out, protocol=args.protocol, profile=args.profile, folds=folds,
                           protocol_kwargs=pkw, tables=args.tables, recipe=args.recipe, **_overrides(args))
            print(table.to_string())
        else:
            raise ValueError(f"unknown command {cmd!r}")
    finally:
        distributed.shutdown()
    return 0


def _pick(splits: list, fold: int | str):
    from ferlib.train.cv import resolve_folds

    return resolve_folds(splits, [fold])[0]

