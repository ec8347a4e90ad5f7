"""ferlib.train: fit/evaluate, cross-validation, ablations, checkpoints, schedules and metrics.

``fit(cfg, store, split, out_dir)`` trains one split; ``cross_validate(method, store, protocol,
profile, out_dir)`` runs a protocol's folds into ``runs/<experiment>/<fold>/``; ``ablate(grid, …)``
runs a paper's ablation table; ``collate(run_dir)`` gives mean ± std over folds.
"""

from ferlib.train.ablate import PAPER_GRIDS, ablate
from ferlib.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from ferlib.train.config import TrainConfig
from ferlib.train.cv import collate, cross_validate, mean_std
from ferlib.train.engine import RunDirError, evaluate, fit
from ferlib.train.metrics import summarize
from ferlib.train.recipes import resolve_config

__all__ = [
    "PAPER_GRIDS", "ablate", "CheckpointError", "load_checkpoint", "save_checkpoint", "TrainConfig", "resolve_config",
    "collate", "cross_validate", "mean_std", "RunDirError", "evaluate", "fit", "summarize",
]
