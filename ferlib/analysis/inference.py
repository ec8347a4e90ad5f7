"""Running a finished run's model again: its inputs for chosen clips, and its by-products on them.

* :func:`model_inputs` — the tensors a run's model sees for some clips of a store (its evaluation
  transform and sampler, or another sampler such as ``"all"``);
* :func:`collect_frame_weights` — a trained model's by-products per clip (``alpha``,
  ``alpha_beta``, ``frame_weights``, ``embedding`` …) with the ground truth beside them, as
  ``byproducts.npz`` holds them but for any clips and any sampler (FAN is evaluated on every
  frame of a clip, FAN Table 1);
* :func:`collect_run_weights` — the same over the test clips of finished folds.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch.utils.data import default_collate

from ferlib.analysis.runs import fold_test_rows, load_run_model
from ferlib.train.engine import choose_device, evaluate_loader, make_dataset, make_loader

__all__ = ["model_inputs", "collect_frame_weights", "collect_run_weights"]


def model_inputs(store: Any, rows: Sequence[int], cfg: Any, sampler: str | None = None) -> dict[str, torch.Tensor]:
    """The tensors a run's model sees for clips ``rows`` of ``store`` (evaluation transform of the
    run's :class:`~ferlib.train.config.TrainConfig`; ``sampler`` replaces the run's, e.g. ``"all"``):
    ``frames`` ``(n, T, 3, S, S)``, ``landmarks`` ``(n, T, 68, 2)``, ``intensity``, ``frame_idx``
    ``(n, T)``, ``label`` ``(n,)``."""
    cfg = copy.deepcopy(cfg)
    if sampler is not None:
        cfg.sampler = sampler
    ds = make_dataset(store, store.index().subset(np.asarray(rows)), cfg, train=False)
    if len(ds) == 0:
        raise ValueError("model_inputs got no clips (rows is empty)")
    return default_collate([ds[i] for i in range(len(ds))])


def collect_frame_weights(model: torch.nn.Module, cfg: Any, store: Any, rows: np.ndarray | None = None,
                          sampler: str | None = "all", batch_size: int = 8) -> dict[str, np.ndarray]:
    """Run a trained model on clips of ``store`` and return its by-products per clip (as
    ``byproducts.npz`` holds them): the model's extras (``alpha``, ``alpha_beta``,
    ``frame_weights``, ``embedding`` …) plus ``gt_intensity``, ``frame_idx``, ``label``, ``pred``,
    ``row`` and ``n_frames`` (stored frames of each clip).

    ``cfg`` is the run's :class:`~ferlib.train.config.TrainConfig`; ``sampler="all"`` feeds every
    stored frame (FAN's evaluation; only for models that take any T), ``None`` keeps the run's
    sampler (FER-GCN needs its N chronological frames). ``rows`` index ``store.index()``."""
    cfg = copy.deepcopy(cfg)
    if sampler is not None:
        cfg.sampler = sampler
    cfg.progress = False
    index = store.index()
    sub = index if rows is None else index.subset(np.asarray(rows))
    if len(sub) == 0:
        raise ValueError("collect_frame_weights got no clips (rows is empty)")
    ds = make_dataset(store, sub, cfg, train=False)
    device = choose_device(cfg)
    model = model.to(device).eval()
    ev = evaluate_loader(model, make_loader(ds, cfg, False, batch_size=batch_size), cfg, device, collect=True,
                         progress=False)
    out = dict(ev.byproducts)
    out.update(label=ev.y_true, pred=ev.y_pred, row=(np.arange(len(index)) if rows is None else np.asarray(rows))[ev.rows],
               n_frames=np.array([store.read(sub.clip_ids[i]).n_frames for i in ev.rows]))
    return out


def collect_run_weights(fold_dirs: Sequence[str | Path], store: Any, sampler: str | None = "all",
                        by_subject: bool = False) -> dict[str, np.ndarray]:
    """:func:`collect_frame_weights` for the test clips of each finished fold (loaded with
    :func:`~ferlib.analysis.runs.load_run_model`; rows from
    :func:`~ferlib.analysis.runs.fold_test_rows`), concatenated over the folds; ``fold`` ``(n,)``
    says which fold each clip came from."""
    parts: list[dict[str, np.ndarray]] = []
    for k, fd in enumerate(fold_dirs):
        model, cfg = load_run_model(fd)
        out = collect_frame_weights(model, cfg, store, fold_test_rows(fd, store, by_subject), sampler)
        out["fold"] = np.full(len(out["label"]), k)
        parts.append(out)
    if not parts:
        raise ValueError("collect_run_weights needs at least one fold folder")
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
