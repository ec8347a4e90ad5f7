"""The resolved configuration of one training run (what ``config.json`` holds).

:func:`ferlib.train.recipes.resolve_config` merges, in order: :class:`TrainConfig` defaults → the model profile's data
settings (``num_frames``, ``input_side``, ``sampler``, ``test_sampler``) → the recipe of the
(method, data set) pair (:mod:`ferlib.train.recipes`, which imports this module) → the caller's overrides. Unknown keys raise
a ``ValueError`` naming them, so a typo never silently trains with a default, and every value is
checked against its field's annotation (``--set batch_size=big`` fails naming ``batch_size`` and
``int``) when the config is made, before a run writes anything.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ferlib.data.samplers import SAMPLERS
from ferlib.data.transforms import AUGMENTATIONS
from ferlib.train.schedules import OPTIMIZERS, SCHEDULE_KINDS

#: fields that may differ between a run and its resumption (they do not change the result)
RUNTIME_FIELDS = ("num_workers", "device", "progress", "experiment", "recipe", "cache_clips", "channels_last", "compile")


@dataclass
class TrainConfig:
    """Everything that decides a run's result. Shapes: clips ``(B, T, 3, input_side, input_side)``."""

    method: str
    profile: str = "demo"  # the model profile (ferlib.profiles.MODEL_PROFILES)
    variant: str = "full"
    model_overrides: dict[str, Any] = field(default_factory=dict)
    dataset: str = ""
    experiment: str = ""
    recipe: str = ""  # the recipe key the fields came from ("ckplus", "ckplus:official", "demo"); provenance
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
    # the per-frame CNN's first k convolutions and their BatchNorms keep their starting values: pre-trained
    # where init_trunk names weights, random otherwise (ferlib.models.backbones.freeze_leading_convs)
    freeze_trunk: int = 0
    # where model.trunk starts (ferlib.models.trunks.load_trunk): "" random | "synth-frames" (demo small_cnn)
    # | "imagenet" (torchvision, resnet18 / vgg16_bn) | "emotion-fan" (official MS-Celeb+FER+ ResNet-18) | a file
    init_trunk: str = ""
    init_from: str = ""  # a ferlib checkpoint (best.pt) to start the whole model from (fine-tuning)
    # data
    num_frames: int = 0
    input_side: int = 0
    sampler: str = ""
    test_sampler: str = ""  # "" = ``sampler`` in its test mode; "all" = every frame (FAN)
    span: float = 1.0
    fixed_draws: bool = False
    augment: bool = True
    augmentation: str = "default"  # a policy of ferlib.data.transforms.AUGMENTATIONS
    stgcn_normalise: str = "eyes"
    # model selection
    val_fraction: float = 0.15
    select: str = "val"
    eval_test_each_epoch: bool = True
    # runtime
    seed: int = 0
    deterministic: bool = True
    amp: bool = True  # bf16 autocast of the per-frame CNN where the device computes bf16 natively (engine.precision)
    device: str = "auto"
    num_workers: int = -1  # loader workers; -1: none on a CPU, up to 8 per GPU on CUDA (engine.loader_workers)
    progress: bool = True
    # speed (ferlib.train.engine's module docstring): none changes what a run computes
    cache_clips: bool = True  # hold the clips in memory after their first read when they fit (ferlib.data.store.HOLD_BYTES)
    channels_last: bool = True  # the per-frame 2-D trunk's weights and activations NHWC (faster on CPU and GPU)
    compile: bool = False  # torch.compile the model (GPU; slow to start on CPU)
    eval_every: int = 1  # validate (and test, with eval_test_each_epoch) every k epochs and after the last

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, check_field(f.name, getattr(self, f.name)))
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer!r} unknown; expected one of {OPTIMIZERS}")
        if self.schedule not in SCHEDULE_KINDS:
            raise ValueError(f"schedule {self.schedule!r} unknown; expected one of {SCHEDULE_KINDS}")
        if self.select not in ("val", "last"):
            raise ValueError(f"select must be 'val' (best validation epoch) or 'last', got {self.select!r}")
        if int(self.seed) < 0:
            raise ValueError(f"seed must be an integer >= 0, got {self.seed!r}")
        if int(self.freeze_trunk) < 0:
            raise ValueError(f"freeze_trunk must be >= 0 (0: nothing frozen), got {self.freeze_trunk!r}")
        if int(self.num_workers) < -1:
            raise ValueError(f"num_workers must be >= 0, or -1 (by device), got {self.num_workers!r}")
        if int(self.num_frames) < 0:
            raise ValueError(f"num_frames must be >= 1 (or 0: the recipe's own), got {self.num_frames!r}")
        for name in ("epochs", "batch_size", "eval_every"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if self.test_sampler and self.test_sampler not in SAMPLERS:
            raise ValueError(f"test_sampler {self.test_sampler!r} unknown; expected '' (the training sampler) or one of {SAMPLERS}")
        if self.augmentation not in AUGMENTATIONS:
            raise ValueError(f"augmentation {self.augmentation!r} unknown; expected one of {sorted(AUGMENTATIONS)}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr!r}")

    def to_dict(self) -> dict[str, Any]:
        """Plain-typed dict (JSON-able)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> "TrainConfig":
        """Build from a dict; unknown keys raise naming them and ``source`` (e.g. the file). The key
        ``size`` of older ``config.json`` files is read as ``profile`` (the model profile) and
        ``input_size`` as ``input_side`` (a file with both of a pair raises)."""
        renamed = {"size": "profile", "input_size": "input_side"}  # the keys older config.json files wrote
        data = {(renamed[k] if k in renamed and renamed[k] not in data else k): v for k, v in data.items()}
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


@functools.cache
def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(TrainConfig)


def _type_name(tp: Any) -> str:
    args = typing.get_args(tp)
    if typing.get_origin(tp) is list:
        return "a list of " + {int: "ints", float: "numbers", str: "strings", bool: "bools"}.get(args[0], str(args[0]))
    if typing.get_origin(tp) is dict:
        return "a dict (JSON object)"
    return {bool: "a bool (true/false)", int: "an int", float: "a number", str: "a string"}.get(tp, str(tp))


def _coerce(tp: Any, value: Any) -> Any:
    """``value`` as type ``tp``, or raise ``TypeError`` (ints stay ints: no bool, no text)."""
    origin = typing.get_origin(tp)
    if origin is list:
        if not isinstance(value, (list, tuple)):
            raise TypeError
        return [_coerce(typing.get_args(tp)[0], v) for v in value]
    if origin is dict:
        if not isinstance(value, dict):
            raise TypeError
        return dict(value)
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return int(value)
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    elif tp is str:
        if isinstance(value, str):
            return value
    else:
        return value
    raise TypeError


def check_field(name: str, value: Any) -> Any:
    """``value`` converted to the annotated type of TrainConfig field ``name`` (an int for a list of
    floats' items is fine, ``10.0`` for an int too); otherwise ``ValueError`` naming the key, the value
    and the expected type."""
    tp = _field_types()[name]
    try:
        return _coerce(tp, value)
    except TypeError:
        raise ValueError(f"config field {name}={value!r} ({type(value).__name__}): expected {_type_name(tp)}") from None
