"""Result figures and tables of the training and ablation notebooks (02–06).

* :func:`confusion_figure` — row-normalised confusion matrix with class names, % and counts
  (the form of FER-GCN Tables II–IV, KP-GCN-MSA Figs. 5–6).
* :func:`fold_results_table` — the per-fold table of :func:`ferlib.train.cv.collate` in percent,
  with the epoch chosen on validation and the papers' leaky best-test-epoch columns labelled.
* :func:`comparison_table` — our numbers beside a paper's, each column saying which data set and
  protocol it is (the data sets differ: the paper's are licence-restricted, ours are generated).
* :func:`ablation_figure` — an ablation table as bars (ours) with the paper's values as markers
  (FER-GCN Table V, FAN variants, KP-GCN-MSA Tables 9–12).
* :func:`lambda_figure` — accuracy against the loss weight λ of eq. 13 (KP-GCN-MSA Fig. 8).
* :func:`fold_results_figure` — the fold table as dots per fold, mean ± std and the paper's value.

Figures are drawn with seaborn under the theme of :mod:`ferlib.viz.style`; the paper's values
are always diamonds in :data:`ferlib.viz.style.PAPER_COLOR`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ferlib.viz.style import OURS_COLOR, PAPER_COLOR, PAPER_MARKER

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


def confusion_figure(confusion: np.ndarray | Sequence[Sequence[float]], classes: Sequence[str], title: str = "",
                     show: str = "both", cmap: str = "Blues") -> Figure:
    """Confusion matrix (rows true class, columns predicted), coloured by the row-normalised share.

    ``confusion``: counts ``(C, C)``. ``show``: what each cell prints — ``"percent"`` (row %),
    ``"counts"`` or ``"both"``. Rows of classes absent from the test set stay empty (0 %)."""
    cm = np.asarray(confusion, dtype=float)
    c = len(classes)
    if cm.shape != (c, c):
        raise ValueError(f"confusion has shape {cm.shape}, expected ({c}, {c}) for classes {list(classes)}")
    if show not in ("percent", "counts", "both"):
        raise ValueError(f"show={show!r}: expected 'percent', 'counts' or 'both'")
    rows = cm.sum(1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    if show == "counts":
        cells = [[f"{int(v)}" for v in row] for row in cm]
    elif show == "percent":
        cells = [[f"{p * 100:.0f}%" for p in row] for row in share]
    else:
        cells = [[f"{p * 100:.0f}%\n({int(v)})" for p, v in zip(prow, row)] for prow, row in zip(share, cm)]
    annot = np.array([[t if v > 0 else "" for t, v in zip(trow, row)] for trow, row in zip(cells, cm)], dtype=object)
    size = 1.2 + 0.62 * c
    fig, ax = plt.subplots(figsize=(size + 1.0, size))
    # empty cells print nothing, so the errors stand out
    sns.heatmap(share * 100, annot=annot, fmt="", cmap=cmap, vmin=0, vmax=100, square=True, linewidths=0.5,
                linecolor="white", xticklabels=list(classes), yticklabels=list(classes), ax=ax,
                annot_kws={"fontsize": 8 if c <= 8 else 6},
                cbar_kws={"label": "share of the true class (%)", "fraction": 0.046, "pad": 0.04})
    ax.set_xticklabels(ax.get_xticklabels(), rotation=40, ha="right")
    ax.set_yticklabels(ax.get_yticklabels(), rotation=0)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    n, correct = int(cm.sum()), int(np.trace(cm))
    summary = f"{correct}/{n} clips correct; blank cells: no clip"
    ax.set_title(f"{title}\n{summary}" if title else summary, fontsize=10)
    fig.tight_layout()
    return fig


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
    the label as its name (``"ours on synth-lab-demo (1 fold)"``), a frame with several columns
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


def ablation_figure(ours: pd.DataFrame, paper: pd.Series | None = None, title: str = "", ours_label: str = "ours",
                    paper_label: str = "paper", metric: str = "accuracy", ylabel: str = "accuracy (%)") -> Figure:
    """Bars (seaborn ``barplot``): our ablation rows (``ours`` from :func:`ferlib.train.ablate.ablate`:
    ``label``, ``metric`` and ``<metric>_std`` as fractions) in percent, with ± std whiskers over
    the folds when there are several; diamonds: the paper's value of the same row (``paper``:
    label → %; rows it lacks get none). The two sides are on different data sets — compare the
    ordering of rows, not the levels."""
    if "label" not in ours.columns or metric not in ours.columns:
        raise ValueError(f"ablation table needs the columns 'label' and {metric!r}; it has {list(ours.columns)}")
    labels = list(ours["label"])
    vals = ours[metric].to_numpy(float) * 100
    std = ours[f"{metric}_std"].to_numpy(float) * 100 if f"{metric}_std" in ours.columns else np.full(len(vals), np.nan)
    x = np.arange(len(labels))
    spread = np.isfinite(std) & np.isfinite(vals)
    bar_label = f"{ours_label}: mean ± std over the folds" if spread.any() else ours_label
    fig, ax = plt.subplots(figsize=(max(4.5, 1.3 * len(labels) + 1.5), 3.8))
    # x = row position (categorical): two rows that wrap to the same text stay two bars
    sns.barplot(x=x, y=vals, color=OURS_COLOR, width=0.6, errorbar=None, label=bar_label, ax=ax)
    if spread.any():
        ax.errorbar(x[spread], vals[spread], yerr=std[spread], fmt="none", ecolor="0.25", elinewidth=1, capsize=4,
                    zorder=3)
    for xi, v in zip(x, vals):
        if np.isfinite(v):
            inside = v > 12  # ours inside the bar's top, so it never meets the paper's label above
            ax.text(xi - (0.12 if inside else 0), v - 1.5 if inside else v + 1, f"{v:.1f}", ha="center",
                    va="top" if inside else "bottom", fontsize=8, color="white" if inside else OURS_COLOR)
    if paper is not None:
        pv = np.array([float(paper.get(lab, np.nan)) for lab in labels])
        if np.isfinite(pv).any():
            ax.scatter(x, pv, label=paper_label, **PAPER_MARKER)
            for xi, v in zip(x, pv):
                if np.isfinite(v):
                    ax.text(xi + 0.12, v, f"{v:.2f}", ha="left", va="center", fontsize=7, color=PAPER_COLOR)
    ax.set_xticks(x, labels=[_wrap(lab) for lab in labels], fontsize=8)
    ax.set_ylim(0, 112)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("ablation row")
    ax.grid(axis="x", visible=False)
    handles, names = ax.get_legend_handles_labels()
    first = sorted(range(len(names)), key=lambda i: names[i] != bar_label)  # ours first, then the paper
    ax.legend([handles[i] for i in first], [names[i] for i in first], fontsize=8, loc="upper center",
              bbox_to_anchor=(0.5, -0.32), ncol=2, frameon=False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def _wrap(text: str, width: int = 14) -> str:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}".strip()
    lines.append(cur)
    return "\n".join(lines)


def lambda_figure(lambdas: Sequence[float], ours: Sequence[float], paper: dict[float, float] | None = None,
                  title: str = "", ours_label: str = "ours", paper_label: str = "paper",
                  ylabel: str = "accuracy (%)") -> Figure:
    """Accuracy (%) against λ of eq. 13, L = λ·L_S + (1 − λ)·L_T (KP-GCN-MSA Fig. 8): our sweep as
    a line (seaborn ``lineplot``), the paper's values as diamonds (the paper gives only λ = 0.2 as
    a number)."""
    lam = np.asarray(lambdas, float)
    acc = np.asarray(ours, float)
    if lam.shape != acc.shape:
        raise ValueError(f"{lam.size} λ values but {acc.size} accuracies")
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    sns.lineplot(x=lam, y=acc, marker="o", color=OURS_COLOR, errorbar=None, sort=True, label=ours_label, ax=ax)
    if paper:
        pl = np.array(sorted(paper))
        ax.scatter(pl, [paper[k] for k in pl], label=paper_label, **PAPER_MARKER)
        for k in pl:
            ax.annotate(f"{paper[k]:.2f}", (k, paper[k]), textcoords="offset points", xytext=(6, 4), fontsize=8,
                        color=PAPER_COLOR)
    ticks = sorted(set(lam.tolist()) | set(paper or {}))
    ax.set_xticks(ticks, labels=[f"{t:.1f}" for t in ticks])
    ax.set_xlim(min(ticks) - 0.05, max(ticks) + 0.1)
    ax.set_xlabel("λ (weight of the auxiliary loss L_S, eq. 13)")
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 105)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1, frameon=False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


#: the fold-table columns :func:`fold_results_figure` draws by default (fractions in the table)
FOLD_FIGURE_METRICS = ("accuracy", "uar", "best_test_accuracy_leaky")
_FOLD_FIGURE_NAMES = {"accuracy": "accuracy = WAR", "uar": "UAR", "best_test_accuracy_leaky": "best test acc.\n[leaky]",
                      "best_test_uar_leaky": "best test UAR\n[leaky]"}


def fold_results_figure(table: pd.DataFrame, paper: dict[str, float] | None = None, title: str = "",
                        metrics: Sequence[str] = FOLD_FIGURE_METRICS, ours_label: str = "ours",
                        paper_label: str = "paper") -> Figure:
    """Per-fold results of :func:`ferlib.train.cv.collate` (fractions; its ``mean``/``std`` rows
    are ignored): one column per metric, each fold a dot (seaborn ``stripplot``), the mean with ±
    std over the folds (``pointplot``, ``errorbar="sd"``, ddof = 1 as collate), and the paper's
    value as a diamond (``paper``: metric column → %, e.g. ``{"accuracy": 99.54}``). Columns of
    ``metrics`` the table lacks are skipped."""
    cols = [m for m in metrics if m in table.columns]
    if not cols:
        raise ValueError(f"fold table has none of the columns {list(metrics)}; expected the output of "
                         "ferlib.train.cv.collate")
    folds = table.drop(index=[i for i in ("mean", "std") if i in table.index])
    if folds.empty:
        raise ValueError("fold table has no fold rows (only mean/std)")
    names = {c: _FOLD_FIGURE_NAMES.get(c, _wrap(c, 16)) for c in cols}
    long = (folds[cols].astype(float).mul(100).rename(columns=names).rename_axis("fold").reset_index()
            .melt(id_vars="fold", var_name="metric", value_name="percent"))
    order = [names[c] for c in cols]
    fig, ax = plt.subplots(figsize=(1.5 * len(cols) + 2.0, 3.8))
    sns.stripplot(data=long, x="metric", y="percent", order=order, color="0.4", size=5, jitter=0.12, alpha=0.8,
                  label=f"one fold (of {len(folds)})", ax=ax, zorder=2)
    sns.pointplot(data=long, x="metric", y="percent", order=order, color=OURS_COLOR, errorbar="sd", capsize=0.2,
                  err_kws={"linewidth": 1.5}, linestyle="none", markers="s", markersize=7,
                  label=f"{ours_label}: mean" + (" ± std" if len(folds) > 1 else ""), ax=ax)
    shown = [v for v in long["percent"] if np.isfinite(v)]
    if paper:
        pts = [(order.index(names[c]), float(v)) for c, v in paper.items() if c in names and np.isfinite(v)]
        if pts:
            px, py = zip(*pts)
            ax.scatter(np.asarray(px) + 0.3, py, label=paper_label, **PAPER_MARKER)
            for xi, v in pts:
                ax.annotate(f"{v:.2f}", (xi + 0.3, v), textcoords="offset points", xytext=(7, 0), va="center",
                            fontsize=7, color=PAPER_COLOR)
            shown += list(py)
    # zoom on the values (dots, not bars: the axis need not start at 0), in steps of 5 %
    low = max(0.0, 5 * np.floor((min(shown) - 3) / 5)) if shown else 0.0
    ax.set_ylim(low, min(105.0, max(shown) + 4) if shown else 105.0)
    ax.set_xlim(-0.5, len(order) - 0.3)
    ax.set_xlabel("")
    ax.set_ylabel("%")
    handles, labs = ax.get_legend_handles_labels()
    keep = {lab: h for h, lab in zip(handles, labs)}  # stripplot labels each column's dots; keep one entry
    ax.legend(keep.values(), keep.keys(), fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1,
              frameon=False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def save_table(df: pd.DataFrame, figures_dir: str | Path, name: str, floatfmt: str = "g") -> Path:
    """Write ``<figures_dir>/<name>.csv`` and ``.md`` (Markdown via ``DataFrame.to_markdown``,
    missing values as "–"); returns the CSV path."""
    d = Path(figures_dir)
    d.mkdir(parents=True, exist_ok=True)
    df.to_csv(d / f"{name}.csv")
    shown = df.astype(object).where(df.notna(), None)
    (d / f"{name}.md").write_text(shown.to_markdown(floatfmt=floatfmt, missingval="–") + "\n")
    return d / f"{name}.csv"


def save_figure(fig: Figure, figures_dir: str | Path, name: str, dpi: int = 100, close: bool = True) -> Path:
    """Save ``<figures_dir>/<name>.png`` (tight bounding box) and close the figure unless asked not to."""
    d = Path(figures_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if close:
        plt.close(fig)
    return path


def ours_label(dataset: str, folds: pd.DataFrame | int, total_folds: int | None = None) -> str:
    """``"ours on <dataset> (1 of 5 folds)"``; ``folds`` is a collate table (its ``mean``/``std``
    rows are not folds) or the number of folds run."""
    n = folds if isinstance(folds, int) else len([i for i in folds.index if i not in ("mean", "std")])
    of = f" of {total_folds}" if total_folds and total_folds != n else ""
    return f"ours on {dataset} ({n}{of} fold{'s' if (total_folds or n) != 1 else ''})"


def main_paper_table(method: str, dataset: str | None = None) -> tuple[str, str]:
    """``(table key, column)`` of ``method``'s headline paper number on ``dataset`` (its spec's
    ``papers.main``); for a data set the paper does not report (a generated one), the first."""
    from ferlib.models.registry import method_spec
    from ferlib.train.recipes import dataset_key

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
    from ferlib.paper_numbers import paper_table

    key, _ = main_paper_table(method, dataset)
    theirs = paper_table(key)
    mine = theirs.index[(theirs["method"] == method) & (theirs["variant"] == variant)]
    if len(mine) == 0:
        raise KeyError(f"paper table {key!r} has no row for {method!r} variant {variant!r}")
    how = f"paper, {theirs.attrs['source']}"
    numeric = theirs.select_dtypes("number")
    theirs = numeric[["UAR", "WAR"]] if {"UAR", "WAR"} <= set(numeric.columns) else numeric
    row = fold_table.loc["mean"] if "mean" in fold_table.index else fold_table.mean(numeric_only=True)
    ours = pd.DataFrame({"accuracy = WAR (%)": [100 * float(row["accuracy"])], "UAR (%)": [100 * float(row["uar"])]},
                        index=[mine[0]]).round(2)
    out = comparison_table(ours, theirs, label, how)
    out.attrs["paper_table"] = key
    return out


def per_class_comparison(method: str, metrics: Sequence[dict[str, Any]], label: str) -> pd.DataFrame:
    """Per-class accuracy (recall, %) pooled over the folds' ``metrics.json`` beside the papers'
    per-class numbers (the spec's ``papers.per_class``: FER-GCN Tables II–IV diagonals, KP-GCN-MSA Tables 3/5/7),
    one row per class (ours first, then classes only the papers have)."""
    from ferlib.models.registry import method_spec
    from ferlib.paper_numbers import paper_per_class

    tables = tuple(method_spec(method).papers.per_class.values())
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


# --------------------------------------------------------------------------- ablations (notebook 06)

def select_grid(tables: Sequence[str], max_rows: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """The rows of :data:`ferlib.train.ablate.PAPER_GRIDS` for ``tables`` (the first ``max_rows``
    of each when given, for quick runs)."""
    from ferlib.train.ablate import PAPER_GRIDS

    unknown = [t for t in tables if t not in PAPER_GRIDS]
    if unknown:
        raise ValueError(f"unknown ablation tables {unknown}; choose from {sorted(PAPER_GRIDS)}")
    if max_rows is not None and max_rows < 1:
        raise ValueError(f"max_rows={max_rows!r} must be None (all rows) or >= 1")
    return {t: [dict(r) for r in PAPER_GRIDS[t][:max_rows]] for t in tables}


def read_ablation(grid: dict[str, list[dict[str, Any]]], out_dir: str | Path, fold_names: Sequence[str]) -> pd.DataFrame:
    """The table :func:`ferlib.train.ablate.ablate` returns, read from finished runs only
    (``out_dir/<table>/<label-slug>/<fold>/metrics.json``); a missing run raises
    :class:`FileNotFoundError` naming its folder, before anything is read."""
    from ferlib.train.ablate import slug
    from ferlib.train.cv import collate

    out = Path(out_dir)
    missing = [out / t / slug(r["label"]) / f for t, rows in grid.items() for r in rows for f in fold_names
               if not (out / t / slug(r["label"]) / f / "metrics.json").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} ablation run(s) missing, e.g. {missing[0]} (no metrics.json); run notebook 06 with "
            f"train=True and the same profile, tables and max_rows first")
    records = []
    for table, rows in grid.items():
        for row in rows:
            res = collate(out / table / slug(row["label"]), fold_names)
            records.append({
                "table": table, "label": row["label"], "method": row["method"], "variant": row.get("variant", "full"),
                "accuracy": res.loc["mean", "accuracy"], "accuracy_std": res.loc["std", "accuracy"],
                "uar": res.loc["mean", "uar"], "uar_std": res.loc["std", "uar"],
                "best_test_accuracy_leaky": res.loc["mean", "best_test_accuracy_leaky"], "folds": len(res) - 2,
            })
    return pd.DataFrame(records)


def ablation_vs_paper(ours: pd.DataFrame, table: str, label: str, paper_label: str | None = None) -> pd.DataFrame:
    """One ablation table of ours (rows of :func:`ferlib.train.ablate.ablate` for ``table``) beside
    the paper's numbers for the same rows (matched through the ferlib ``variant``), in percent."""
    from ferlib.paper_numbers import PAPER_TABLES, paper_table

    mine = ours[ours["table"] == table]
    if mine.empty:
        raise ValueError(f"no rows of ablation table {table!r} in ours (tables: {sorted(set(ours['table']))})")
    theirs = paper_table(table) if table in PAPER_TABLES else None
    left = pd.DataFrame({"accuracy = WAR (%)": (mine["accuracy"].to_numpy(float) * 100).round(2),
                         "UAR (%)": (mine["uar"].to_numpy(float) * 100).round(2),
                         "best test acc. (%) [leaky]": (mine["best_test_accuracy_leaky"].to_numpy(float) * 100).round(2)},
                        index=pd.Index(list(mine["label"]), name="row"))
    if theirs is None:
        return left
    by_variant = {v: lab for lab, v in zip(theirs.index, theirs["variant"])}
    nums = theirs.select_dtypes("number").drop(columns=[c for c in theirs.attrs.get("non_percent", []) if c in theirs.columns])
    right = nums.loc[[by_variant[v] for v in mine["variant"] if v in by_variant]]
    right.index = [lab for lab, v in zip(mine["label"], mine["variant"]) if v in by_variant]
    how = paper_label or f"paper, {theirs.attrs['source']}" + (f", {right.columns[0]}" if right.shape[1] == 1 else "")
    out = comparison_table(left, right, label, how)
    # our rows first, in the grid's order
    return out.reindex(list(left.index))


def paper_series(table: str, column: str | None = None) -> pd.Series:
    """The paper's value (%) of each row of an ablation grid, keyed by the grid's row label (for
    :func:`ablation_figure`); ``column`` picks the data set (default: the first)."""
    from ferlib.paper_numbers import PAPER_TABLES, paper_table
    from ferlib.train.ablate import PAPER_GRIDS

    if table not in PAPER_TABLES:
        return pd.Series(dtype=float)
    theirs = paper_table(table)
    col = column or [c for c in theirs.select_dtypes("number").columns if c not in theirs.attrs.get("non_percent", [])][0]
    by_variant = {v: theirs.loc[lab, col] for lab, v in zip(theirs.index, theirs["variant"])}
    return pd.Series({r["label"]: float(by_variant[r["variant"]]) for r in PAPER_GRIDS[table] if r["variant"] in by_variant},
                     name=col)


#: notebook 06 defaults per profile: (tables, epochs override, rows per table); None = all / the schedule's
ABLATION_DEFAULTS: dict[str, tuple[list[str] | None, int | None, int | None]] = {
    "smoke": (None, 1, 2),
    # with the pre-trained demo CNN a FAN row takes ~10 s and a FER-GCN row ~1 minute on 2 cores;
    # KP-GCN-MSA rows (~75 s each, 20 rows) run by default only in `paper`
    "demo": (["fer_gcn_table5", "fan_variants", "fan_k_segments"], None, None),
    "paper": (None, None, None),
}


def ablation_settings(profile: str, tables: Sequence[str] | None = None, epochs: int | None = None,
                      max_rows: int | None = None) -> tuple[list[str], int | None, int | None]:
    """Notebook 06's (tables, epochs, max_rows): the values given, else :data:`ABLATION_DEFAULTS`
    of ``profile``. ``epochs`` None keeps each method's schedule of the profile."""
    from ferlib.train.ablate import PAPER_GRIDS

    if profile not in ABLATION_DEFAULTS:
        raise ValueError(f"notebook parameter profile={profile!r} is not allowed; choose one of {tuple(ABLATION_DEFAULTS)}")
    d_tables, d_epochs, d_rows = ABLATION_DEFAULTS[profile]
    chosen = list(tables) if tables is not None else list(d_tables or PAPER_GRIDS)
    if not chosen:
        raise ValueError("notebook parameter tables=[] names no ablation table; give None (the profile's) or some of "
                         f"{sorted(PAPER_GRIDS)}")
    unknown = [t for t in chosen if t not in PAPER_GRIDS]
    if unknown:
        raise ValueError(f"notebook parameter tables: unknown {unknown}; choose from {sorted(PAPER_GRIDS)}")
    ep = epochs if epochs is not None else d_epochs
    if ep is not None and (not isinstance(ep, int) or ep < 1):
        raise ValueError(f"notebook parameter ablation_epochs={epochs!r} must be None (the schedule's) or an int >= 1")
    rows = max_rows if max_rows is not None else d_rows
    if rows is not None and (not isinstance(rows, int) or rows < 1):
        raise ValueError(f"notebook parameter max_rows={max_rows!r} must be None (all rows) or an int >= 1")
    return chosen, ep, rows


def run_ablation_tables(store: Any, out_dir: str | Path, grid: dict[str, list[dict[str, Any]]], profile: str,
                        train: bool = True, folds: list[int] | None = None, epochs: int | None = None,
                        **overrides: Any) -> pd.DataFrame:
    """Run (``train=True``) or only read (``train=False``) the ablation ``grid`` under the notebook
    ``profile``'s training plan (:func:`ferlib.workbook.train_plan`) with
    :func:`ferlib.train.ablate.ablate`; returns its table. ``epochs`` replaces every row's
    schedule length; ``overrides`` are further TrainConfig fields. Reading fails with
    :class:`FileNotFoundError` naming the first missing run (ablate itself would train it)."""
    from ferlib.train.ablate import ablate
    from ferlib.workbook import plan_splits, train_plan

    plan = train_plan(profile, store.dataset.startswith("synth"))
    chosen = folds if folds is not None else plan.folds
    if not train:
        splits = plan_splits(next(iter(grid.values()))[0]["method"], store, profile)
        bad = [f for f in (chosen or []) if not 0 <= f < len(splits)]
        if bad:
            raise ValueError(f"folds {bad} are not among the {len(splits)} folds (positions 0..{len(splits) - 1})")
        names = [s.name for s in splits] if chosen is None else [splits[i].name for i in chosen]
        return read_ablation(grid, out_dir, names)
    kw = {**plan.overrides, **overrides, **({"epochs": epochs} if epochs is not None else {})}
    return ablate(grid, store, out_dir, protocol=plan.protocol, profile=plan.model_profile, folds=chosen,
                  protocol_kwargs=plan.protocol_kwargs, recipe=plan.recipe, **kw)


def reproduce_figure(fold_table: pd.DataFrame, paper_value: float | None, title: str, paper_label: str) -> Figure:
    """Our accuracy per fold (bars) and its mean (dashed), beside the paper's number (a red line)
    when there is one: the picture of ``python -m ferlib reproduce``."""
    folds = [i for i in fold_table.index if i not in ("mean", "std")]
    acc = fold_table.loc[folds, "accuracy"].astype(float).to_numpy() * 100
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(folds) + 2.5), 3.2))
    ax.bar(range(len(folds)), acc, color="#4c72b0", label="ours, per fold")
    ax.axhline(float(np.mean(acc)), color="#4c72b0", ls="--", lw=1, label=f"ours, mean {np.mean(acc):.1f} %")
    if paper_value is not None and np.isfinite(paper_value):
        ax.axhline(paper_value, color="#c44e52", lw=2, label=f"{paper_label}: {paper_value:.2f} %")
    ax.set_xticks(range(len(folds)), folds, rotation=45 if len(folds) > 5 else 0)
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy = WAR (%)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    return fig
