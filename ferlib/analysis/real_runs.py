"""A finished run's model on clips it never trained on: predictions, frame weights, probabilities over time.

What the transfer check (:mod:`ferlib.experiments.transfer`) and notebook 11 measure on a trained
run: :func:`load_run` (its selected model), :func:`evaluate_run` (one row of predictions per clip
of a store, and the by-products), :func:`probabilities_over_time` (class probabilities along a
preprocessed video, window by window) and :func:`frame_weight_key` (which by-product holds a
method's frame weights).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from ferlib.data.samplers import Sampler
from ferlib.data.store import ClipStore
from ferlib.data.transforms import ClipTransform
from ferlib.models.registry import method_spec
from ferlib.train.checkpoint import load_checkpoint
from ferlib.train.config import TrainConfig
from ferlib.train.engine import build_run_model, choose_device, evaluate_loader, forward_batch, make_dataset, make_loader

__all__ = ["evaluate_run", "frame_weight_key", "load_run", "probabilities_over_time"]


def frame_weight_key(method: str) -> str | None:
    """The by-product holding a method's frame weights, the first of its ``MethodSpec.weight_keys`` (FAN
    ``alpha``, eq. 1; FER-GCN ``intensity_weights``, eq. 7); ``None`` for methods without frame weights (ST-GCN)."""
    keys = method_spec(method).weight_keys
    return keys[0] if keys else None


def load_run(run: str | Path) -> tuple[Any, Any, tuple[str, ...]]:
    """The selected model (``best.pt``, eval mode) of a finished run folder, its
    :class:`~ferlib.train.config.TrainConfig` and its classes."""

    ckpt = load_checkpoint(Path(run) / "best.pt")
    cfg = TrainConfig.from_dict(ckpt["config"], str(Path(run) / "best.pt"))
    cfg.progress = False
    model = build_run_model(cfg, len(ckpt["classes"]))
    model.load_state_dict(ckpt["model"])
    return model.eval(), cfg, tuple(ckpt["classes"])


def evaluate_run(run: Path, store: ClipStore) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Predictions (one row per clip: clip_id, subject, label_name, pred_name, prob_<class>) and
    by-products of a finished run's selected model on every clip of ``store`` (labelled with the
    run's classes), each sampled with the run's test sampler (FAN: every frame)."""

    model, cfg, classes = load_run(run)
    if tuple(classes) != tuple(store.classes):
        raise ValueError(f"{run} was trained on classes {classes}, the real clips are labelled {store.classes}")
    device = choose_device(cfg)
    model.to(device)
    index = store.index()
    ev = evaluate_loader(model, make_loader(make_dataset(store, index, cfg, False), cfg, False), cfg, device,
                         collect=True, progress=False)
    sub = index.df.iloc[ev.rows]
    classes = list(store.classes)
    df = pd.DataFrame({"clip_id": sub["clip_id"].to_numpy(), "subject": sub["subject"].to_numpy(),
                       "label_name": [classes[i] for i in ev.y_true], "pred_name": [classes[i] for i in ev.y_pred]})
    for j, c in enumerate(classes):
        df[f"prob_{c}"] = ev.probs[:, j]
    return df, ev.byproducts


def probabilities_over_time(run: str | Path, frames: np.ndarray, landmarks: np.ndarray, window: int = 16,
                            stride: int = 2, batch_size: int = 16) -> pd.DataFrame:
    """A trained run's class probabilities along a preprocessed video: one row per window of
    ``window`` frames (every ``stride`` frames; the whole video when it is shorter), with the
    window's first, centre and last frame and ``prob_<class>``. ``frames`` ``(T, S, S, 3)`` uint8
    and ``landmarks`` ``(T, 68, 2)`` as preprocessing writes them; each window is sampled as the
    run's method samples a test clip (FAN: every frame); the windows go through the model in batches
    of ``batch_size``."""
    model, cfg, classes = load_run(run)
    frames, landmarks = np.asarray(frames), np.asarray(landmarks, np.float32)
    if frames.ndim != 4 or landmarks.shape != (len(frames), 68, 2):
        raise ValueError(f"expected frames (T, S, S, 3) and landmarks (T, 68, 2), got {frames.shape} and {landmarks.shape}")
    t = len(frames)
    window = min(int(window), t)
    sampler = Sampler(cfg.test_sampler or cfg.sampler, cfg.num_frames, cfg.span)
    transform = ClipTransform(side=cfg.input_side or frames.shape[1], train=False)
    device = choose_device(cfg)
    model.to(device)
    starts = list(range(0, t - window + 1, max(1, int(stride))))
    windows = [transform(frames[idx], landmarks[idx]) for idx in (s + sampler(window, False) for s in starts)]
    probs = []
    with torch.no_grad():
        for i in range(0, len(windows), batch_size):
            chunk = windows[i:i + batch_size]
            batch = {"frames": torch.stack([c for c, _ in chunk]), "landmarks": torch.stack([lm for _, lm in chunk])}
            logits, _ = forward_batch(model, batch, device, cfg)
            probs.append(torch.softmax(logits.float(), 1).cpu().numpy())
    p = np.concatenate(probs)
    rows = [{"start": s, "centre": s + (window - 1) / 2, "stop": s + window - 1,
             **{f"prob_{c}": float(v) for c, v in zip(classes, p[k])}} for k, s in enumerate(starts)]
    return pd.DataFrame(rows)
