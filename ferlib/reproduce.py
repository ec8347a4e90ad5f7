"""``reproduce``: a researcher's copy of a data set, run the way the paper ran it, ending in the
paper's table beside ours.

::

    python -m ferlib reproduce fan --dataset ckplus --root /data/CK+          # adapter → store → CV → table
    python -m ferlib reproduce all --store data/dfew --dry-run                 # the plan only
    python -m ferlib reproduce fan --dataset ckplus --root R --recipe official # the official code's recipe

Steps: the data set's adapter indexes ``--root`` (a wrong layout fails naming what it expected);
every check that needs no pixels follows — each method's recipe, its trunk file (or whether it can
be downloaded), ``init_from`` runs, the free disk space against an estimate of the store — and the
plan is printed with every error in it, one line each; a plan with an error stops there (exit
status 2, ``--dry-run`` too) before anything is preprocessed. Then preprocessing fills the clip store (resumable; a store made earlier is reused, and a store
given with ``--store`` names its own data set); each method's recipe for that data set
(:mod:`ferlib.train.recipes`) gives the protocol, schedule, sampling, augmentation and trunk;
the plan shows protocol, folds, clips per split, epochs, batch, trunk and an estimate of the
training time (the median of several timed training steps with their spread) and ``--dry-run``
stops there; then
cross-validation (finished folds are read, not retrained) and, in ``--figures``, the per-fold
table and the paper's table with our numbers beside it (CSV, Markdown, PNG).

``--smoke`` runs the demo recipe on the small models, 1 epoch, the first fold: seconds, for tests
and for checking a data set's path end to end before a long run. Runs go to
``<runs>/<store folder>/<method>/full`` (the paper recipe, as the notebooks' ``paper`` profile),
``full@<name>`` for an alternative recipe and ``full@smoke`` for smoke runs.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import torch

from ferlib.analysis.results import fold_results_table, ours_label, paper_comparison, save_table
from ferlib.data.adapters import get_adapter
from ferlib.data.protocols import Split, get_protocol
from ferlib.data.store import ClipStore
from ferlib.experiments.pretrain import ensure_synth_frames
from ferlib.models.registry import (
    available_methods, build_model, example_batch, method_spec, model_inputs, paper_methods,
)
from ferlib.models.trunks import SYNTH_FRAMES, describe_trunk, trunk_plan
from ferlib.options import add_key_value_option, key_values
from ferlib.paper_numbers import paper_table
from ferlib.synth.london import build_london_store
from ferlib.preprocess.pipeline import preprocess_index
from ferlib.train.config import TrainConfig
from ferlib.train.cv import cross_validate
from ferlib.train.recipes import DATASET_PROTOCOLS, Recipe, RecipeError, dataset_key, get_recipe, resolve_config
from ferlib.viz.results import reproduce_figure
from ferlib.viz.style import save_figure

#: TrainConfig overrides of ``--smoke`` (progress stays on: bars draw only where they are seen, and the
#: epoch lines are what a log shows of a step that takes a minute)
SMOKE = {"epochs": 1, "val_fraction": 0.5, "init_trunk": "", "eval_test_each_epoch": False}
#: timed training steps of the estimate (after one warm-up step); their median is the estimate
TIMED_STEPS = 5
#: bytes the store keeps a frame beyond its pixels (landmarks, flags), for the disk estimate
FRAME_OVERHEAD = 68 * 2 * 4 + 8


class PlanError(ValueError):
    """A plan holds errors (each one line, already printed with the plan); nothing was preprocessed."""


@dataclass
class MethodPlan:
    """What one method will run: its recipe, resolved config, folds and where it writes."""

    method: str
    recipe: Recipe
    config: TrainConfig
    protocol: str
    protocol_kwargs: dict[str, Any]
    folds: list[int] | None
    total_folds: int
    splits: list[Split]
    out_dir: Path
    seconds_per_clip: float = float("nan")
    spread: tuple[float, float] = (float("nan"), float("nan"))
    lines: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def estimate_s(self) -> float:
        """Training time from the timed steps: clips per epoch × epochs × folds × seconds per clip."""
        clips = sum(len(s.train) for s in self.splits)
        return clips * self.config.epochs * self.seconds_per_clip


def methods_for(dataset: str, smoke: bool = False) -> list[str]:
    """The methods ``--method all`` runs on ``dataset``: those whose paper reports it (every method
    of a paper with a demo recipe, in notebook order, under ``--smoke`` on a data set no paper reports)."""
    key = dataset_key(dataset)
    found = [m for m in available_methods() if key in method_spec(m).papers.main]
    if not found and smoke:
        found = [m for m in paper_methods() if "demo" in method_spec(m).recipes]
    if not found:
        have = sorted({d for m in available_methods() for d in method_spec(m).papers.main})
        raise RecipeError(f"no paper reports data set {dataset!r}; the papers' data sets: {have}")
    return found


def recorded_dataset(store: ClipStore, dataset: str | None = None) -> str:
    """The data set a clip store records (``store.json``); none, or another than ``dataset``, raises."""
    recorded = store.dataset
    if not recorded or recorded == "unnamed":
        raise ValueError(f"the clip store {store.root} records no data set (store.json 'dataset' is {recorded!r}); "
                         f"remake it with `python -m ferlib preprocess --dataset NAME` or pass --root and --dataset")
    if dataset and dataset_key(dataset) != dataset_key(recorded):
        raise ValueError(f"--dataset {dataset!r} but the store {store.root} holds {recorded!r}")
    return recorded


def index_or_open(dataset: str | None, root: str | Path | None, store_dir: str | Path | None,
                  options: dict[str, Any] | None = None) -> tuple[str, ClipStore | None, Any, Path]:
    """``(data set, store or None, index, store folder)`` without preprocessing: the store at
    ``store_dir`` (its recorded data set and index), or the adapter's index of ``root`` and where its
    store goes (``store_dir``, default ``data/<dataset>``; a store already there is reused)."""
    if root is None:
        if store_dir is None:
            raise ValueError("reproduce needs --root (a data set on disk, with --dataset) or --store (a clip store)")
        store = ClipStore.open(store_dir)
        return recorded_dataset(store, dataset), store, store.index(), Path(store_dir)
    if not dataset:
        raise ValueError("--root needs --dataset (the adapter that reads it)")
    adapter = get_adapter(dataset)
    config_keys = sorted(k for k in (options or {}) if k not in adapter.overrides and k in TrainConfig.__dataclass_fields__)
    if config_keys:
        raise ValueError(f"--option {config_keys[0]}=… is a training config field, not an option of the {adapter.name} "
                         f"adapter: pass --set {config_keys[0]}=…{' (or --trunk)' if config_keys[0] == 'init_trunk' else ''}")
    index = adapter.index(root, **(options or {}))
    target = Path(store_dir) if store_dir is not None else Path("data") / adapter.name
    return adapter.name, (ClipStore.open(target) if (target / "store.json").is_file() else None), index, target


def make_store(dataset: str, root: str | Path | None, target: Path, store: ClipStore | None, index: Any, side: int,
               workers: int | None = 1, progress: bool = True) -> ClipStore:
    """The clip store of ``index`` at ``target`` (crops of ``side`` pixels): preprocessed from ``root`` (resumable: clips
    already there are skipped), or ``store`` itself when there is no ``root``."""
    if root is None:
        if store is None:
            raise ValueError(f"no clip store for {dataset}")
        return store
    if dataset == "london":  # photos: its preprocessing renders morph clips
        return build_london_store(root, target, side=side, progress=progress)
    preprocess_index(index, target, side=side, workers=workers, progress=progress)
    return ClipStore.open(target)


def time_one_step(cfg: TrainConfig, num_classes: int, side: int = 64, steps: int = TIMED_STEPS
                  ) -> tuple[float, tuple[float, float], str]:
    """Seconds per clip of a training step (forward + backward) of ``cfg``'s model on two random
    clips: the median of ``steps`` timed steps after a warm-up step, their (min, max), and how it
    was measured. Frames are ``side`` pixels and the times are scaled by the area to
    ``cfg.input_side`` (the per-frame CNN dominates and its cost grows with the area): a planning
    estimate, not a benchmark."""
    model = build_model(cfg.method, cfg.profile, num_classes=num_classes, variant=cfg.variant,
                        **{k: v for k, v in cfg.model_overrides.items() if k != "num_classes"})
    model.train()
    s = min(side, cfg.input_side) if cfg.input_side else 0
    data = example_batch(cfg.method, cfg.profile, 2, num_frames=cfg.num_frames, input_side=s or None)
    args = model_inputs(cfg.method, data, stgcn_normalise=cfg.stgcn_normalise)
    times = []
    for _ in range(steps + 1):  # the first step warms up (allocations, autograd) and is not counted
        t0 = time.perf_counter()
        logits, _ = model(*args)
        torch.nn.functional.cross_entropy(logits, data["label"] % num_classes).backward()
        model.zero_grad(set_to_none=True)
        times.append((time.perf_counter() - t0) / 2)
    times = times[1:]
    scale = (cfg.input_side / s) ** 2 if s and cfg.input_side > s else 1.0
    how = f"median of {steps} timed steps"
    if scale > 1:
        how += f" at {s} px, × {scale:.1f} for {cfg.input_side} px"
    return statistics.median(times) * scale, (min(times) * scale, max(times) * scale), how


def clip_frames(source: str) -> int:
    """Frames of one clip without decoding pixels: images in a frame folder, or a video's header
    frame count (0 when it cannot be read)."""
    path = Path(source)
    if path.is_dir():
        return sum(1 for p in path.iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg", ".bmp"))
    if path.is_file() and path.stat().st_size:
        import cv2

        cap = cv2.VideoCapture(str(path))
        try:
            return max(int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        finally:
            cap.release()
    return 0


def estimate_store_bytes(index: Any, side: int, sample: int = 24) -> int:
    """Bytes a clip store of ``index`` at ``side`` px takes at most (uint8 frames, landmarks,
    flags): the mean frame count of up to ``sample`` clips spread over the index (frame folders
    counted, video headers read: no pixels), times the clips."""
    df = index.df
    if "n_frames" in df.columns:
        frames = float(pd.to_numeric(df["n_frames"], errors="coerce").fillna(0).mean())
    else:
        step = max(1, len(df) // sample)
        counts = [clip_frames(src) for src in df["source"].iloc[::step][:sample]]
        frames = sum(counts) / max(len(counts), 1)
    return int(len(df) * frames * (side * side * 3 + FRAME_OVERHEAD))


def check_disk(target: Path, need: int) -> str | None:
    """An error line when the disk holding ``target`` has less free space than ``need`` bytes."""
    probe = target
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if need > free:
        return (f"disk: the store {target} needs about {need / 2**30:.1f} GiB, {probe} has {free / 2**30:.1f} GiB free; "
                f"free space or pass --store on another disk")
    return None


def _trunk_line(cfg: TrainConfig) -> tuple[str, str | None]:
    """The plan's trunk line and, when the trunk cannot be had, its error line."""
    if not cfg.init_trunk:
        return "random initialisation (the recipe names no pretrained trunk)", None
    plan = trunk_plan(cfg.init_trunk, cfg.method, cfg.profile)
    if plan["status"] != "error":
        return describe_trunk(cfg.init_trunk, cfg.method, cfg.profile), None
    if cfg.init_trunk == SYNTH_FRAMES and plan["file"] and not Path(plan["file"]).exists():  # made before training
        return (f"trunk of {cfg.method} ({plan['architecture']}): {SYNTH_FRAMES!r} → {plan['file']} (missing; made "
                f"before training: frame pre-training on generated faces, ≈ 1 min)"), None
    where = f" → {plan['file']}" if plan["file"] else ""
    return (f"trunk of {cfg.method} ({plan['architecture']}): {cfg.init_trunk!r}{where} (cannot be had: see ERROR)",
            f"trunk of {cfg.method}: {plan['message']}")


