"""Cross-validation: one :func:`ferlib.train.engine.fit` per fold, then mean ± std over folds.

``cross_validate("fer_gcn", store, "subject_kfold", "demo", "runs/fer_gcn_demo")`` writes
``runs/fer_gcn_demo/<fold>/`` (see :mod:`ferlib.train.engine` for the files) and
``runs/fer_gcn_demo/summary.csv`` (one row a fold + mean and std rows). Folds already finished are
read back, unfinished ones resume: re-running the same call after an interruption completes it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ferlib.data.protocols import Split, get_protocol
from ferlib.data.store import ClipStore
from ferlib.train.config import TrainConfig
from ferlib.train.engine import fit
from ferlib.train.recipes import get_recipe, resolve_config

#: metric columns of the fold table
FOLD_COLUMNS = ("accuracy", "uar", "best_test_accuracy_leaky", "best_test_uar_leaky", "selected_epoch", "best_test_epoch_leaky")


def cross_validate(
    method: str,
    store: ClipStore,
    protocol: str | None = None,
    profile: str = "demo",
    out_dir: str | Path = "runs/experiment",
    folds: Iterable[int | str] | None = None,
    variant: str = "full",
    protocol_kwargs: dict[str, Any] | None = None,
    model_overrides: dict[str, Any] | None = None,
    resume: bool = True,
    recipe: str | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Train and test ``method`` on each fold of ``protocol`` (all folds, or ``folds`` given as
    0-based positions or fold names); returns :func:`collate` of the folds run.

    ``overrides`` are :class:`~ferlib.train.config.TrainConfig` fields (epochs, lr, seed, …);
    ``model_overrides`` go to the model constructor. The data set is the store's, so its recipe
    applies (:func:`ferlib.train.recipes.resolve_config`; ``recipe`` names an alternative such as
    ``"official"``); ``protocol=None`` takes the recipe's protocol and its kwargs."""
    index = store.index()
    out = Path(out_dir)
    cfg, splits = fold_plan(method, store, protocol, profile, out, folds, variant, protocol_kwargs, model_overrides,
                            recipe, **overrides)
    for split in splits:
        fit(cfg, store, split, out / split.name, resume=resume, index=index)
    table = collate(out, [s.name for s in splits])
    table.to_csv(out / "summary.csv")
    return table


def fold_plan(method: str, store: ClipStore, protocol: str | None = None, profile: str = "demo",
              out_dir: str | Path = "runs/experiment", folds: Iterable[int | str] | None = None, variant: str = "full",
              protocol_kwargs: dict[str, Any] | None = None, model_overrides: dict[str, Any] | None = None,
              recipe: str | None = None, **overrides: Any) -> tuple[TrainConfig, list[Split]]:
    """The config and the splits :func:`cross_validate` trains with these arguments (each split in
    ``out_dir/<split name>``)."""
    cfg = resolve_config(method, profile, dataset=store.dataset, recipe=recipe, variant=variant,
                         model_overrides=dict(model_overrides or {}), experiment=Path(out_dir).name, **overrides)
    if protocol is None:
        protocol, protocol_kwargs = recipe_protocol(cfg, store.dataset, protocol_kwargs)
    splits = get_protocol(protocol, store.index(), **(protocol_kwargs or {}))
    if folds is not None:
        splits = resolve_folds(splits, folds, protocol)
    return cfg, splits


def recipe_protocol(cfg: Any, dataset: str, protocol_kwargs: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """The protocol (name, kwargs) of the recipe ``cfg`` was resolved from, ``protocol_kwargs`` on top."""
    key = cfg.recipe
    name = "demo" if key == "demo" else key.split(":", 1)[1] if ":" in key else "paper"
    rec = get_recipe(cfg.method, dataset or "synth", name)
    return rec.protocol, {**rec.protocol_kwargs, **(protocol_kwargs or {})}


def resolve_folds(splits: list[Split], folds: Iterable[int | str], protocol: str = "") -> list[Split]:
    """The splits named by ``folds`` (0-based positions or fold names, in the order given); one
    that does not exist raises ``ValueError`` saying which positions and names do."""
    names = [s.name for s in splits]
    chosen = []
    for f in folds:
        if isinstance(f, str) and f in names:
            chosen.append(splits[names.index(f)])
        elif isinstance(f, (int, np.integer)) and not isinstance(f, bool) and 0 <= int(f) < len(splits):
            chosen.append(splits[int(f)])
        else:
            of = f" of {protocol!r}" if protocol else ""
            raise ValueError(f"fold {f!r} is not one of the {len(splits)} folds{of}: positions 0..{len(splits) - 1} "
                             f"or names {names}")
    return chosen


def collate(run_dir: str | Path, folds: Iterable[str] | None = None) -> pd.DataFrame:
    """Fold table of ``run_dir/<fold>/metrics.json`` with ``mean`` and ``std`` rows (sample std,
    ddof = 1, as papers report; NaN for one fold)."""
    run_dir = Path(run_dir)
    names = list(folds) if folds is not None else sorted(p.parent.name for p in run_dir.glob("*/metrics.json"))
    rows = {}
    for name in names:
        path = run_dir / name / "metrics.json"
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: fold {name!r} of {run_dir} has not finished")
        m = json.loads(path.read_text())
        rows[name] = {c: m.get(c, np.nan) for c in FOLD_COLUMNS}
    if not rows:
        raise FileNotFoundError(f"no finished folds (*/metrics.json) in {run_dir}")
    df = pd.DataFrame.from_dict(rows, orient="index").astype(float)
    stats = pd.DataFrame([df.mean(), df.std(ddof=1)], index=["mean", "std"])
    return pd.concat([df, stats])


def mean_std(table: pd.DataFrame, column: str = "accuracy", percent: bool = True) -> str:
    """``"mean ± std"`` of a :func:`collate` column, e.g. ``"97.1 ± 1.2"``."""
    m, s = table.loc["mean", column], table.loc["std", column]
    k = 100.0 if percent else 1.0
    return f"{m * k:.1f} ± {s * k:.1f}" if np.isfinite(s) else f"{m * k:.1f}"
