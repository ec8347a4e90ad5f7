"""The workbook's three profiles — ``smoke``, ``demo``, ``paper`` — defined once.

A profile says how big a run is, everywhere it is chosen (notebook parameters, the workbook,
``run_notebooks``, ``reproduce``, the transfer check, training): which **model profile** it trains
(:data:`MODEL_PROFILES`: ``demo``, the small CPU models; ``paper``, the papers' backbones, input
sides and frame counts; a method declares both in its model file), how large the notebooks'
generated data sets are, and how large the transfer check is. ``smoke`` trains the demo models
briefly (one epoch of one fold) on the smallest data; it checks that everything runs, not what it
measures.

A leaf: it imports nothing of ferlib, so every layer may read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

#: the profiles, smallest first
PROFILES = ("smoke", "demo", "paper")
#: the model profiles a method declares (``MethodSpec.profiles``); a profile trains one of them
MODEL_PROFILES = ("demo", "paper")


@dataclass(frozen=True)
class Profile:
    """One profile: ``name`` (:data:`PROFILES`); ``model`` the model profile it trains
    (:data:`MODEL_PROFILES`); ``synth`` the :class:`~ferlib.synth.generate.SynthConfig` fields
    that size the notebooks' generated sets; ``transfer`` the transfer check's size: rendered and
    tested identities (``n_test`` None: all the others), neutral-only people rendered too
    (``n_neutral_only``, None: all), identity splits (``seeds``), clips, frames, pixel ``side``,
    real-clip ``repeats``, ``epochs`` (None: the method's schedule), TrainConfig ``overrides`` and
    frame pre-training arguments (``pretrain``, over the check's own)."""

    name: str
    model: str
    synth: Mapping[str, int] = field(default_factory=dict)
    transfer: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.model not in MODEL_PROFILES:
            raise ValueError(f"profile {self.name!r}: model profile {self.model!r} is not one of {MODEL_PROFILES}")


_PROFILES = {p.name: p for p in (
    Profile("smoke", "demo", MappingProxyType(dict(n_subjects=3, n_frames=8)), MappingProxyType(dict(
        n_rendered=3, n_test=2, n_neutral_only=1, seeds=(0, 1), clips_per_subject=4, procedural_subjects=4, n_frames=6,
        side=32, repeats=1, epochs=1,
        overrides={"init_trunk": ""},  # no frame pre-training, as the notebooks' smoke profile
        pretrain={"n_subjects": 4, "val_subjects": 1, "epochs": 1, "photo_clips_per_subject": 2, "photo_epochs": 1}))),
    Profile("demo", "demo", MappingProxyType(dict(n_subjects=30, n_frames=16)), MappingProxyType(dict(
        # 40 of the 61 London people and the 40 Canada people rendered, 21 London people tested, three splits;
        # 3 clips a person (rendered once for all splits) and 3 photo pre-training clips a person: sized for time
        n_rendered=40, n_test=None, n_neutral_only=None, seeds=(0, 1, 2), clips_per_subject=3, procedural_subjects=30,
        n_frames=16, side=64, repeats=1, epochs=None, pretrain={"photo_clips_per_subject": 3}))),
    Profile("paper", "paper", MappingProxyType(dict(n_subjects=100, n_frames=32)), MappingProxyType(dict(
        n_rendered=40, n_test=None, n_neutral_only=None, seeds=(0, 1, 2), clips_per_subject=40, procedural_subjects=100,
        n_frames=32, side=224, repeats=4,
        epochs=None))),
)}
assert tuple(_PROFILES) == PROFILES


def get_profile(name: str) -> Profile:
    """The :class:`Profile` called ``name``; an unknown name raises naming the known ones."""
    if name not in _PROFILES:
        raise ValueError(f"unknown profile {name!r}; expected one of {PROFILES}")
    return _PROFILES[name]


def check_model_profile(name: str, what: str = "model profile") -> str:
    """``name`` if it is one of :data:`MODEL_PROFILES`, else a ``ValueError`` naming ``what``."""
    if name not in MODEL_PROFILES:
        raise ValueError(f"{what} {name!r} is not one of {MODEL_PROFILES}")
    return name
