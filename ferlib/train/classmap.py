"""Scoring a model on a store with another label set: classes matched by name.

A checkpoint names the classes its classifier predicts; a store names its own. They differ in
order (the generated sets' 8-class order vs a real 7-class set), in spelling (``Happiness`` vs
``happy``) and in coverage (the papers' cross-data-set rows: a 7-class model on a 6-class set).
:func:`match_classes` pairs them by name, case-insensitively and through
:func:`ferlib.data.labels.canonical_class` for the common spellings; :class:`Relabeled` feeds the
model the data's clips labelled in its own class positions, and :func:`to_data_classes` turns its
predictions back into the store's positions, restricted to the shared classes (softmax over the
shared classes' logits, i.e. the dropped classes' probabilities removed and the rest renormalised).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from ferlib.data.labels import canonical_class


def class_key(name: str) -> str:
    """The name two label sets are matched on: ferlib's canonical class, else the lower-cased name."""
    try:
        return canonical_class(name)
    except ValueError:
        return str(name).strip().lower()


def match_classes(trained: Sequence[str], data: Sequence[str]) -> dict[int, int]:
    """``{position in data: position in trained}`` for every data class the model knows."""
    keys = {class_key(c): j for j, c in enumerate(trained)}
    return {i: keys[class_key(c)] for i, c in enumerate(data) if class_key(c) in keys}


class Relabeled(Dataset):
    """``ds``'s items with ``label`` moved from data positions to the model's (``mapping``)."""

    def __init__(self, ds: Dataset, mapping: dict[int, int]) -> None:
        self.ds, self.mapping = ds, dict(mapping)

    def __len__(self) -> int:
        return len(self.ds)  # type: ignore[arg-type]

    def __getitem__(self, i: int) -> dict[str, Any]:
        item = dict(self.ds[i])
        item["label"] = torch.as_tensor(self.mapping[int(item["label"])], dtype=torch.int64)
        return item


def to_data_classes(y_true: np.ndarray, probs: np.ndarray, mapping: dict[int, int], num_data_classes: int
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Labels ``(N,)`` and probabilities ``(N, C_model)`` in the model's positions → labels,
    predictions ``(N,)`` and probabilities ``(N, C_data)`` in the data's, predictions among the
    shared classes only (data classes the model lacks get probability 0)."""
    shared = np.array(sorted(mapping), dtype=int)
    cols = np.array([mapping[d] for d in shared], dtype=int)
    p = probs[:, cols]
    if len(cols) < probs.shape[1]:
        p = p / np.clip(p.sum(1, keepdims=True), 1e-30, None)
    out = np.zeros((len(p), num_data_classes), dtype=probs.dtype)
    out[:, shared] = p
    back = {m: d for d, m in mapping.items()}
    labels = np.array([back[int(y)] for y in y_true], dtype=np.int64)
    preds = shared[p.argmax(1)] if len(p) else np.zeros(0, np.int64)
    return labels, preds.astype(np.int64), out