def _left_out(index: Any) -> str:
    n = len(getattr(index, "left_out", []) or [])
    return f" ({n} more cannot be labelled: left out, listed in the store's left_out.csv)" if n else ""


def _hms(seconds: float) -> str:
    if seconds != seconds:
        return "unknown"
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return f"{h} h {m:02d} min" if h else f"{m} min {s:02d} s"


def resolve_init_from(value: str, method: str, runs_dir: Path) -> str:
    """A recipe's ``init_from``: a file path as is; ``run:<dataset>`` → the first fold's ``best.pt``
    of this method's paper-recipe run on that data set under ``runs_dir`` (error naming the
    command that makes it when there is none)."""
    if not value.startswith("run:"):
        return value
    ds = value[4:]
    found = sorted(p for p in runs_dir.glob(f"*/{method}/full/*/best.pt")
                   if dataset_key(TrainConfig.load(p.parent / "config.json").dataset or "") == ds)
    if not found:
        raise FileNotFoundError(
            f"the {method} recipe starts from its {ds} model, and {runs_dir} holds no finished {method} run on {ds} "
            f"(*/{method}/full/<fold>/best.pt); run `python -m ferlib reproduce {method} --dataset {ds} --root …` first, "
            f"or pass --init-from PATH")
    return str(found[0])


