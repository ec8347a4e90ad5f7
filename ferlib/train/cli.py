"""``python -m ferlib train | evaluate | cv | ablate``: the Python API's options on the command line.

* ``train``: one fold of a protocol (``--fold``, default the first) into ``--out``.
* ``cv``: :func:`ferlib.train.cv.cross_validate` into ``--out`` (``--folds 0 1`` or all).
* ``evaluate``: a checkpoint on a store (``--rows-of-fold`` picks a fold's test clips).
* ``ablate``: a paper grid by name (``--grid fer_gcn_table5``) or a JSON/YAML file.

Config fields go through ``--set key=value`` (``--set lr=0.01 --set milestones=[30] --set progress=false``)
and model arguments through ``--model-set key=value``; values are read in the one dialect of every
command (:mod:`ferlib.options`: ``true``/``True``, ``none``/``None``/``null``, numbers, lists, else
text). Unknown keys, values of the wrong type and
model arguments the constructor refuses fail naming the key before anything is written. ``--out``
must be a new or empty folder (or, for train/cv/ablate, one holding the same run to resume);
a file there fails in one line. ``--threads N`` sets torch's CPU threads (default: torch's own,
which follows ``OMP_NUM_THREADS``). Under ``torchrun`` the same commands run distributed (rank 0
writes).

One module serves the four commands: :func:`add_arguments` reads which one from the parser's
``command`` default (set by :mod:`ferlib.cli` before it calls it), :func:`run` from ``args.command``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch
import yaml

from ferlib.data.protocols import Split, get_protocol
from ferlib.data.store import ClipStore
from ferlib.models.registry import available_methods, method_spec
from ferlib.options import add_key_value_option, add_renamed_option, key_values
from ferlib.profiles import MODEL_PROFILES
from ferlib.synth.generate import check_synth_versions
from ferlib.train import distributed
from ferlib.train.ablate import PAPER_GRIDS, ablate
from ferlib.train.checkpoint import load_checkpoint
from ferlib.train.config import TrainConfig
from ferlib.train.cv import cross_validate, recipe_protocol, resolve_folds
from ferlib.train.engine import evaluate, fit
from ferlib.train.guards import check_out_path
from ferlib.train.recipes import resolve_config

#: the commands this module serves
COMMANDS = ("train", "evaluate", "cv", "ablate")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the command named by ``parser.get_default("command")`` (one of :data:`COMMANDS`)."""
    name = parser.get_default("command")
    if name not in COMMANDS:
        raise ValueError(f"ferlib.train.cli serves the commands {COMMANDS}; the parser's command default is {name!r} "
                         "(set it with parser.set_defaults(command=...) first)")
    parser.add_argument("--store", required=True, help="clip store folder")
    parser.add_argument("--out", required=True, help="output folder (runs/<experiment>)")
    if name == "evaluate":
        parser.add_argument("--checkpoint", required=True, help="best.pt or last.pt of a ferlib run")
        parser.add_argument("--fold", default=None, help="evaluate only this fold's test clips (name or position)")
        parser.add_argument("--protocol", default=None, help="protocol that defines --fold (default: the recipe's of the checkpoint's run)")
        add_key_value_option(parser, "--protocol-arg", "protocol keyword, e.g. k=10", dest="protocol_arg")
    else:
        parser.add_argument("--protocol", default=None,
                            help="subject_kfold | fan_ckplus | official_folds | train_test (default: the recipe's for the store's data set)")
        add_key_value_option(parser, "--protocol-arg", "protocol keyword, e.g. k=10", dest="protocol_arg")
        parser.add_argument("--profile", default="demo", choices=MODEL_PROFILES,
                            help="the model profile and its recipe — demo: the small models on the demo recipe; "
                                 "paper: the paper's models on its recipe for the store's data set")
        add_renamed_option(parser, "--size", "--profile", "the model profile: demo or paper")
        parser.add_argument("--recipe", default=None,
                            help="a named recipe instead of the profile's: 'paper', 'demo' or an alternative such as 'official'")
        add_key_value_option(parser, "--set", "config field, e.g. lr=0.01", dest="sets")
        parser.add_argument("--config", help="JSON file of config fields (applied before --set)")
    if name in ("train", "cv"):
        parser.add_argument("--method", required=True, choices=available_methods(), metavar="METHOD",
                            help=f"one of {', '.join(available_methods())}")
        parser.add_argument("--variant", default="full",
                            help="the method's variant (an ablation row); besides full: " + "; ".join(
                                f"{m}: {', '.join(v for v in method_spec(m).variants if v != 'full')}"
                                for m in available_methods() if len(method_spec(m).variants) > 1))
        add_key_value_option(parser, "--model-set", "model argument, e.g. num_modules=1", dest="model_sets")
        parser.add_argument("--trunk", metavar="PATH|NAME", help="init_trunk: '' | synth-frames | imagenet | emotion-fan | a file")
    if name == "train":
        parser.add_argument("--fold", default="0", help="fold name or position (default 0)")
    if name in ("cv", "ablate"):
        parser.add_argument("--folds", nargs="*", default=None, help="fold names or positions (default all)")
    if name == "ablate":
        parser.add_argument("--grid", required=True, help="a paper grid name or a JSON/YAML file of table → rows")
        parser.add_argument("--tables", nargs="*", default=None, help="the grid's tables to run (default all)")
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
        for k in ("method", "size", "profile", "variant", "recipe", "dataset", "experiment"):
            data.pop(k, None)
    data.update(key_values(getattr(args, "sets", None)))
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
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ValueError(f"{path} is not valid YAML: {str(exc).splitlines()[0]}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from exc


def requested_trunks(args: argparse.Namespace) -> list[str]:
    """The ``init_trunk`` of every run a training command (train, cv, ablate) would start: the
    command's own (``--trunk``, ``--set``/``--config``) or its methods' recipes on the store's data
    set and ``--profile`` (an ablation row's own overrides win). Trains nothing."""
    own = _overrides(args)
    if "init_trunk" in own:
        return [str(own["init_trunk"])]
    dataset = ClipStore.open(args.store).dataset
    if args.command == "ablate":
        grid = _load_grid(args.grid)
        grid = {grid: PAPER_GRIDS[grid]} if isinstance(grid, str) and grid in PAPER_GRIDS else grid
        rows = [r for table in (grid.values() if isinstance(grid, dict) else []) for r in table]
        return [str((r.get("overrides") or {}).get("init_trunk", resolve_config(r["method"], args.profile, dataset=dataset,
                                                                               recipe=args.recipe).init_trunk)) for r in rows]
    return [resolve_config(args.method, args.profile, dataset=dataset, recipe=args.recipe, variant=args.variant).init_trunk]


def run(args: argparse.Namespace) -> int:
    """Run ``args.command`` (one of :data:`COMMANDS`); returns the exit status."""
    check_out_path(args.out, "--out")
    if args.threads:
        torch.set_num_threads(args.threads)
    distributed.init_from_env()
    store = ClipStore.open(args.store)
    check_synth_versions(store)  # a generated store of another generator version is refused, as synth refuses it
    cmd = args.command
    resume = not args.no_resume
    pkw = key_values(args.protocol_arg)
    try:
        if cmd == "evaluate":
            rows = None
            if args.fold is not None:
                protocol = args.protocol
                if protocol is None:
                    saved = TrainConfig.from_dict(load_checkpoint(args.checkpoint)["config"], str(args.checkpoint))
                    protocol, pkw = recipe_protocol(saved, store.dataset, pkw)
                splits = get_protocol(protocol, store.index(), **pkw)
                rows = _pick(splits, _fold(args.fold)).test
            m = evaluate(args.checkpoint, store, rows=rows, out_dir=args.out)
            keys = ("accuracy", "uar", "n", "unmatched_data_classes", "unmatched_checkpoint_classes", "n_left_out",
                    "n_seen_in_training")
            print(json.dumps({k: m[k] for k in keys if k in m}))
            return 0
        if cmd == "train":
            cfg = resolve_config(args.method, args.profile, dataset=store.dataset, recipe=args.recipe, variant=args.variant,
                                 model_overrides=key_values(args.model_sets), experiment=Path(args.out).name,
                                 **_overrides(args))
            protocol = args.protocol
            if protocol is None:
                protocol, pkw = recipe_protocol(cfg, store.dataset, pkw)
            split = _pick(get_protocol(protocol, store.index(), **pkw), _fold(args.fold))
            m = fit(cfg, store, split, args.out, resume=resume)
            print(json.dumps({k: m[k] for k in ("accuracy", "uar", "n")}))
        elif cmd == "cv":
            folds = [_fold(f) for f in args.folds] if args.folds else None
            table = cross_validate(args.method, store, args.protocol, args.profile, args.out, folds=folds, variant=args.variant,
                                   protocol_kwargs=pkw, model_overrides=key_values(args.model_sets), resume=resume,
                                   recipe=args.recipe, **_overrides(args))
            print(table.to_string())
        elif cmd == "ablate":
            folds = [_fold(f) for f in args.folds] if args.folds else None
            table = ablate(_load_grid(args.grid), store, args.out, protocol=args.protocol, profile=args.profile, folds=folds,
                           protocol_kwargs=pkw, tables=args.tables, recipe=args.recipe, **_overrides(args))
            print(table.to_string())
        else:
            raise ValueError(f"unknown command {cmd!r}; ferlib.train.cli serves {COMMANDS}")
    finally:
        distributed.shutdown()
    return 0


def _pick(splits: list[Split], fold: int | str) -> Split:
    return resolve_folds(splits, [fold])[0]
