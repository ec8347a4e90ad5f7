"""Finished runs on disk: where they live and how to read them back.

Runs live in ``<runs_dir>/<dataset folder>/<method>/<variant>/<fold>/`` (the layout of
:func:`ferlib.train.cv.cross_validate` under the notebooks' :func:`ferlib.workbook.run_dir`):
``metrics.json``, ``predictions.csv``, ``byproducts.npz``, ``best.pt`` / ``last.pt``,
``timing.json``. The data set folder is :func:`dataset_folder_name`: ``<dataset>-<profile>`` for
the generated notebook sets (:data:`SYNTH_DATASETS`), the clip store's folder name otherwise.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ferlib.train.checkpoint import load_checkpoint
from ferlib.train.config import TrainConfig
from ferlib.train.engine import build_run_model

#: the generated data sets the notebooks name, and the synth intensity course each is made with
SYNTH_DATASETS = {"synth-lab": "lab", "synth-lab-return": "lab-return", "synth-wild": "wild"}


def dataset_folder_name(dataset: str, profile: str) -> str:
    """The folder name a notebook data set has under ``data_dir`` and ``runs_dir``:
    ``<dataset>-<profile>`` for the generated sets, the clip store's folder name otherwise."""
    return f"{dataset}-{profile}" if dataset in SYNTH_DATASETS else Path(dataset).name


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


def load_run_model(fold_dir: str | Path, which: str = "best") -> tuple[torch.nn.Module, TrainConfig]:
    """The trained model of one fold (``best.pt`` or ``last.pt``) in eval mode, and its
    :class:`~ferlib.train.config.TrainConfig`."""
    path = Path(fold_dir) / f"{which}.pt"
    ckpt = load_checkpoint(path)
    cfg = TrainConfig.from_dict(ckpt["config"], str(path))
    model = build_run_model(cfg, len(ckpt["classes"]))
    model.load_state_dict(ckpt["model"])
    model.eval()
    return model, cfg


def fold_test_rows(fold_dir: str | Path, store: Any, by_subject: bool = False) -> np.ndarray:
    """Rows of ``store.index()`` for the test clips of a finished fold (its ``predictions.csv``).

    ``by_subject=False``: the fold's own test clips (``store`` is the set it was trained on).
    ``by_subject=True``: every clip of ``store`` — another data set with the same subjects, e.g.
    ``synth-lab-return`` for a run trained on ``synth-lab`` — whose subject is one of the fold's
    test subjects, so the model has never seen those faces."""
    pred = pd.read_csv(Path(fold_dir) / "predictions.csv", dtype={"clip_id": str, "subject": str})
    index = store.index()
    if by_subject:
        rows = np.flatnonzero(np.isin(index.subjects.astype(str), pred["subject"].unique()))
        if len(rows) == 0:
            raise ValueError(f"{store.root} has no clip of the test subjects of {fold_dir} "
                             f"({sorted(pred['subject'].unique())[:5]} …)")
        return rows
    where = {cid: i for i, cid in enumerate(index.clip_ids)}
    missing = [c for c in pred["clip_id"] if c not in where]
    if missing:
        raise ValueError(f"{fold_dir} tested clips that {store.root} does not hold ({missing[:3]} …): "
                         "was the run trained on another data set?")
    return np.array([where[c] for c in pred["clip_id"]], dtype=np.int64)
