"""Result tables of the training and ablation notebooks (02–06) and of ``reproduce``, and how a table is written.

* :func:`pooled_confusion` — the confusion counts of several folds summed;
* :func:`fold_results_table` — the per-fold table of :func:`ferlib.train.cv.collate` in percent,
  with the epoch chosen on validation and the papers' leaky best-test-epoch columns labelled;
* :func:`comparison_table` — our numbers beside a paper's, each column saying which data set and
  protocol it is (the data sets differ: the paper's are licence-restricted, ours are generated);
  :func:`paper_comparison`, :func:`per_class_comparison` and :func:`ablation_vs_paper` build it for
  a method's headline table, its per-class accuracies and an ablation table;
  :func:`paper_series` gives an ablation grid's paper values per row; :func:`ours_label` names our side;
* :func:`save_table` — ``<name>.csv`` and ``<name>.md`` (Markdown) of a table.

:mod:`ferlib.viz.results` draws these results.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ferlib.models.registry import method_spec
from ferlib.paper_numbers import PAPER_TABLES, paper_per_class, paper_table
from ferlib.train.ablate import PAPER_GRIDS
from ferlib.train.recipes import dataset_key

__all__ = ["FOLD_COLUMN_LABELS", "pooled_confusion", "fold_results_table", "comparison_table", "ours_label",
           "main_paper_table", "paper_comparison", "per_class_comparison", "ablation_vs_paper", "paper_series", "paper_row",
           "save_table"]

#: how :func:`fold_results_table` names the columns of a collate table
FOLD_COLUMN_LABELS = {
    "accuracy": "accuracy = WAR (%)",
    "uar": "UAR (%)",
    "selected_epoch": "epoch chosen on validation",
    "best_test_accuracy_leaky": "best test accuracy (%) [leaky: papers' style]",
    "best_test_uar_leaky": "best test UAR (%) [leaky]",
    "best_test_epoch_leaky": "best test epoch [leaky]",
}


_PERCENT = ("accuracy", "uar", "best_test_accuracy_leaky", "best_test_uar_leaky")


def pooled_confusion(metrics: Sequence[dict[str, Any]]) -> tuple[np.ndarray, list[str]]:
    """Sum the ``confusion`` counts ``(C, C)`` of several folds' ``metrics.json`` (same classes)."""
    if not metrics:
        raise ValueError("pooled_confusion needs the metrics of at least one fold")
    classes = list(metrics[0]["classes"])
    total = np.zeros((len(classes), len(classes)), dtype=np.int64)
    for m in metrics:
        if list(m["classes"]) != classes:
            raise ValueError(f"folds have different classes: {classes} vs {list(m['classes'])}")
        total += np.asarray(m["confusion"], dtype=np.int64)
    return total, classes


def fold_results_table(table: pd.DataFrame, decimals: int = 1) -> pd.DataFrame:
    """The fold table of :func:`ferlib.train.cv.collate` (fractions; ``mean``/``std`` rows) in
    percent, with readable column names. The accuracy and UAR columns are measured at the epoch
    chosen on a validation split carved by subject from the training folds; the ``[leaky]``
    columns are the papers' habit of reporting the best epoch on the test fold (optimistic)."""
    missing = [c for c in ("accuracy", "uar") if c not in table.columns]
    if missing:
        raise ValueError(f"fold table lacks the columns {missing}; expected the output of ferlib.train.cv.collate")
    cols = [c for c in FOLD_COLUMN_LABELS if c in table.columns]
    out = table[cols].astype(float).copy()
    for c in cols:
        out[c] = out[c] * 100 if c in _PERCENT else out[c]
    out = out.round(decimals)
    out.columns = [FOLD_COLUMN_LABELS[c] for c in cols]
    out.index.name = "fold"
    return out


def _label_columns(df: pd.DataFrame, label: str) -> pd.DataFrame:
    df = df.copy()
    df.columns = [label] if len(df.columns) == 1 else [f"{label}: {c}" for c in df.columns]
    return df