def plan_method(method: str, dataset: str, index: Any, runs_dir: Path, store_name: str, recipe: str = "paper",
                smoke: bool = False, folds: list[int] | None = None, time_step: bool = True,
                **overrides: Any) -> MethodPlan:
    """The :class:`MethodPlan` of ``method`` on ``dataset``: recipe, config, folds and the printed
    plan; what cannot be had without the pixels (trunk file, ``init_from`` file) is in ``errors``."""
    name = "demo" if smoke else recipe
    rec = get_recipe(method, dataset, name)
    kw = {**(SMOKE if smoke else {}), **overrides}
    cfg = resolve_config(method, rec.profile, dataset=dataset, recipe=name, **kw)
    proto, proto_kw = rec.protocol, dict(rec.protocol_kwargs)
    if smoke and proto == "subject_kfold":
        proto_kw["k"] = min(int(proto_kw.get("k", 10)), max(2, len(set(index.subjects)) // 2))
    every = get_protocol(proto, index, **proto_kw)
    if smoke and folds is None:
        folds = [0]
    if folds is not None:
        bad = [f for f in folds if not 0 <= f < len(every)]
        if bad:
            raise ValueError(f"folds {bad} do not exist: {proto} gives {len(every)} folds (positions 0..{len(every) - 1})")
    splits = every if folds is None else [every[f] for f in folds]
    exp = "full" if name == "paper" else f"full@{'smoke' if smoke else name}"
    plan = MethodPlan(method, rec, cfg, proto, proto_kw, folds, len(every), splits, runs_dir / store_name / method / exp)
    trunk_line, trunk_error = _trunk_line(cfg)
    if trunk_error:
        plan.errors.append(trunk_error)
    if cfg.init_from and not cfg.init_from.startswith("run:") and not Path(cfg.init_from).is_file():
        plan.errors.append(f"init_from of {method}: {cfg.init_from} is not a file")
    how = "not timed"
    time_step = time_step and not plan.errors  # a plan that cannot run is not worth the seconds of timing
    if time_step:
        plan.seconds_per_clip, plan.spread, how = time_one_step(cfg, len(index.classes))
    n_train = [len(s.train) for s in splits]
    n_test = [len(s.test) for s in splits]
    plan.lines = [
        f"{method} on {dataset} — recipe {rec.key!r} ({'smoke: demo recipe, 1 epoch' if smoke else rec.name})",
        f"  protocol   {proto} {proto_kw}  [{rec.sources['protocol']}]",
        f"  folds      {len(splits)} run: {', '.join(s.name for s in splits[:6])}{' …' if len(splits) > 6 else ''}",
        f"  clips      {len(index)} in the data set{_left_out(index)}; train {min(n_train)}–{max(n_train)}, test {min(n_test)}–{max(n_test)} "
        f"per fold (a validation split is carved by subject from train)",
        f"  model      {method} ({cfg.profile} model, {cfg.input_side or 'landmarks'} px, {cfg.num_frames} frames "
        f"{cfg.sampler} / test {cfg.test_sampler or cfg.sampler})",
        f"  schedule   {cfg.optimizer} lr {cfg.lr:g}, {cfg.schedule} {cfg.milestones or ''} ×{cfg.gamma:g}, "
        f"{cfg.epochs} epochs, batch {cfg.batch_size}, augmentation {cfg.augmentation if cfg.augment else 'none'}",
        f"  trunk      {trunk_line}",
    ]
    if cfg.init_from:
        plan.lines.append(f"  starts     from {cfg.init_from}  [{rec.sources.get('init_from', '')}]")
    if time_step:
        lo, hi = (sum(n_train) * cfg.epochs * r for r in plan.spread)
        plan.lines.append(f"  estimate   {_hms(plan.estimate_s)} of training on this machine (range {_hms(lo)} – {_hms(hi)}; "
                          f"{plan.seconds_per_clip * 1000:.0f} ms a clip, {plan.spread[0] * 1000:.0f}–"
                          f"{plan.spread[1] * 1000:.0f} ms: {how}; {sum(n_train)} training clips × {cfg.epochs} epochs)")
    else:
        plan.lines.append(f"  estimate   not timed{' (the plan holds errors)' if plan.errors else ''}")
    plan.lines.append(f"  writes     {plan.out_dir}")
    plan.lines += [f"  ERROR      {e}" for e in plan.errors]
    return plan


def reproduce(method: str, dataset: str | None = None, root: str | Path | None = None, store: str | Path | None = None,
              runs_dir: str | Path = "runs", figures_dir: str | Path = "figures/reproduce", recipe: str = "paper",
              smoke: bool = False, dry_run: bool = False, folds: list[int] | None = None, workers: int | None = 1,
              init_from: str | None = None, options: dict[str, Any] | None = None, estimate: bool = True,
              echo: Callable[[str], None] = print, **overrides: Any) -> dict[str, Any]:
    """Run ``method`` (or ``"all"``) on a data set as its paper did; returns ``{method: result}``
    with each method's fold tables (``folds`` in percent, ``table`` as collated), paper comparison, run
    folder and number of folds of its protocol (empty under ``dry_run``). Everything that
    can be checked without the pixels — method names, recipes, the layout of ``root``, folds,
    trunk files, ``init_from`` runs, disk space — is checked before anything is written: a plan
    with errors is printed and raises :class:`PlanError` (under ``dry_run`` too). ``overrides``
    are config fields (``init_trunk``, ``epochs``, …) that replace the recipe's."""
    runs = Path(runs_dir)
    if method != "all":
        method_spec(method)  # an unknown name fails here
    # the data set's name first (from the store or the adapter), to check every recipe before any work
    ds = dataset
    if root is None and store is not None:
        ds = recorded_dataset(ClipStore.open(store), dataset)
    if ds is None:
        raise ValueError("reproduce needs --dataset with --root")
    methods = methods_for(ds, smoke) if method == "all" else [method]
    recipes = [get_recipe(m, ds, "demo" if smoke else recipe) for m in methods]
    # the store's frame side: the largest input of the models the recipes train (64 px at demo size)
    side = 64 if smoke else max(method_spec(r.method).profiles[r.profile].input_side or 64 for r in recipes)
    ds, st, index, target = index_or_open(dataset, root, store, options)
    store_name = target.name
    plans, errors = [], []
    if st is None and root is not None:
        disk = check_disk(target, estimate_store_bytes(index, side))
        if disk:
            errors.append(disk)
    for m in methods:
        kw = dict(overrides)
        rec = get_recipe(m, ds, "demo" if smoke else recipe)
        source = init_from or rec.fields.get("init_from")
        if source:
            try:
                kw["init_from"] = resolve_init_from(source, m, runs)
            except FileNotFoundError as err:
                kw["init_from"] = source
                errors.append(str(err))
        plans.append(plan_method(m, ds, index, runs, store_name, recipe, smoke, folds,
                                 time_step=estimate and not errors and not any(p.errors for p in plans), **kw))
    for p in plans:
        echo("\n".join(p.lines))
    for e in errors:  # those of no single plan (init_from runs, disk)
        echo(f"ERROR {e}")
    errors = [e for p in plans for e in p.errors] + errors
    if errors:
        raise PlanError(f"the plan holds {len(errors)} error{'s' if len(errors) > 1 else ''} (the ERROR lines above); "
                        f"nothing was preprocessed or trained")
    if dry_run:
        echo("dry run: nothing trained")
        return {}
    st = make_store(ds, root, target, st, index, side, workers)
    ensure_synth_frames([p.config.init_trunk for p in plans])
    results: dict[str, Any] = {}
    for p in plans:
        table = cross_validate(p.method, st, p.protocol, p.config.profile, p.out_dir, folds=p.folds,
                               protocol_kwargs=p.protocol_kwargs, recipe="demo" if smoke else recipe,
                               **{k: v for k, v in p.config.to_dict().items() if k in _RUN_FIELDS or k in overrides})
        results[p.method] = {**write_tables(p, table, ds, Path(figures_dir), echo), "table": table, "run": p.out_dir,
                             "total_folds": p.total_folds}
    return results


#: config fields reproduce passes on (the rest come from the recipe inside cross_validate)
_RUN_FIELDS = ("epochs", "val_fraction", "init_trunk", "progress", "eval_test_each_epoch", "init_from", "seed",
               "num_workers", "device", "batch_size")


def write_tables(plan: MethodPlan, table: pd.DataFrame, dataset: str, figures_dir: Path,
                 echo: Callable[[str], None] = print) -> dict[str, Any]:
    """The per-fold table and, when the paper reports ``dataset``, its table with ours beside it:
    CSV + Markdown + PNG in ``figures_dir/<dataset>/``. Returns the tables."""
    out = figures_dir / dataset
    stem = f"{plan.method}_{plan.out_dir.name.replace('@', '_')}"
    folds = fold_results_table(table)
    save_table(folds, out, f"{stem}_folds")
    label = ours_label(dataset, table, plan.total_folds)
    result: dict[str, Any] = {"folds": folds, "paper": None}
    spec = method_spec(plan.method)
    if dataset_key(dataset) in spec.papers.main:
        vs = paper_comparison(plan.method, table, label, dataset=dataset)
        save_table(vs, out, f"{stem}_vs_paper")
        result["paper"] = vs
        key, column = spec.papers.main[dataset_key(dataset)]
        theirs = paper_table(key)
        paper_value = float(theirs.loc[vs.attrs["paper_row"], column])  # the one row paper_comparison matched
        fig = reproduce_figure(table, paper_value, f"{plan.method} on {dataset}: ferlib per fold vs the paper",
                               f"paper, {theirs.attrs['source']} ({column})")
    else:
        echo(f"no paper reports {plan.method} on {dataset}: only our table is written")
        fig = reproduce_figure(table, None, f"{plan.method} on {dataset}: ferlib per fold", "")
    save_figure(fig, out, f"{stem}_vs_paper" if result["paper"] is not None else f"{stem}_folds")
    echo(f"{plan.method}: {label}: accuracy {100 * table.loc['mean', 'accuracy']:.2f} %, "
         f"UAR {100 * table.loc['mean', 'uar']:.2f} %; tables in {out}")
    return result


# --------------------------------------------------------------------------- command line

def add_arguments(parser: argparse.ArgumentParser) -> None:
    """``python -m ferlib reproduce`` options."""
    parser.add_argument("method", nargs="?", help="a method or 'all' (every method whose paper reports the data set)")
    parser.add_argument("--method", dest="method_option", metavar="METHOD", help="the same as the positional METHOD")
    parser.add_argument("--dataset", help=f"the data set: {', '.join(sorted(DATASET_PROTOCOLS))}")
    parser.add_argument("--root", help="the data set as distributed (read by its adapter)")
    parser.add_argument("--store", help="a clip store (made by preprocess) — or where --root's store goes (default data/<dataset>)")
    parser.add_argument("--recipe", default="paper", help="'paper' (the paper's text, default) or an alternative such as 'official'")
    parser.add_argument("--smoke", action="store_true", help="demo recipe, small models, 1 epoch, first fold (seconds)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan and stop (exit status 2 when the plan holds an error)")
    parser.add_argument("--no-estimate", action="store_true", help="skip the timed training step of the plan")
    parser.add_argument("--folds", nargs="*", type=int, default=None, help="fold positions (default: all)")
    parser.add_argument("--runs", default="runs", help="runs folder (default runs/)")
    parser.add_argument("--figures", default="figures/reproduce", help="tables and figures folder")
    parser.add_argument("--workers", type=int, default=1, help="preprocessing processes")
    parser.add_argument("--init-from", default=None, help="a ferlib checkpoint to start from (replaces the recipe's)")
    parser.add_argument("--trunk", metavar="PATH|NAME", default=None,
                        help="init_trunk instead of the recipe's: '' | imagenet | emotion-fan | synth-frames | a file")
    add_key_value_option(parser, "--set", "config field instead of the recipe's, e.g. epochs=10", dest="sets")
    add_key_value_option(parser, "--option", "adapter option, e.g. protocol=official")


def run(args: argparse.Namespace) -> int:
    """Entry point of ``python -m ferlib reproduce``."""
    if args.method and args.method_option and args.method != args.method_option:
        raise ValueError(f"two methods given: {args.method!r} and --method {args.method_option!r}")
    method = args.method or args.method_option
    if not method:
        raise ValueError("reproduce needs a method (or 'all'): `reproduce fan …` or `reproduce --method fan …`")
    overrides = key_values(args.sets)
    if args.trunk is not None:
        overrides["init_trunk"] = args.trunk
    reproduce(method, args.dataset, args.root, args.store, args.runs, args.figures, args.recipe, args.smoke,
              args.dry_run, args.folds, args.workers, args.init_from, key_values(args.option),
              estimate=not args.no_estimate, **overrides)
    return 0
