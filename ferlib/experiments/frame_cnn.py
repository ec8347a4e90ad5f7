"""The demo ``small_cnn`` + a linear head as a model the engine trains on stills.

:class:`FrameClassifier` takes clips ``(B, T, 3, S, S)`` as every frame model does (the stills are
one-frame clips), so :func:`train_frame_cnn` runs the engine's own epoch and evaluation
(:func:`ferlib.train.engine.train_one_epoch`, :func:`~ferlib.train.engine.evaluate_loader`) with
an optimiser and schedule of :mod:`ferlib.train.schedules`. It does not go through
:func:`ferlib.train.engine.fit`: ``fit`` trains a registered method on a clip store with its
recipe, run folder and model selection, while here the data are stills held in memory, the model
is no method of the tables, and what is kept is the trunk after the last epoch (the file of
:func:`ferlib.experiments.pretrain.frame_pretrained`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ferlib.experiments.frames import FrameStills, still_loader
from ferlib.models.backbones import small_cnn
from ferlib.models.registry import available_methods, method_spec
from ferlib.train.config import TrainConfig
from ferlib.train.engine import evaluate_loader, seed_everything, train_one_epoch
from ferlib.train.schedules import build_optimizer, build_scheduler

__all__ = ["FrameClassifier", "train_frame_cnn"]


class FrameClassifier(nn.Module):
    """``small_cnn`` trunk + global average pooling + linear head over every frame of ``(B, T, 3, S, S)``
    (run once on the ``B·T`` frames), logits averaged over ``T``: ``(B, C)``, and no by-products."""

    def __init__(self, num_classes: int, width: int = 16, depth: int = 4, whole_map: int = 4,
                 init: str | Path | None = None) -> None:
        super().__init__()
        net = small_cnn(width=width, depth=depth, whole_map=whole_map, weights=init)
        self.trunk = net.trunk
        self.head = nn.Linear(net.out_channels, num_classes)

    def forward(self, frames: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        b, t = frames.shape[:2]
        f = self.trunk(frames.flatten(0, 1)).mean(dim=(2, 3))  # (B·T, C)
        return self.head(f).view(b, t, -1).mean(1), {}


def _frames_method() -> str:
    """A registered method whose batches carry frames only: the engine hands a batch to a model
    through its method's inputs (``MethodSpec.batch_inputs``), and :class:`FrameClassifier` takes
    frames as those models do (no method is trained here: only its input routing is used)."""
    return next(m for m in available_methods() if method_spec(m).inputs == "frames")


def train_frame_cnn(frames: np.ndarray, labels: np.ndarray, num_classes: int, width: int = 16, depth: int = 4,
                    whole_map: int = 4, epochs: int = 8, batch_size: int = 64, lr: float = 2e-3, seed: int = 0,
                    val: tuple[np.ndarray, np.ndarray] | None = None, init: str | Path | None = None,
                    report: str = "") -> tuple[nn.Sequential, list[dict[str, float]]]:
    """Train :class:`FrameClassifier` on stills ``(N, S, S, 3)`` uint8 (Adam, cosine schedule,
    :func:`~ferlib.experiments.frames.augment`); returns the trunk and the per-epoch history (loss,
    accuracy, and ``val_accuracy`` on ``val = (frames, labels)`` when given). ``init``: a
    pre-trained small_cnn file the trunk starts from (the head starts afresh). ``report``: when
    given, a line ``<report> epoch e/E: …, t s, about r s left`` after each epoch."""
    train_ds = FrameStills(frames, labels)
    val_ds = FrameStills(*val) if val is not None else None
    cfg = TrainConfig(method=_frames_method(), optimizer="adam", lr=lr, schedule="cosine", epochs=epochs,
                      batch_size=batch_size, seed=seed, amp=False, device="cpu", progress=False)
    device = torch.device("cpu")
    seed_everything(seed)
    model = FrameClassifier(num_classes, width, depth, whole_map, init)
    optimizer = build_optimizer(model.parameters(), cfg)
    scheduler = build_scheduler(optimizer, cfg)
    history: list[dict[str, float]] = []
    t0 = time.perf_counter()
    for epoch in range(epochs):
        stats = train_one_epoch(model, still_loader(train_ds, batch_size, True, seed, epoch), optimizer, cfg, device,
                                progress=False)
        if not np.isfinite(stats["loss"]):
            raise RuntimeError(f"frame pre-training diverged in epoch {epoch + 1}: mean loss {stats['loss']} (lr {lr:g})")
        scheduler.step()
        row = {"epoch": epoch + 1, "loss": stats["loss"], "accuracy": stats["accuracy"]}
        if val_ds is not None:
            ev = evaluate_loader(model, still_loader(val_ds, 256, False), cfg, device, progress=False)
            row["val_accuracy"] = float(np.mean(ev.y_true == ev.y_pred))
        history.append(row)
        if report:
            spent = time.perf_counter() - t0
            left = spent / (epoch + 1) * (epochs - epoch - 1)
            print(f"{report} epoch {epoch + 1}/{epochs}: loss {row['loss']:.3f}, accuracy {row['accuracy']:.3f}"
                  + (f", held-out {row['val_accuracy']:.3f}" if "val_accuracy" in row else "")
                  + f" ({spent:.0f} s, about {left:.0f} s left)", flush=True)
    return model.trunk, history
