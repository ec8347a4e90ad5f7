"""The resolved configuration of one training run (what ``config.json`` holds).

:func:`resolve_config` merges, in order: :class:`TrainConfig` defaults → the method's schedule
for the profile (:func:`ferlib.train.schedules.default_schedule`) → the profile's data settings
(``num_frames``, ``input_size``, ``sampler``) → the caller's overrides. Unknown keys raise a
``ValueError`` naming them, so a typo never silently trains with a default.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ferlib.train.schedules import OPTIMIZERS, SCHEDULE_KINDS, default_schedule

#: fields that may differ between a run and its resumption (they do not change the result)
RUNTIME_FIELDS = ("num_workers", "device", "progress", "experiment")


@dataclass
class TrainConfig:
    """Everything that decides a run's result. Shapes: clips ``(B, T, 3, input_size, input_size)``."""

    method: str
    profile: str = "demo"
    variant: str = "full"
    model_overrides: dict[str, Any] = field(default_factory=dict)
    dataset: str = ""
    experiment: str = ""
    # optimisation
    epochs: int = 10
    batch_size: int = 16
    optimizer: str = "adamw"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9
    nesterov: bool = False
    betas: list[float] = field(default_factory=lambda: [0.9, 0.999])
    schedule: str = "constant"
    milestones: list[int] = field(default_factory=list)
    gamma: float = 0.1
    warmup_epochs: int = 0
    label_smoothing: float = 0.0
    grad_clip: float = 0.0
    trunk_lr_scale: float = 1.0  # lr of the per-frame CNN (model.trunk) = lr × this
    # where model.trunk starts (ferlib.models.trunks.load_trunk): "" random | "synth-frames" (demo small_cnn)
    # | "imagenet" (torchvision, resnet18 / vgg16_bn) | "emotion-fan" (official MS-Celeb+FER+ ResNet-18) | a file
    init_trunk: str = ""
    # data
    num_frames: int = 0
    input_size: int = 0
    sampler: str = ""
    span: float = 1.0
    fixed_draws: bool = False
    augment: bool = True
    stgcn_normalise: str = "eyes"
    # model selection
    val_fraction: float = 0.15
    select: str = "val"
    eval_test_each_epoch: bool = True
    # runtime
    seed: int = 0
    deterministic: bool = True
    amp: bool = True
    device: str = "auto"
    num_workers: int = 0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer!r} unknown; expected one of {OPTIMIZERS}")
        if self.schedule not in SCHEDULE_KINDS:
            raise ValueError(f"schedule {self.schedule!r} unknown; expected one of {SCHEDULE_KINDS}")
        if self.select not in ("val", "last"):
            raise ValueError(f"select must be 'val' (best validation epoch) or 'last', got {self.select!r}")
        for name in ("epochs", "batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")
        self.betas = [float(b) for b in self.betas]
        self.milestones = [int(m) for m in self.milestones]

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict (JSON-able)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "TrainConfig":
        """Build from a dict; unknown keys raise naming them and ``source`` (e.g. the file)."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{source}: unknown config keys {unknown}; expected some of {sorted(known)}")
        if "method" not in data:
            raise ValueError(f"{source}: the config must name a 'method'")
        return cls(**data)

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        """Read a ``config.json`` (or any JSON dict of fields)."""
        path = Path(path)
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ValueError(f"cannot read config {path}: {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a config must be a JSON object, got {type(data).__name__}")
        return cls.from_dict(data, source=str(path))

    def result_fields(self) -> dict[str, Any]:
        """The fields that decide the result (all but :data:`RUNTIME_FIELDS`): compared on resume."""
        d = self.to_dict()
        for k in RUNTIME_FIELDS:
            d.pop(k, None)
        return d


def resolve_config(method: str, profile: str = "demo", dataset: str | None = None, **overrides: Any) -> TrainConfig:
    """Defaults → method schedule → profile data settings → ``overrides`` (unknown keys raise)."""
    from ferlib.models.registry import get_profile

    prof = get_profile(method, profile)
    data: dict[str, Any] = {"method": method, "profile": profile, "dataset": dataset or ""}
    data.update(default_schedule(method, profile, dataset))
    data.update({"num_frames": prof.num_frames, "input_size": prof.input_size, "sampler": prof.sampler})
    if method == "fan" and (dataset or "").lower() in ("ckplus", "ck+") and profile == "paper":
        data["span"] = 0.6  # official code: the 3 segments cover the first 3/5 of a CK+ sequence
        data["fixed_draws"] = True
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; expected some of {sorted(known)}")
    data.update({k: v for k, v in overrides.items() if v is not None})
    return TrainConfig.from_dict(data)