def comparison_table(ours: pd.DataFrame, theirs: pd.DataFrame, ours_label: str, theirs_label: str) -> pd.DataFrame:
    """Our numbers beside the paper's, rows matched by index label.

    Every column is renamed to say whose number it is and on what: a frame with one column takes
    the label as its name (``"ferlib on synth-lab-demo (1 fold)"``), a frame with several columns
    gets ``"<label>: <column>"`` (``"paper, 10-fold CV: CK+"``). Rows: the paper's order, then our
    rows the paper lacks; cells without a number are NaN. The paper's columns come first. Only
    numeric columns are kept (a paper table's ``method``/``variant`` columns are dropped).

    The two sides are measured on different data (the papers' sets are licence-restricted; ours
    is generated): the table places them side by side, it does not claim that they compare."""
    if not ours_label or not theirs_label:
        raise ValueError("comparison_table needs non-empty ours_label and theirs_label (say data set and protocol)")
    if ours_label == theirs_label:
        raise ValueError(f"ours_label and theirs_label are both {ours_label!r}; they must tell the sides apart")
    a = _label_columns(theirs.select_dtypes("number"), theirs_label)
    b = _label_columns(ours.select_dtypes("number"), ours_label)
    if a.shape[1] == 0 or b.shape[1] == 0:
        raise ValueError("comparison_table needs at least one numeric column on each side")
    order = list(a.index) + [i for i in b.index if i not in set(a.index)]
    out = a.join(b, how="outer").reindex(order)
    out.index.name = theirs.index.name or ours.index.name or "row"
    out.attrs.update(ours_label=ours_label, theirs_label=theirs_label)
    return out


def ours_label(dataset: str, folds: pd.DataFrame | int, total_folds: int | None = None) -> str:
    """``"ferlib on <dataset> (1 of 5 folds)"`` (the tables' "Ours" is always the paper's own); ``folds`` is a collate table (its ``mean``/``std``
    rows are not folds) or the number of folds run."""
    n = folds if isinstance(folds, int) else len([i for i in folds.index if i not in ("mean", "std")])
    of = f" of {total_folds}" if total_folds and total_folds != n else ""
    return f"ferlib on {dataset} ({n}{of} fold{'s' if (total_folds or n) != 1 else ''})"


def main_paper_table(method: str, dataset: str | None = None) -> tuple[str, str]:
    """``(table key, column)`` of ``method``'s headline paper number on ``dataset`` (its spec's
    ``papers.main``); for a data set the paper does not report (a generated one), the first."""
    main = method_spec(method).papers.main
    if not main:
        raise KeyError(f"no main paper table for method {method!r}")
    key = dataset_key(dataset) if dataset else ""
    return main[key] if key in main else next(iter(main.values()))


def paper_comparison(method: str, fold_table: pd.DataFrame, label: str, variant: str = "full",
                     dataset: str | None = None) -> pd.DataFrame:
    """The method's main paper table for ``dataset`` (:func:`main_paper_table`) in the paper's row
    format with our mean accuracy (= WAR) and UAR (%) over the folds of ``fold_table`` in the row of
    the paper's own model (the row whose ferlib ``variant`` is ``variant``)."""
    key, _ = main_paper_table(method, dataset)
    theirs = paper_table(key)
    mine = theirs.index[(theirs["method"] == method) & (theirs["variant"] == variant)]
    if len(mine) != 1:  # several rows of one variant differ by a setting (FAN's K): none of them is "the" row
        raise KeyError(f"paper table {key!r} has {len(mine)} rows for {method!r} variant {variant!r}, expected one")
    how = f"paper, {theirs.attrs['source']}"
    numeric = theirs.select_dtypes("number")
    theirs = numeric[["UAR", "WAR"]] if {"UAR", "WAR"} <= set(numeric.columns) else numeric
    row = fold_table.loc["mean"] if "mean" in fold_table.index else fold_table.mean(numeric_only=True)
    ours = pd.DataFrame({"accuracy = WAR (%)": [100 * float(row["accuracy"])], "UAR (%)": [100 * float(row["uar"])]},
                        index=[mine[0]]).round(2)
    out = comparison_table(ours, theirs, label, how)
    out.attrs.update(paper_table=key, paper_row=mine[0])
    return out


def per_class_comparison(method: str, metrics: Sequence[dict[str, Any]], label: str,
                         dataset: str | None = None) -> pd.DataFrame:
    """Per-class accuracy (recall, %) pooled over the folds' ``metrics.json`` beside the papers'
    per-class numbers (the spec's ``papers.per_class``: FER-GCN Tables II–IV diagonals, KP-GCN-MSA Tables 3/5/7;
    only ``dataset``'s table when the paper has one for it, else all of them),
    one row per class (ours first, then classes only the papers have)."""
    per_class = method_spec(method).papers.per_class
    key = dataset_key(dataset) if dataset else ""
    tables = (per_class[key],) if key in per_class else tuple(per_class.values())
    if not tables:
        raise KeyError(f"the {method!r} paper reports no per-class accuracy")
    cm, classes = pooled_confusion(metrics)
    rows = cm.sum(1)
    recall = np.where(rows > 0, np.diag(cm) / np.maximum(rows, 1) * 100, np.nan)
    ours = pd.DataFrame({"recall (%)": recall.round(2)}, index=pd.Index(classes, name="class"))
    theirs = pd.concat([paper_per_class(k) for k in tables], axis=1)
    out = comparison_table(ours, theirs, label, "paper")
    order = list(classes) + [c for c in out.index if c not in classes]
    return out.reindex(order)


