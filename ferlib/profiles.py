"""The workbook's three profiles — ``smoke``, ``demo``, ``paper`` — defined once.

A profile says how big a run is, everywhere it is chosen (notebook parameters, the workbook,
``run_notebooks``, ``reproduce``, the transfer check, training): which **model profile** it trains
(:data:`MODEL_PROFILES`: ``demo``, the small CPU models; ``paper``, the papers' backbones, input
sides and frame counts; a method declares both in its model file), how large the notebooks'
generated data sets are, how large the transfer check is, and what the gallery run exports. ``smoke`` trains the demo models
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
#: the key-point paper's ablation grids (Tables 9-12, Fig. 8): 19 variants beyond the full model, each a
#: training of the demo's costliest model on every fold of the profile (make demo shares them between its
#: two job slots: ferlib.run_notebooks.AHEAD)
KP_GRIDS = ("kp_table9", "kp_table10_fusion", "kp_table11_heads", "kp_table12_depth", "kp_fig8_lambda")


@dataclass(frozen=True)
class Profile:
    """One profile: ``name`` (:data:`PROFILES`); ``model`` the model profile it trains
    (:data:`MODEL_PROFILES`); ``synth`` the :class:`~ferlib.synth.generate.SynthConfig` fields
    that size the notebooks' generated sets; ``transfer`` the transfer check's size: rendered and
    tested identities (``n_test`` None: all the others), neutral-only people rendered too
    (``n_neutral_only``, None: all), identity splits (``seeds``), clips, frames, pixel ``side``,
    real-clip ``repeats``, ``epochs`` (None: the method's schedule), TrainConfig ``overrides`` and
    frame pre-training arguments (``pretrain``, over the check's own); ``gallery`` the generated sets the
    gallery run exports in each data set's layout (:mod:`ferlib.gallery_runs`), per course kind
    (``lab`` / ``wild``): subjects, frames a clip, frame ``side`` (empty: the gallery does not run at
    this profile); ``folds`` the fold positions its notebooks train (``None``: every fold of the
    protocol); ``train`` the TrainConfig overrides of its runs; ``generated_protocol`` the protocol
    (name, kwargs) its runs use on a generated set (``None``: the recipe's); ``ablations`` the
    ablation notebook's (grids, epochs, rows per grid, folds), ``None`` for every grid / each schedule's
    epochs / every row / the profile's ``folds`` (the folds may be a mapping grid → folds, the grids
    it leaves out training the profile's ``folds``); ``extra_variants`` whether the method notebooks also train a method's
    variants beyond the full model that are no ablation row (ST-GCN's multi-stream: four trainings)."""

    name: str
    model: str
    synth: Mapping[str, int] = field(default_factory=dict)
    transfer: Mapping[str, Any] = field(default_factory=dict)
    gallery: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    folds: tuple[int, ...] | None = None
    train: Mapping[str, Any] = field(default_factory=dict)
    generated_protocol: tuple[str, Mapping[str, Any]] | None = None
    ablations: tuple[tuple[str, ...] | None, int | None, int | None,
                     tuple[int, ...] | Mapping[str, tuple[int, ...]] | None] = (None, None, None, None)
    extra_variants: bool = False

    def __post_init__(self) -> None:
        if self.model not in MODEL_PROFILES:
            raise ValueError(f"profile {self.name!r}: model profile {self.model!r} is not one of {MODEL_PROFILES}")


_PROFILES = {p.name: p for p in (
    Profile("smoke", "demo", MappingProxyType(dict(n_subjects=3, n_frames=8)), MappingProxyType(dict(
        n_rendered=3, n_test=2, n_neutral_only=1, seeds=(0, 1), clips_per_subject=4, procedural_subjects=4, n_frames=6,
        side=32, repeats=1, epochs=1,
        overrides={"init_trunk": ""},  # no frame pre-training, as the notebooks' smoke profile
        pretrain={"n_subjects": 4, "val_subjects": 1, "epochs": 1, "photo_clips_per_subject": 2, "photo_epochs": 1})),
        # the lab sets' protocol is 10 subject folds: 10 lab subjects; 5 wild ones leave every split of
        # the in-the-wild layouts a subject
        gallery=MappingProxyType(dict(lab=dict(n_subjects=5, n_frames=8, side=64), wild=dict(n_subjects=5, n_frames=8, side=64))),
        folds=(0,), train=MappingProxyType(dict(epochs=1, val_fraction=0.5, init_trunk="", progress=False)),
        generated_protocol=("subject_kfold", MappingProxyType({"k": 3})),  # its 3 subjects, one a fold
        ablations=(None, 1, 2, None)),
    Profile("demo", "demo", MappingProxyType(dict(n_subjects=30, n_frames=16)), MappingProxyType(dict(
        # 40 of the 61 London people and the 40 Canada people rendered, 21 London people tested; 3 clips a
        # person (rendered once for all splits) and 3 photo pre-training clips a person; three identity
        # splits (each a pre-training and three trainings), so the result is a mean with its spread
        n_rendered=40, n_test=None, n_neutral_only=None, seeds=(0, 1, 2), clips_per_subject=3, procedural_subjects=30,
        n_frames=16, side=64, repeats=1, epochs=None, pretrain={"photo_clips_per_subject": 3})),
        gallery=MappingProxyType(dict(lab=dict(n_subjects=10, n_frames=16, side=64), wild=dict(n_subjects=5, n_frames=16, side=64))),
        # three of the five subject folds: each result is a mean with its spread (one fold alone moves by
        # several points between machines)
        folds=(0, 1, 2),
        # every ablation grid the notebooks draw, on the profile's three folds (06: FER-GCN's and FAN's; 04:
        # KP-GCN-MSA's Tables 9-12 and λ sweep; their full-model rows are the method notebooks' own runs)
        ablations=(("fer_gcn_table5", "fan_variants", "fan_k_segments", *KP_GRIDS), None, None, None),
        extra_variants=True),
    Profile("paper", "paper", MappingProxyType(dict(n_subjects=100, n_frames=32)), MappingProxyType(dict(
        n_rendered=40, n_test=None, n_neutral_only=None, seeds=(0, 1, 2), clips_per_subject=40, procedural_subjects=100,
        n_frames=32, side=224, repeats=4,
        epochs=None)), extra_variants=True),
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
