"""Optimisers and learning-rate schedules from a :class:`~ferlib.train.config.TrainConfig`.

Which optimiser, lr, schedule, batch and epochs a method uses on a data set is its recipe
(:mod:`ferlib.train.recipes`, declared in the method's model file); :func:`build_optimizer` and
:func:`build_scheduler` turn a config into ``torch.optim`` and ``torch.optim.lr_scheduler``
objects (nothing hand-written), and :func:`param_groups` gives the per-frame CNN its own lr.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

import torch

#: per-epoch schedules (``lr_scheduler.step()`` once per epoch)
SCHEDULE_KINDS = ("step", "cosine", "constant")
OPTIMIZERS = ("sgd", "adam", "adamw")

def param_groups(model: torch.nn.Module, cfg: Any) -> list[dict[str, Any]]:
    """The model's parameters as optimiser groups: the per-frame CNN (``model.trunk``) at
    ``lr × cfg.trunk_lr_scale`` and the rest at ``lr`` (one group when the scale is 1 or the model
    has no trunk). A pre-trained trunk fine-tuned at a tenth of the head's rate keeps what it
    learned while the randomly initialised head catches up."""
    scale = float(getattr(cfg, "trunk_lr_scale", 1.0))
    trunk = getattr(model, "trunk", None)
    if scale == 1.0 or not isinstance(trunk, torch.nn.Module):
        return [{"params": [p for p in model.parameters()]}]
    own = {id(p) for p in trunk.parameters()}
    return [{"params": list(trunk.parameters()), "lr": cfg.lr * scale},
            {"params": [p for p in model.parameters() if id(p) not in own]}]


def build_optimizer(params: Iterable[torch.nn.Parameter] | list[dict[str, Any]], cfg: Any) -> torch.optim.Optimizer:
    """``torch.optim`` optimiser named by ``cfg.optimizer`` with ``cfg``'s lr, weight decay, momentum,
    Nesterov flag and betas."""
    name = cfg.optimizer.lower()
    if name == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay, nesterov=cfg.nesterov)
    if name == "adam":
        return torch.optim.Adam(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=cfg.lr, betas=tuple(cfg.betas), weight_decay=cfg.weight_decay)
    raise ValueError(f"unknown optimizer {cfg.optimizer!r}; expected one of {OPTIMIZERS}")


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: Any) -> torch.optim.lr_scheduler.LRScheduler:
    """Per-epoch lr schedule: ``step`` (MultiStepLR at ``cfg.milestones`` × ``cfg.gamma``), ``cosine``
    (CosineAnnealingLR over ``cfg.epochs``, after ``cfg.warmup_epochs`` of linear warm-up) or
    ``constant``."""
    kind = cfg.schedule
    if kind == "step":
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=list(cfg.milestones), gamma=cfg.gamma)
    if kind == "constant":
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: 1.0)
    if kind == "cosine":
        warm = int(cfg.warmup_epochs)
        total = max(1, int(cfg.epochs) - warm)

        def factor(e: int) -> float:
            if e < warm:
                return (e + 1) / (warm + 1)
            return 0.5 * (1.0 + math.cos(math.pi * min(e - warm, total) / total))

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    raise ValueError(f"unknown schedule {kind!r}; expected one of {SCHEDULE_KINDS}")
