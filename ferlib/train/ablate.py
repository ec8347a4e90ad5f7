"""Ablation tables from a declarative grid: table name → rows (label, method, variant, overrides).

A grid is plain data (a dict, or the same structure in YAML/JSON)::

    {"fer_gcn_table5": [{"label": "VGG16", "method": "fer_gcn", "variant": "backbone"}, …],
     "kp_lambda":      [{"label": "λ=0.1", "method": "kp_gcn_msa", "variant": "lambda0.1",
                         "overrides": {"epochs": 5}, "model_overrides": {}}, …]}

:func:`ablate` runs each row with :func:`ferlib.train.cv.cross_validate` into
``out_dir/<table>/<label-slug>/<fold>/`` and returns one DataFrame (table, label, method,
variant, mean and std of accuracy and UAR over folds). :data:`PAPER_GRIDS` holds the papers'
tables, gathered from the methods' specs (:func:`paper_grids`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ferlib.data.store import ClipStore
from ferlib.models.registry import available_methods, method_spec
from ferlib.data.protocols import Split
from ferlib.train.config import TrainConfig
from ferlib.train.cv import cross_validate, fold_plan

ROW_KEYS = {"label", "method", "variant", "overrides", "model_overrides"}

def paper_grids() -> dict[str, list[dict[str, Any]]]:
    """Every method's paper ablation grids (``MethodSpec.papers.ablations``) with ``method`` added
    to each row: FER-GCN Table V, FAN's variants and K sweep, KP-GCN-MSA Tables 9–12 and the λ
    sweep, ST-GCN against its multi-stream variant."""
    grids: dict[str, list[dict[str, Any]]] = {}
    for method in available_methods():
        for name, rows in method_spec(method).papers.ablations.items():
            grids[name] = [{**row, "method": method} for row in rows]
    return grids


#: the papers' ablation grids by name (see :func:`paper_grids`)
PAPER_GRIDS: dict[str, list[dict[str, Any]]] = paper_grids()


def slug(text: str) -> str:
    """A folder-safe form of a row label."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_") or "row"


def validate_grid(grid: dict[str, list[dict[str, Any]]]) -> None:
    """Check the grid's structure and every (method, variant) before anything runs."""
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"an ablation grid is a non-empty dict table → rows, got {type(grid).__name__}")
    for table, rows in grid.items():
        if not isinstance(rows, list) or not rows:
            raise ValueError(f"ablation table {table!r} must be a non-empty list of rows")
        seen = set()
        for i, row in enumerate(rows):
            unknown = sorted(set(row) - ROW_KEYS)
            if unknown:
                raise ValueError(f"ablation table {table!r} row {i}: unknown keys {unknown}; expected some of {sorted(ROW_KEYS)}")
            for key in ("label", "method"):
                if key not in row:
                    raise ValueError(f"ablation table {table!r} row {i} needs a {key!r}")
            variants = method_spec(row["method"]).variants
            if row.get("variant", "full") not in variants:
                raise ValueError(f"ablation table {table!r} row {row['label']!r}: unknown variant {row.get('variant')!r} "
                                 f"of {row['method']!r}; expected one of {sorted(variants)}")
            if slug(row["label"]) in seen:
                raise ValueError(f"ablation table {table!r}: two rows share the label {row['label']!r}")
            seen.add(slug(row["label"]))


def row_dir(out_dir: str | Path, table: str, row: dict[str, Any], shared_dir: str | Path | None = None) -> Path:
    """Where one grid row's folds live: ``<shared_dir>/<method>/<variant>`` for a row without overrides
    when ``shared_dir`` is given (the layout of the method notebooks' runs), else
    ``<out_dir>/<table>/<label-slug>``."""
    if shared_dir is not None and not row.get("overrides") and not row.get("model_overrides"):
        return Path(shared_dir) / row["method"] / row.get("variant", "full")
    return Path(out_dir) / table / slug(row["label"])


def ablation_runs(grid: dict[str, list[dict[str, Any]]], store: ClipStore, out_dir: str | Path, protocol: str | None = None,
                  profile: str = "demo", folds: Iterable[int | str] | None = None,
                  protocol_kwargs: dict[str, Any] | None = None, shared_dir: str | Path | None = None,
                  **overrides: Any) -> list[tuple[TrainConfig, Split, Path]]:
    """Every training :func:`ablate` runs for these arguments, in its order: (config, split, run
    folder) a fold of a row (a row shared with ``shared_dir`` once, where its first table has it)."""
    validate_grid(grid)
    runs, seen = [], set()
    for table, rows in grid.items():
        for row in rows:
            where = row_dir(out_dir, table, row, shared_dir)
            cfg, splits = fold_plan(row["method"], store, protocol, profile, where, folds, row.get("variant", "full"),
                                    protocol_kwargs, row.get("model_overrides"), **{**overrides, **row.get("overrides", {})})
            for split in splits:
                if where / split.name not in seen:
                    seen.add(where / split.name)
                    runs.append((cfg, split, where / split.name))
    return runs


def ablate(grid: dict[str, list[dict[str, Any]]] | str, store: ClipStore, out_dir: str | Path, protocol: str | None = None,
           profile: str = "demo", folds: Iterable[int | str] | None = None, protocol_kwargs: dict[str, Any] | None = None,
           tables: Iterable[str] | None = None, shared_dir: str | Path | None = None, **overrides: Any) -> pd.DataFrame:
    """Run every row of ``grid`` (or of ``PAPER_GRIDS[grid]`` when a name is given; ``tables``
    picks some) and return the ablation table. ``overrides`` (TrainConfig fields) apply to all
    rows; a row's own ``overrides`` win. ``protocol=None`` takes each method's recipe protocol for
    the store's data set. With ``shared_dir``, a row that is a plain (method, variant) — no
    overrides of its own — runs in ``shared_dir/<method>/<variant>`` (:func:`row_dir`), where the
    method notebooks keep the same runs: a model is trained once."""
    if isinstance(grid, str):
        if grid not in PAPER_GRIDS:
            raise ValueError(f"unknown ablation grid {grid!r}; expected one of {sorted(PAPER_GRIDS)} or a dict")
        grid = {grid: PAPER_GRIDS[grid]}
    if tables is not None:
        tables = list(tables)
        missing = sorted(set(tables) - set(grid))
        if missing:
            raise ValueError(f"tables {missing} are not in the grid; it has {sorted(grid)}")
        grid = {t: grid[t] for t in tables}
    validate_grid(grid)
    out = Path(out_dir)
    records = []
    for table, rows in grid.items():
        for row in rows:
            kw = {**overrides, **row.get("overrides", {})}
            res = cross_validate(row["method"], store, protocol, profile, row_dir(out, table, row, shared_dir), folds=folds,
                                 variant=row.get("variant", "full"), protocol_kwargs=protocol_kwargs,
                                 model_overrides=row.get("model_overrides"), **kw)
            records.append({
                "table": table, "label": row["label"], "method": row["method"], "variant": row.get("variant", "full"),
                "accuracy": res.loc["mean", "accuracy"], "accuracy_std": res.loc["std", "accuracy"],
                "uar": res.loc["mean", "uar"], "uar_std": res.loc["std", "uar"],
                "best_test_accuracy_leaky": res.loc["mean", "best_test_accuracy_leaky"], "folds": len(res) - 2,
            })
    df = pd.DataFrame(records)
    out.mkdir(parents=True, exist_ok=True)  # not made by the rows when every one runs in shared_dir
    df.to_csv(out / "ablation.csv", index=False)
    return df