def ablation_vs_paper(ours: pd.DataFrame, table: str, label: str, paper_label: str | None = None) -> pd.DataFrame:
    """One ablation table of ours (rows of :func:`ferlib.train.ablate.ablate` for ``table``) beside
    the paper's numbers for the same rows (matched by :func:`paper_row`), in percent; with several
    folds, the accuracy's sample standard deviation over them beside its mean."""
    mine = ours[ours["table"] == table]
    if mine.empty:
        raise ValueError(f"no rows of ablation table {table!r} in ours (tables: {sorted(set(ours['table']))})")
    theirs = paper_table(table) if table in PAPER_TABLES else None
    left = pd.DataFrame({"accuracy = WAR (%)": (mine["accuracy"].to_numpy(float) * 100).round(2),
                         "UAR (%)": (mine["uar"].to_numpy(float) * 100).round(2),
                         "best test acc. (%) [leaky]": (mine["best_test_accuracy_leaky"].to_numpy(float) * 100).round(2)},
                        index=pd.Index(list(mine["label"]), name="row"))
    sd = mine["accuracy_std"].to_numpy(float) * 100 if "accuracy_std" in mine else np.full(len(mine), np.nan)
    if np.isfinite(sd).any():
        left.insert(1, "accuracy sd over folds (%)", sd.round(2))
    if theirs is None:
        return left
    nums = theirs.select_dtypes("number").drop(columns=[c for c in theirs.attrs.get("non_percent", []) if c in theirs.columns])
    found = {lab: paper_row(theirs, lab, v) for lab, v in zip(mine["label"], mine["variant"])}
    found = {lab: row for lab, row in found.items() if row is not None}
    right = nums.loc[list(found.values())]
    right.index = list(found)
    how = paper_label or f"paper, {theirs.attrs['source']}" + (f", {right.columns[0]}" if right.shape[1] == 1 else "")
    out = comparison_table(left, right, label, how)
    # our rows first, in the grid's order
    return out.reindex(list(left.index))


def paper_series(table: str, column: str | None = None) -> pd.Series:
    """The paper's value (%) of each row of an ablation grid, keyed by the grid's row label (for
    :func:`ablation_figure`); ``column`` picks the data set (default: the first)."""
    if table not in PAPER_TABLES:
        return pd.Series(dtype=float)
    theirs = paper_table(table)
    col = column or [c for c in theirs.select_dtypes("number").columns if c not in theirs.attrs.get("non_percent", [])][0]
    rows = {r["label"]: paper_row(theirs, r["label"], r.get("variant", "full")) for r in PAPER_GRIDS[table]}
    return pd.Series({lab: float(theirs.loc[row, col]) for lab, row in rows.items() if row is not None}, name=col,
                     dtype=float)


def paper_row(theirs: pd.DataFrame, label: str, variant: str) -> str | None:
    """The row of paper table ``theirs`` that an ablation row stands for: the row of the same
    label, else the one row of ferlib ``variant`` (a grid whose rows share one variant and differ
    by an override, such as FAN's K segments, is matched by label only), else ``None``."""
    if label in theirs.index:
        return label
    same = list(theirs.index[theirs["variant"] == variant])
    return same[0] if len(same) == 1 else None


def save_table(df: pd.DataFrame, figures_dir: str | Path, name: str, floatfmt: str = "g", index: bool = True,
               caption: str = "", empty: str = "") -> Path:
    """Write ``<figures_dir>/<name>.csv`` and ``.md`` (Markdown via ``DataFrame.to_markdown``,
    missing values as "–", numbers in ``floatfmt``; the index as a column unless ``index=False``;
    ``caption`` as a paragraph above the table; ``empty``, when given, as the whole Markdown of a
    table without rows); returns the CSV path."""
    d = Path(figures_dir)
    d.mkdir(parents=True, exist_ok=True)
    df.to_csv(d / f"{name}.csv", index=index)
    if empty and len(df) == 0:
        markdown = empty
    else:
        shown = df.astype(object).where(df.notna(), None)
        markdown = shown.to_markdown(floatfmt=floatfmt, missingval="–", index=index)
    (d / f"{name}.md").write_text((f"{caption}\n\n" if caption else "") + markdown + "\n")
    return d / f"{name}.csv"
