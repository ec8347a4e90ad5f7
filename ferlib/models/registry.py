"""One place to build any method by name, profile and variant.

Each model module calls :func:`register` at import time with its class, its profiles (``demo``:
small backbone and input that train on a 2-core CPU in minutes; ``paper``: the paper's backbone,
input size and frame count) and its named variants (the ablation rows). :func:`build_model` merges
profile kwargs, variant kwargs and user overrides, in that order.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

from torch import nn

#: modules that register methods; imported on first use
MODEL_MODULES = (
    "ferlib.models.fer_gcn",
    "ferlib.models.fan",
    "ferlib.models.kp_gcn_msa",
    "ferlib.models.stgcn",
    "ferlib.models.baselines",
)
PROFILES = ("demo", "paper")


@dataclass(frozen=True)
class Profile:
    """What a method needs from the data pipeline, plus its constructor kwargs.

    ``sampler`` names a sampler of :mod:`ferlib.data.samplers` (``chronological``, ``segments``,
    ``tsn``, ``window``); ``num_frames`` is the T it is given; ``input_size`` the square frame side
    (0 for landmark-only models).
    """

    kwargs: dict[str, Any]
    input_size: int
    num_frames: int
    sampler: str


@dataclass
class MethodEntry:
    name: str
    factory: Callable[..., nn.Module]
    profiles: dict[str, Profile]
    variants: dict[str, dict[str, Any]] = field(default_factory=lambda: {"full": {}})


_REGISTRY: dict[str, MethodEntry] = {}
_loaded = False


def register(
    name: str,
    factory: Callable[..., nn.Module],
    profiles: dict[str, Profile],
    variants: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Register a method (called by the model modules at import time)."""
    missing = set(PROFILES) - set(profiles)
    if missing:
        raise ValueError(f"method {name!r} must define profiles {PROFILES}, missing {sorted(missing)}")
    _REGISTRY[name] = MethodEntry(name, factory, dict(profiles), dict(variants or {"full": {}}))


def _load_all() -> None:
    global _loaded
    if not _loaded:
        for module in MODEL_MODULES:
            importlib.import_module(module)
        _loaded = True


def available_methods() -> list[str]:
    """Names accepted by :func:`build_model`."""
    _load_all()
    return sorted(_REGISTRY)


def method_entry(name: str) -> MethodEntry:
    """The registry entry of a method; unknown names raise with the list of known ones."""
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"unknown method {name!r}; expected one of {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def get_profile(name: str, profile: str = "demo") -> Profile:
    """The :class:`Profile` of a method (what sampler, frame count and input size it needs)."""
    entry = method_entry(name)
    if profile not in entry.profiles:
        raise ValueError(f"unknown profile {profile!r} for {name!r}; expected one of {sorted(entry.profiles)}")
    return entry.profiles[profile]


def build_model(
    name: str,
    profile: str = "demo",
    num_classes: int = 7,
    variant: str = "full",
    **overrides: Any,
) -> nn.Module:
    """Build method ``name`` with the kwargs of ``profile``, then ``variant``, then ``overrides``."""
    entry = method_entry(name)
    prof = get_profile(name, profile)
    if variant not in entry.variants:
        raise ValueError(f"unknown variant {variant!r} for {name!r}; expected one of {sorted(entry.variants)}")
    kwargs = {**prof.kwargs, **entry.variants[variant], **overrides}
    return entry.factory(num_classes=num_classes, **kwargs)
