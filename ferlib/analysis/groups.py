"""Accuracy per group of test clips (KP-GCN-MSA Table 6: WAR per FERV39k scene)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import pandas as pd

from ferlib.data.index import ClipIndex


def accuracy_by(fold_dirs: Iterable[str | Path], index: ClipIndex, column: str = "scene") -> pd.DataFrame:
    """WAR (accuracy, %) and clip count of the test predictions of ``fold_dirs`` per value of the
    index's ``column`` (e.g. FERV39k's ``scene``), plus an ``All`` row; an index without such a
    column raises naming the columns it has."""
    df = index.df
    if column not in df.columns:
        raise KeyError(f"the index of {index.dataset or 'this data set'} has no {column!r} column; it has {sorted(df.columns)}")
    preds = pd.concat([pd.read_csv(Path(d) / "predictions.csv") for d in fold_dirs], ignore_index=True)
    preds = preds.merge(df[["clip_id", column]], on="clip_id", how="left")
    preds["correct"] = preds["label"] == preds["pred"]
    out = preds.groupby(column).agg(WAR=("correct", "mean"), clips=("correct", "size"))
    out.loc["All"] = [preds["correct"].mean(), len(preds)]
    out["WAR"] = (out["WAR"] * 100).round(2)
    out["clips"] = out["clips"].astype(int)
    return out
