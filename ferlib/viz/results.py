"""Result figures of the training and ablation notebooks (02–06) and of ``reproduce``.

* :func:`confusion_figure` — row-normalised confusion matrix with class names, % and counts
  (the form of FER-GCN Tables II–IV, KP-GCN-MSA Figs. 5–6).
* :func:`ablation_figure` — an ablation table as bars (ferlib's) with the paper's values as markers
  (FER-GCN Table V, FAN variants, KP-GCN-MSA Tables 9–12).
* :func:`lambda_figure` — accuracy against the loss weight λ of eq. 13 (KP-GCN-MSA Fig. 8).
* :func:`fold_results_figure` — the fold table as dots per fold, mean ± std and the paper's value.
* :func:`reproduce_figure` — ferlib's accuracy per fold beside the paper's number (``python -m ferlib reproduce``).

The tables these draw (per-fold results, ferlib's beside the paper's) are :mod:`ferlib.analysis.results`.
Figures are drawn with seaborn under the theme of :mod:`ferlib.viz.style`; the paper's values
are always diamonds in :data:`ferlib.viz.style.PAPER_COLOR`.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ferlib.viz.style import OURS_COLOR, PAPER_COLOR, PAPER_MARKER, seeded_jitter

__all__ = ["confusion_figure", "ablation_figure", "lambda_figure", "FOLD_FIGURE_METRICS", "fold_results_figure",
           "reproduce_figure"]


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


def ablation_figure(ours: pd.DataFrame, paper: pd.Series | None = None, title: str = "", ours_label: str = "ferlib",
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
    pv = np.array([float(paper.get(lab, np.nan)) for lab in labels]) if paper is not None else np.full(len(vals), np.nan)
    for xi, v, p in zip(x, vals, pv):
        if np.isfinite(v):
            # ours inside the bar's top; where the paper's diamond and label fall there, under the diamond
            top = p - 4 if np.isfinite(p) and v - 26 < p < v + 2 else v - 3
            inside = top > 8
            # on a patch of its background, above the whisker that would cross it
            ax.text(xi, top if inside else v + 1, f"{v:.1f}", ha="center",
                    va="top" if inside else "bottom", fontsize=9, color="white" if inside else OURS_COLOR, zorder=4,
                    bbox={"boxstyle": "square,pad=0.1", "fc": OURS_COLOR if inside else "white", "ec": "none"})
    if paper is not None:
        if np.isfinite(pv).any():
            ax.scatter(x, pv, label=paper_label, **PAPER_MARKER)
            for xi, v in zip(x, pv):
                if np.isfinite(v):  # above its diamond on a white ground: never on the bar's edge or under a marker
                    ax.annotate(f"{v:.2f}", (xi, v), textcoords="offset points", xytext=(0, 7), ha="center",
                                va="bottom", fontsize=8, color=PAPER_COLOR,
                                bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.9})
    ax.set_xticks(x, labels=[_wrap(lab) for lab in labels], fontsize=9)
    ax.set_ylim(0, 118)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("")  # the rows name themselves; a label here met the legend under wrapped names
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
                  title: str = "", ours_label: str = "ferlib", paper_label: str = "paper",
                  ylabel: str = "accuracy (%)", spread: Sequence[float] | None = None) -> Figure:
    """Accuracy (%) against λ of eq. 13, L = λ·L_S + (1 − λ)·L_T (KP-GCN-MSA Fig. 8): our sweep as
    a line (seaborn ``lineplot``) with ± ``spread`` (e.g. the sd over folds; NaN, one fold: none) as
    error bars, the paper's values as diamonds (the paper gives only λ = 0.2 as a number)."""
    lam = np.asarray(lambdas, float)
    acc = np.asarray(ours, float)
    if lam.shape != acc.shape:
        raise ValueError(f"{lam.size} λ values but {acc.size} accuracies")
    sd = np.full(acc.shape, np.nan) if spread is None else np.asarray(spread, float)
    if sd.shape != acc.shape:
        raise ValueError(f"{acc.size} accuracies but {sd.size} spreads")
    fig, ax = plt.subplots(figsize=(5.0, 3.4))
    drawn = np.isfinite(sd)
    label = f"{ours_label}: mean ± std over the folds" if drawn.any() else ours_label
    sns.lineplot(x=lam, y=acc, marker="o", color=OURS_COLOR, errorbar=None, sort=True, label=label, ax=ax)
    if drawn.any():
        ax.errorbar(lam[drawn], acc[drawn], yerr=sd[drawn], fmt="none", ecolor=OURS_COLOR, elinewidth=1, capsize=4)
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
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.26), ncol=1, frameon=False)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


#: the fold-table columns :func:`fold_results_figure` draws by default (fractions in the table)
FOLD_FIGURE_METRICS = ("accuracy", "uar", "best_test_accuracy_leaky")
_FOLD_FIGURE_NAMES = {"accuracy": "accuracy = WAR", "uar": "UAR", "best_test_accuracy_leaky": "best test acc.\n[leaky]",
                      "best_test_uar_leaky": "best test UAR\n[leaky]"}


def fold_results_figure(table: pd.DataFrame, paper: dict[str, float] | None = None, title: str = "",
                        metrics: Sequence[str] = FOLD_FIGURE_METRICS, ours_label: str = "ferlib",
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
    with seeded_jitter():
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


def reproduce_figure(fold_table: pd.DataFrame, paper_value: float | None, title: str, paper_label: str) -> Figure:
    """ferlib's accuracy per fold (bars) and its mean (dashed), beside the paper's number (a red line)
    when there is one: the picture of ``python -m ferlib reproduce``."""
    folds = [i for i in fold_table.index if i not in ("mean", "std")]
    acc = fold_table.loc[folds, "accuracy"].astype(float).to_numpy() * 100
    fig, ax = plt.subplots(figsize=(max(4.0, 0.5 * len(folds) + 2.5), 3.2))
    ax.bar(range(len(folds)), acc, color=OURS_COLOR, label="ferlib, per fold")
    ax.axhline(float(np.mean(acc)), color=OURS_COLOR, ls="--", lw=1, label=f"ferlib, mean {np.mean(acc):.1f} %")
    if paper_value is not None and np.isfinite(paper_value):
        ax.axhline(paper_value, color=PAPER_COLOR, lw=2, label=f"{paper_label}: {paper_value:.2f} %")
    ax.set_xticks(range(len(folds)), folds, rotation=45 if len(folds) > 5 else 0)
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy = WAR (%)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.16 if len(folds) <= 5 else -0.3), ncol=1,
              frameon=False)  # under the axes: inside, it covered the bars
    fig.tight_layout()
    return fig


def group_figure(table: pd.DataFrame, title: str, ylabel: str = "WAR (%)") -> Figure:
    """One group of bars per row of ``table`` (e.g. a scene), one bar per numeric column (ours, the
    paper's); columns named ``clips`` are counts, not drawn."""
    nums = table.drop(columns=[c for c in table.columns if c == "clips"]).select_dtypes("number")
    fig, ax = plt.subplots(figsize=(max(4.0, 0.6 * len(nums) + 2.5), 3.2))
    nums.plot.bar(ax=ax, rot=45, color=[OURS_COLOR if c.startswith("ferlib") else PAPER_COLOR for c in nums.columns])
    ax.set_ylabel(ylabel)
    ax.set_xlabel("")
    ax.set_ylim(0, 105)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig
