"""Classification metrics of the papers: accuracy (= WAR), UAR, per-class accuracy, confusion.

WAR (weighted average recall) is overall accuracy; UAR (unweighted average recall) is the mean of
the diagonal of the row-normalised confusion matrix, i.e. the mean per-class recall over the
classes that occur in ``y_true``.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix


def _check(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.shape[0]} vs {y_pred.shape[0]}")
    if y_true.size == 0:
        raise ValueError("metrics need at least one prediction")
    return y_true, y_pred


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Overall accuracy = WAR."""
    y_true, y_pred = _check(y_true, y_pred)
    return float(accuracy_score(y_true, y_pred))


def uar(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Unweighted average recall: mean per-class recall over the classes present in ``y_true``."""
    y_true, y_pred = _check(y_true, y_pred)
    return float(balanced_accuracy_score(y_true, y_pred))


def confusion(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int, normalize: bool = False) -> np.ndarray:
    """Confusion matrix ``(C, C)``: rows true class, columns predicted; row-normalised if asked
    (rows of absent classes stay 0)."""
    y_true, y_pred = _check(y_true, y_pred)
    cm = confusion_matrix(y_true, y_pred, labels=np.arange(num_classes)).astype(np.float64)
    if normalize:
        rows = cm.sum(1, keepdims=True)
        cm = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    return cm


def per_class_accuracy(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Recall of each class ``(C,)``; NaN for a class absent from ``y_true``."""
    cm = confusion(y_true, y_pred, num_classes)
    rows = cm.sum(1)
    return np.where(rows > 0, np.diag(cm) / np.maximum(rows, 1), np.nan)


def summarize(y_true: np.ndarray, y_pred: np.ndarray, classes: tuple[str, ...] | list[str]) -> dict:
    """All metrics as plain types (what ``metrics.json`` holds)."""
    c = len(classes)
    pca = per_class_accuracy(y_true, y_pred, c)
    return {
        "accuracy": accuracy(y_true, y_pred),
        "war": accuracy(y_true, y_pred),
        "uar": uar(y_true, y_pred),
        "per_class": {name: (None if np.isnan(v) else float(v)) for name, v in zip(classes, pca)},
        "confusion": confusion(y_true, y_pred, c).astype(int).tolist(),
        "classes": list(classes),
        "n": int(len(np.asarray(y_true))),
    }
