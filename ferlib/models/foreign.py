"""Loading checkpoints written by the authors' own code into ferlib models.

* :func:`load_emotion_fan_state_dict` — the official Emotion-FAN code (Open-Debin/Emotion-FAN):
  ``torch.save`` dicts with a ``state_dict`` key whose keys are torchvision's ResNet-18 (``conv1``,
  ``bn1``, ``layer1``–``layer4``; the published backbone-only files also carry an 8-output ``fc``,
  which is dropped) plus ``alpha.0.*``, ``beta.0.*``, ``pred_fc1.*``, ``pred_fc2.*``, all under the
  ``module.`` prefix of ``nn.DataParallel``. They map onto :class:`ferlib.models.fan.FAN` as
  ``trunk.{0,1,4,5,6,7}.*``, ``alpha.*``, ``beta.*``, ``self_head.*``, ``relation_head.*``.

Every loader has the signature ``loader(model, path_or_state_dict, **options) -> ForeignLoadReport``:
it takes a file (read with ``torch.load(weights_only=True)``, so a file that pickles Python objects
is refused, never executed) or an in-memory mapping, and returns a :class:`ForeignLoadReport`.
:data:`FOREIGN_LOADERS` lists the loaders of this module by name; :func:`foreign_loaders` adds
those defined in other model modules (:data:`OPTIONAL_LOADERS`: module and function name): the
yysijie ST-GCN layout (:func:`ferlib.models.stgcn.load_yysijie_stgcn_state_dict`) and both
triplet-attention naming schemes (:func:`ferlib.models.triplet_attention.load_triplet_attention_state_dict`).
:func:`load_foreign` runs one by name. Pretrained per-frame CNNs (ImageNet, the Emotion-FAN
backbone file) go through :func:`ferlib.models.trunks.load_trunk`, which uses :func:`read_checkpoint`.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

StateSource = str | Path | Mapping[str, Any]


@dataclass
class ForeignLoadReport:
    """What a foreign checkpoint gave a model (all lists hold *model* key names, except ``dropped``
    and ``unexpected`` which hold the checkpoint's names)."""

    loaded: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # model keys the checkpoint did not fill
    dropped: list[str] = field(default_factory=list)  # checkpoint keys discarded on purpose (fc)
    unexpected: list[str] = field(default_factory=list)  # checkpoint keys with no place in the model
    mismatched: list[str] = field(default_factory=list)  # skipped for a shape difference (skip_mismatched)

    def to_dict(self) -> dict[str, list[str]]:
        """Plain dict (JSON-able)."""
        return dataclasses.asdict(self)


def read_checkpoint(source: StateSource, weights_only: bool = True) -> dict[str, torch.Tensor]:
    """A flat ``{name: tensor}`` state dict from a file or a mapping.

    Accepts a plain state dict or a dict holding one under ``state_dict`` (or ``model``). Raises
    :class:`FileNotFoundError` for a missing file and :class:`ValueError` naming the file for one
    that torch cannot read (corrupt, truncated, or pickling Python objects under
    ``weights_only=True``) or that holds no tensors.
    """
    if isinstance(source, (str, Path)):
        return unwrap_state_dict(load_file(source, weights_only), str(source))
    return unwrap_state_dict(source, "the given mapping")


def load_file(path: str | Path, weights_only: bool = True) -> Any:
    """``torch.load`` of a checkpoint file on the CPU; a missing file raises
    :class:`FileNotFoundError`, an unreadable one :class:`ValueError`, both naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint file not found: {path}")
    try:
        return torch.load(path, map_location="cpu", weights_only=weights_only)
    except Exception as err:  # torch raises many types for a corrupt file; all mean "unreadable"
        hint = ("; a file that pickles Python objects is refused (weights_only=True), load only files of "
                "tensors and plain types") if weights_only else ""
        detail = " ".join(str(err).split())[:300]
        raise ValueError(
            f"could not read {path} as a torch checkpoint (corrupt, truncated or not written by "
            f"torch.save{hint}): {detail}"
        ) from err


def unwrap_state_dict(obj: Any, name: str) -> dict[str, torch.Tensor]:
    """The ``{name: tensor}`` entries of a loaded checkpoint ``obj`` (a state dict, or a dict holding
    one under ``state_dict`` or ``model``); ``name`` (the file) is used in errors."""
    if not isinstance(obj, Mapping):
        raise ValueError(f"{name} holds a {type(obj).__name__}, expected a dict of tensors or a dict with 'state_dict'")
    for key in ("state_dict", "model"):
        if key in obj and isinstance(obj[key], Mapping):
            obj = obj[key]
            break
    state = {str(k): v for k, v in obj.items() if isinstance(v, torch.Tensor)}
    if not state:
        raise ValueError(f"{name} holds no tensors (keys: {sorted(map(str, obj))[:10]}); expected a state dict")
    return state


_FAN_TRUNK = {"conv1": "trunk.0", "bn1": "trunk.1", "layer1": "trunk.4", "layer2": "trunk.5", "layer3": "trunk.6", "layer4": "trunk.7"}
_FAN_HEADS = {"alpha.0": "alpha", "beta.0": "beta", "pred_fc1": "self_head", "pred_fc2": "relation_head"}
_FAN_DROPPED = ("fc.",)


def emotion_fan_key(key: str) -> str | None:
    """ferlib FAN name of an Emotion-FAN key (``module.`` already stripped); ``None`` if unknown."""
    head, _, rest = key.partition(".")
    if head in _FAN_TRUNK and rest:
        return f"{_FAN_TRUNK[head]}.{rest}"
    for official, ours in _FAN_HEADS.items():
        if key.startswith(official + "."):
            return ours + key[len(official):]
    return None


def load_emotion_fan_state_dict(
    model: nn.Module,
    source: StateSource,
    skip_mismatched: bool = False,
    weights_only: bool = True,
) -> ForeignLoadReport:
    """Load an official Emotion-FAN checkpoint (file or state dict) into a ferlib FAN.

    Keys are renamed as the module docstring says; ``fc.*`` is dropped. Model entries the file does
    not have stay as they are and are listed in ``missing`` (``num_batches_tracked`` counters,
    absent from old files, are not listed). A tensor whose shape differs from the model's raises
    :class:`ValueError`, or is skipped and listed in ``mismatched`` with ``skip_mismatched=True``
    (e.g. a 7-class head into a 6-class model). A file with no Emotion-FAN key raises
    :class:`ValueError`.
    """
    state = read_checkpoint(source, weights_only=weights_only)
    where = str(source) if isinstance(source, (str, Path)) else "the given state dict"
    own = model.state_dict()
    report = ForeignLoadReport()
    mapped: dict[str, torch.Tensor] = {}
    for raw_key, tensor in state.items():
        key = raw_key[len("module."):] if raw_key.startswith("module.") else raw_key
        if key.startswith(_FAN_DROPPED):
            report.dropped.append(raw_key)
            continue
        target = emotion_fan_key(key)
        if target is None or target not in own:
            report.unexpected.append(raw_key)
            continue
        if tuple(own[target].shape) != tuple(tensor.shape):
            if not skip_mismatched:
                raise ValueError(
                    f"{where}: {raw_key} has shape {tuple(tensor.shape)} but the model's {target} has "
                    f"{tuple(own[target].shape)} (different class count or backbone?); pass "
                    "skip_mismatched=True to keep the model's tensor"
                )
            report.mismatched.append(target)
            continue
        mapped[target] = tensor
    if not mapped and not report.mismatched:
        raise ValueError(
            f"{where} is not an Emotion-FAN checkpoint for this model: none of its keys "
            f"(first ones: {list(state)[:5]}) map onto {type(model).__name__} "
            "(expected module.conv1.weight, module.layer1.0.conv1.weight, module.alpha.0.weight, ...)"
        )
    model.load_state_dict(mapped, strict=False)
    norm = getattr(model, "input_norm", None)
    if norm is not None:  # the official code feeds ToTensor() output unnormalised (its load.py)
        norm.set([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    report.loaded = sorted(mapped)
    report.missing = sorted(
        k for k in own if k not in mapped and k not in report.mismatched and not k.endswith("num_batches_tracked")
        and not k.startswith("input_norm.")
    )
    return report


Loader = Callable[..., ForeignLoadReport]

#: loaders defined here, by name
FOREIGN_LOADERS: dict[str, Loader] = {"emotion_fan": load_emotion_fan_state_dict}

#: loaders other model modules define: name -> (module, function). Listed by :func:`foreign_loaders`
#: only when the module imports and has the function.
OPTIONAL_LOADERS: dict[str, tuple[str, str]] = {
    "stgcn_yysijie": ("ferlib.models.stgcn", "load_yysijie_stgcn_state_dict"),
    "triplet_attention": ("ferlib.models.triplet_attention", "load_triplet_attention_state_dict"),
}


def foreign_loaders() -> dict[str, Loader]:
    """Every foreign-checkpoint loader by name: :data:`FOREIGN_LOADERS` plus those of
    :data:`OPTIONAL_LOADERS`, imported on first use (their modules import this one)."""
    loaders = dict(FOREIGN_LOADERS)
    for name, (module_name, func_name) in OPTIONAL_LOADERS.items():
        loaders[name] = getattr(importlib.import_module(module_name), func_name)
    return loaders


def load_foreign(name: str, model: nn.Module, source: StateSource, **kwargs: Any) -> ForeignLoadReport:
    """Run the foreign loader ``name`` (see :func:`foreign_loaders`)."""
    loaders = foreign_loaders()
    if name not in loaders:
        raise ValueError(f"unknown foreign checkpoint format {name!r}; available: {sorted(loaders)}")
    return loaders[name](model, source, **kwargs)
