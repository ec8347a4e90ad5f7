"""What the notebooks share: opening the chosen data set, training (or finding) a method's runs
under the notebook profile, and reading a finished run back.

Notebook profiles map onto training like this (the recipe is the method's for the data set of
the store, :mod:`ferlib.train.recipes`):

========  ===============  =================================================================
profile   recipe           what runs
========  ===============  =================================================================
smoke     ``demo``         3 generated subjects in 3 folds (a real store: its protocol), the
                           first fold only, 1 epoch (tests)
demo      ``demo``         the data set's protocol (generated: 5 subject folds), the first
                           fold only, the demo schedule on the small models
paper     ``paper``        every fold of the recipe's protocol, the paper's schedule and model
========  ===============  =================================================================

Runs live in ``<runs_dir>/<dataset>/<method>/<variant>/<fold>/`` (the layout of
:func:`ferlib.train.cv.cross_validate`); a finished run is never retrained, so a notebook run a
second time only reads. With ``train=False`` (``make figures``) a missing run raises
:class:`FileNotFoundError` naming the folder and the notebook that makes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ferlib.data import ClipStore
from ferlib.notebook_params import PROFILES, check_choice
from ferlib.synth import SynthConfig, generate

SYNTH_DATASETS = {"synth-lab": "lab", "synth-lab-return": "lab-return", "synth-wild": "wild"}
SYNTH_SIZES = {
    "smoke": dict(n_subjects=3, n_frames=8),
    "demo": dict(n_subjects=30, n_frames=16),
    "paper": dict(n_subjects=100, n_frames=32),
}
@dataclass(frozen=True)
class TrainPlan:
    """How a notebook profile trains a method on a store: the model profile, the recipe's name, the
    protocol and its kwargs (``None``: the recipe's), the folds (positions; ``None``: all) and
    TrainConfig overrides."""

    model_profile: str
    recipe: str
    protocol: str | None
    protocol_kwargs: dict[str, Any]
    folds: list[int] | None
    overrides: dict[str, Any]


def train_plan(profile: str, generated: bool = True) -> TrainPlan:
    """The :class:`TrainPlan` of a notebook profile (see the module table); ``generated`` says
    whether the store is a generated one (smoke then uses 3 subject folds of its 3 subjects)."""
    check_choice("profile", profile, PROFILES)
    if profile == "smoke":
        proto, kw = ("subject_kfold", {"k": 3}) if generated else (None, {})
        return TrainPlan("demo", "demo", proto, kw, [0], {"epochs": 1, "val_fraction": 0.5, "init_trunk": "", "progress": False})
    if profile == "demo":
        return TrainPlan("demo", "demo", None, {}, [0], {"progress": False})
    return TrainPlan("paper", "paper", None, {}, None, {})


def plan_splits(method: str, store: ClipStore, profile: str) -> list[Any]:
    """Every split (fold) the plan of ``profile`` would use for ``method`` on ``store``."""
    from ferlib.data.protocols import get_protocol
    from ferlib.train.config import resolve_config
    from ferlib.train.cv import recipe_protocol

    plan = train_plan(profile, store.dataset.startswith("synth"))
    proto, kwargs = plan.protocol, plan.protocol_kwargs
    if proto is None:
        cfg = resolve_config(method, plan.model_profile, dataset=store.dataset, recipe=plan.recipe)
        proto, kwargs = recipe_protocol(cfg, store.dataset, kwargs)
    return get_protocol(proto, store.index(), **kwargs)


def dataset_folder_name(dataset: str, profile: str) -> str:
    """The folder name a notebook data set has under ``data_dir`` and ``runs_dir``:
    ``<dataset>-<profile>`` for the generated sets, the clip store's folder name otherwise."""
    return f"{dataset}-{profile}" if dataset in SYNTH_DATASETS else Path(dataset).name


def open_dataset(dataset: str, profile: str, data_dir: str | Path = "data", seed: int = 0) -> ClipStore:
    """The clip store a notebook works on.

    ``dataset`` is a generated set (``synth-lab``, ``synth-lab-return``, ``synth-wild``: made on
    first use in ``<data_dir>/<dataset>-<profile>``, sized by the profile) or the folder of a clip
    store made by ``python -m ferlib preprocess`` from a real data set."""
    check_choice("profile", profile, PROFILES)
    if dataset in SYNTH_DATASETS:
        name = SYNTH_DATASETS[dataset]
        wild = name == "wild"
        cfg = SynthConfig(profile=name, seed=seed, clips_per_subject=5 if wild else 0, include_neutral=wild,
                          **SYNTH_SIZES[profile])
        return generate(Path(data_dir) / dataset_folder_name(dataset, profile), cfg)
    path = Path(dataset)
    if not path.exists():
        raise FileNotFoundError(
            f"notebook parameter dataset={dataset!r}: not a generated data set ({sorted(SYNTH_DATASETS)}) and "
            f"{path} does not exist; preprocess a data set into a clip store first (README, 'Real data sets')")
    return ClipStore.open(path)


def run_dir(runs_dir: str | Path, store: ClipStore, method: str, variant: str = "full") -> Path:
    """``<runs_dir>/<dataset>/<method>/<variant>``: one experiment, one sub-folder per fold."""
    return Path(runs_dir) / store.root.name / method / variant


def method_recipe(method: str, store: ClipStore, profile: str) -> Any:
    """The :class:`~ferlib.train.recipes.Recipe` the notebook ``profile`` trains ``method`` with on
    ``store`` (its ``table()`` lists every value with its source)."""
    from ferlib.train.recipes import get_recipe

    return get_recipe(method, store.dataset or "synth", train_plan(profile, store.dataset.startswith("synth")).recipe)


def method_notebook(method: str) -> str:
    """The notebook that trains ``method``'s runs (named in errors when a run is missing)."""
    from ferlib.models.registry import method_spec

    return method_spec(method).notebook or "the notebook that trains it"


def run_method(method: str, store: ClipStore, profile: str, runs_dir: str | Path = "runs", variant: str = "full",
               train: bool = True, folds: list[int] | None = None, model_overrides: dict[str, Any] | None = None,
               **overrides: Any) -> pd.DataFrame:
    """Cross-validate ``method``/``variant`` under the notebook ``profile`` and return the fold table
    (:func:`ferlib.train.cv.collate`: accuracy, UAR, … per fold plus ``mean``/``std`` rows).

    Finished folds are read, not retrained. ``train=False`` only reads and raises
    :class:`FileNotFoundError` naming the missing folder. ``folds`` (positions) replaces the
    profile's; a position the protocol does not have raises ``ValueError`` naming the positions
    and fold names that exist. A test fold with fewer than 5 clips of a class is warned about
    (:func:`ferlib.train.guards.warn_small_test_fold`). ``overrides`` are TrainConfig fields on top
    of the profile's."""
    from ferlib.train.cv import collate, cross_validate, resolve_folds
    from ferlib.train.guards import warn_small_test_fold

    plan = train_plan(profile, store.dataset.startswith("synth"))
    out = run_dir(runs_dir, store, method, variant)
    chosen = folds if folds is not None else plan.folds
    index = store.index()
    splits = plan_splits(method, store, profile)
    if chosen is not None:
        try:
            splits = resolve_folds(splits, chosen, plan.protocol)
        except ValueError as exc:
            raise ValueError(f"notebook parameter folds={list(chosen)!r} (profile {profile!r}): {exc}") from None
    if not train:
        names = [s.name for s in splits]
        missing = [n for n in names if not (out / n / "metrics.json").is_file()]
        if missing:
            raise FileNotFoundError(
                f"no finished run in {out}/{missing[0]} (metrics.json missing); run {method_notebook(method)} with "
                f"train=True (or `make demo`) first")
        for split in splits:
            warn_small_test_fold(index, split)
        return collate(out, names)
    kw = {**plan.overrides, **overrides}
    return cross_validate(method, store, plan.protocol, plan.model_profile, out, folds=chosen, variant=variant,
                          protocol_kwargs=plan.protocol_kwargs, model_overrides=model_overrides, recipe=plan.recipe, **kw)


def fold_dirs(experiment: str | Path) -> list[Path]:
    """The finished fold folders (holding ``metrics.json``) of one experiment, sorted."""
    exp = Path(experiment)
    found = sorted(p.parent for p in exp.glob("*/metrics.json"))
    if not found:
        raise FileNotFoundError(f"no finished folds (*/metrics.json) in {exp}")
    return found


def load_metrics(fold_dir: str | Path) -> dict[str, Any]:
    """``metrics.json`` of one fold (accuracy, uar, per_class, confusion, history …)."""
    return json.loads((Path(fold_dir) / "metrics.json").read_text())


def load_predictions(fold_dir: str | Path) -> pd.DataFrame:
    """``predictions.csv`` of one fold: one row per test clip."""
    return pd.read_csv(Path(fold_dir) / "predictions.csv")


def load_byproducts(fold_dir: str | Path) -> dict[str, np.ndarray]:
    """``byproducts.npz`` of one fold as a dict of arrays, one leading row per test clip (in the
    order of ``predictions.csv``): the model's extras (``frame_weights`` ``(n, T)``,
    ``embedding`` ``(n, d)``, …) plus ``gt_intensity`` / ``frame_idx`` / ``flags`` ``(n, T)``,
    ``label`` and ``pred`` ``(n,)``."""
    with np.load(Path(fold_dir) / "byproducts.npz") as z:
        return {k: z[k] for k in z.files}


def load_run_model(fold_dir: str | Path, which: str = "best") -> tuple[torch.nn.Module, Any]:
    """The trained model of one fold (``best.pt`` or ``last.pt``) in eval mode, and its
    :class:`~ferlib.train.config.TrainConfig`."""
    from ferlib.train.checkpoint import load_checkpoint
    from ferlib.train.config import TrainConfig
    from ferlib.train.engine import build_run_model

    path = Path(fold_dir) / f"{which}.pt"
    ckpt = load_checkpoint(path)
    cfg = TrainConfig.from_dict(ckpt["config"], str(path))
    model = build_run_model(cfg, len(ckpt["classes"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, cfg
