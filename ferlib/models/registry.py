"""One declaration per method: :class:`MethodSpec`, filled by the model files, read by everyone else.

Each model file ends with ``register(MethodSpec(...))``: how to build the method per model profile
(:class:`ModelProfile`: ``demo`` — small backbone and input that train on a 2-core CPU in minutes;
``paper`` — the paper's backbone, input side and frame count; :data:`ferlib.profiles.MODEL_PROFILES`), its variants (the ablation rows),
which inputs it takes from a batch, its train and test frame sampling, its recipes (one per data
set, see :mod:`ferlib.train.recipes`), its paper references (main table, per-class table,
ablation grids), the claims about its frame weights, whether the cost table has its row, and the notebook that
trains it. The engine, Grad-CAM, the cost table, the ablation grids, ``reproduce``, the benchmarks and
the notebooks read the spec (:func:`methods` selects them by a spec field); none keeps its own list of
methods, and no file but the model file (its paper numbers and its notebook aside) names one.

Importing :mod:`ferlib.models` imports every model file, so the registry is full once the
package is imported. :func:`build_model` merges profile kwargs, variant kwargs and user
overrides, in that order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import torch
from torch import nn

from ferlib.data.landmarks68 import MEAN_SHAPE
from ferlib.models.base import InputKind
from ferlib.profiles import MODEL_PROFILES

INPUT_KINDS = ("frames", "frames+landmarks", "landmarks")
#: the clips a frame-weight claim is measured on (:attr:`MethodSpec.weight_claims`)
WEIGHT_CLIPS = ("same", "return", "moved")


@dataclass(frozen=True)
class ModelProfile:
    """A model profile (``demo`` or ``paper``): constructor kwargs plus what it needs from the data pipeline.

    ``sampler`` names the training sampler of :mod:`ferlib.data.samplers` (``chronological``,
    ``segments``, ``tsn``, ``window``, ``all``); ``test_sampler`` the one used at evaluation
    (``""``: the same sampler in its test mode); ``num_frames`` is the T it is given;
    ``input_side`` the square frame side in pixels (0 for landmark-only models)."""

    kwargs: dict[str, Any]
    input_side: int
    num_frames: int
    sampler: str
    test_sampler: str = ""


#: what a paper item is; only tables and figures can be regenerated
ITEM_KINDS = ("table", "figure", "diagram", "literature", "authors' data", "no numbers")
#: the maker of the items the gallery run writes (``ferlib.gallery_runs``: reproduce on each data set's layout)
GALLERY = "`python -m ferlib.gallery --make`"


@dataclass(frozen=True)
class PaperItem:
    """One table or figure of a method's paper and what regenerates it (the gallery's list).

    ``item`` ``"Table I"`` / ``"Fig. 4"``; ``what`` it shows; ``kind`` one of :data:`ITEM_KINDS`;
    ``maker`` the notebook section or command that makes it; ``files`` what ``make demo`` writes
    for it under ``figures/`` (empty: ``make demo`` does not make it); ``needs`` what making it
    takes when ``make demo`` does not (a clip store of a data set, the ``paper`` profile)."""

    item: str
    what: str
    kind: str
    maker: str = ""
    files: tuple[str, ...] = ()
    needs: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ITEM_KINDS:
            raise ValueError(f"{self.item}: kind {self.kind!r} is not one of {ITEM_KINDS}")
        if self.kind in ("table", "figure") and not self.maker:
            raise ValueError(f"{self.item}: a {self.kind} names what makes it (maker)")
        if self.files and self.kind not in ("table", "figure"):
            raise ValueError(f"{self.item}: a {self.kind} has no files")


@dataclass(frozen=True)
class PaperRefs:
    """Where a method's numbers are in :mod:`ferlib.paper_numbers`.

    ``main``: data set → (table key, column) of the paper's headline row for that data set;
    ``per_class``: data set → per-class table key; ``ablations``: grid name → rows (label, variant,
    optional overrides; the rows of :func:`ferlib.train.ablate.paper_grids`); ``per_group``: (data set,
    index column) → the table of the paper's accuracy per group of clips (KP-GCN-MSA Table 6: FERV39k's
    scenes); ``paper``: the paper's name (its published cost figures are
    :data:`ferlib.paper_numbers.PAPER_COST`, keyed by method);
    ``items``: its tables and figures (:class:`PaperItem`; a paper shared by several methods lists
    them under one of them)."""

    main: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    per_class: Mapping[str, str] = field(default_factory=dict)
    ablations: Mapping[str, list[dict[str, Any]]] = field(default_factory=dict)
    per_group: Mapping[tuple[str, str], str] = field(default_factory=dict)
    paper: str = ""
    items: tuple[PaperItem, ...] = ()


BatchInputs = Callable[..., tuple[torch.Tensor, ...]]


def frames_only(batch: Mapping[str, torch.Tensor], **_: Any) -> tuple[torch.Tensor, ...]:
    """Frame models: ``(frames (B, T, 3, S, S),)``."""
    return (batch["frames"],)


def frames_and_landmarks(batch: Mapping[str, torch.Tensor], **_: Any) -> tuple[torch.Tensor, ...]:
    """Landmark-guided frame models: ``(frames (B, T, 3, S, S), landmarks (B, T, 68, 2))``."""
    return (batch["frames"], batch["landmarks"])


@dataclass
class MethodSpec:
    """Everything about one method, declared once in its model file.

    ``inputs`` is the model's input kind; ``batch_inputs(batch, stgcn_normalise=…)`` turns a
    :class:`~ferlib.data.dataset.ClipDataset` batch into the model's positional arguments (default:
    from ``inputs``). ``recipes`` maps a recipe key (``"demo"``, a data set name such as
    ``"ckplus"``, or ``"<dataset>:<name>"`` for a named alternative such as ``"ckplus:official"``)
    to plain data — every value a ``(value, source)`` pair (:mod:`ferlib.train.recipes`).
    ``byproducts`` are the extras every variant returns (per clip, first dimension B).
    ``weight_claims`` are the paper's claims about its per-frame weights that notebook 07 measures against
    the expression's intensity: ``(by-product key, clips, question)`` with clips ``"same"`` (trained and
    tested on one data set), ``"return"`` (trained and tested on the comparison set, apex mid-clip) or
    ``"moved"`` (the first data set's checkpoint on the comparison set); ``()`` for a method without frame
    weights. :attr:`weight_keys` are their keys, the method's own weights first.
    ``paper_classes`` is the class count of the paper's main data set and ``cost_row`` whether the cost
    table (notebook 10) measures the method. ``transfer_variants`` are variants the real-face transfer
    check (notebook 11) runs beside the full model. (Foreign checkpoints are loaded by format name,
    :func:`ferlib.models.foreign.load_foreign`, not per method.)"""

    name: str
    factory: Callable[..., nn.Module]
    profiles: dict[str, ModelProfile]
    inputs: InputKind = "frames"
    variants: dict[str, dict[str, Any]] = field(default_factory=lambda: {"full": {}})
    recipes: dict[str, dict[str, Any]] = field(default_factory=dict)
    papers: PaperRefs = field(default_factory=PaperRefs)
    notebook: str = ""
    paper_classes: int = 7
    batch_inputs: BatchInputs | None = None
    byproducts: tuple[str, ...] = ("embedding",)
    weight_claims: tuple[tuple[str, str, str], ...] = ()
    cost_row: bool = False
    transfer_variants: tuple[str, ...] = ()
    description: str = ""

    @property
    def weight_keys(self) -> tuple[str, ...]:
        """The by-products that are per-frame weights (those of :attr:`weight_claims`, in order)."""
        return tuple(dict.fromkeys(key for key, _, _ in self.weight_claims))

    @property
    def frame_cnn(self) -> bool:
        """Whether the method runs a per-frame 2-D CNN on frames (kept at ``model.trunk``; what Grad-CAM and
        frame pre-training act on): a frame-input method whose demo recipe starts that CNN from a trunk."""
        return self.inputs != "landmarks" and "init_trunk" in self.recipes.get("demo", {})

    def __post_init__(self) -> None:
        missing = set(MODEL_PROFILES) - set(self.profiles)
        if missing:
            raise ValueError(f"method {self.name!r} must define model profiles {MODEL_PROFILES}, missing {sorted(missing)}")
        if self.inputs not in INPUT_KINDS:
            raise ValueError(f"method {self.name!r}: inputs must be one of {INPUT_KINDS}, got {self.inputs!r}")
        bad = [c for _, c, _ in self.weight_claims if c not in WEIGHT_CLIPS]
        if bad:
            raise ValueError(f"method {self.name!r}: weight_claims clips must be one of {WEIGHT_CLIPS}, got {bad}")
        if "full" not in self.variants:
            raise ValueError(f"method {self.name!r} must have a 'full' variant")
        if self.batch_inputs is None:
            self.batch_inputs = frames_only if self.inputs == "frames" else frames_and_landmarks if \
                self.inputs == "frames+landmarks" else None
        if self.batch_inputs is None:
            raise ValueError(f"method {self.name!r} takes {self.inputs!r}: declare batch_inputs")


_REGISTRY: dict[str, MethodSpec] = {}


def register(spec: MethodSpec) -> MethodSpec:
    """Add a method (called by the model files at import time); returns the spec."""
    _REGISTRY[spec.name] = spec
    return spec


def _load_all() -> None:
    import ferlib.models  # noqa: F401  (its __init__ imports every model file)


def available_methods() -> list[str]:
    """Names accepted by :func:`build_model`."""
    _load_all()
    return sorted(_REGISTRY)


def methods(where: Callable[[MethodSpec], bool] | None = None) -> tuple[str, ...]:
    """The methods whose spec passes ``where`` (all without it), in the workbook's order: the papers'
    methods in the order of their notebooks (02 FER-GCN … 05 ST-GCN), then the others in registration
    order. ``methods(lambda s: s.cost_row)`` is the cost table's rows."""
    _load_all()
    order = sorted(enumerate(_REGISTRY.values()), key=lambda ir: (not ir[1].notebook, ir[1].notebook, ir[0]))
    return tuple(spec.name for _, spec in order if where is None or where(spec))


def paper_methods() -> tuple[str, ...]:
    """The four papers' methods (those with a notebook that trains them), in notebook order."""
    return methods(lambda spec: bool(spec.notebook))


def item_owner(paper: str, item: str) -> str:
    """The method whose spec lists ``item`` (``"Fig. 4"``) of the paper whose name starts with ``paper``
    (``"FER-GCN"``): how a notebook section that redraws one paper's figure finds its method."""
    found = [m for m in available_methods() if method_spec(m).papers.paper.startswith(paper)
             and any(it.item == item for it in method_spec(m).papers.items)]
    if len(found) != 1:
        papers = sorted({method_spec(m).papers.paper.split(" (")[0] for m in available_methods() if method_spec(m).papers.paper})
        raise ValueError(f"{paper!r} {item!r}: expected one method listing it, found {found}; papers: {papers}")
    return found[0]


def method_spec(name: str) -> MethodSpec:
    """The :class:`MethodSpec` of a method; unknown names raise with the list of known ones."""
    _load_all()
    if name not in _REGISTRY:
        raise ValueError(f"unknown method {name!r}; expected one of {sorted(_REGISTRY)}")
    return _REGISTRY[name]


def model_profile(name: str, profile: str = "demo") -> ModelProfile:
    """The :class:`ModelProfile` of a method (what sampler, frame count and input side it needs)."""
    spec = method_spec(name)
    if profile not in spec.profiles:
        raise ValueError(f"unknown model profile {profile!r} for {name!r}; expected one of {sorted(spec.profiles)}")
    return spec.profiles[profile]


def build_model(
    name: str,
    profile: str = "demo",
    num_classes: int = 7,
    variant: str = "full",
    **overrides: Any,
) -> nn.Module:
    """Build method ``name`` with the kwargs of model ``profile``, then ``variant``, then ``overrides``."""
    spec = method_spec(name)
    chosen = model_profile(name, profile)
    if variant not in spec.variants:
        raise ValueError(f"unknown variant {variant!r} for {name!r}; expected one of {sorted(spec.variants)}")
    kwargs = {**chosen.kwargs, **spec.variants[variant], **overrides}
    return spec.factory(num_classes=num_classes, **kwargs)


def model_inputs(method: str, batch: Mapping[str, torch.Tensor], device: torch.device | str | None = None,
                 **options: Any) -> tuple[torch.Tensor, ...]:
    """The positional arguments ``method``'s model takes for a data-set batch (moved to ``device``).
    ``options`` go to the spec's ``batch_inputs`` (ST-GCN: ``stgcn_normalise``)."""
    spec = method_spec(method)
    args = spec.batch_inputs(batch, **options)  # type: ignore[misc]
    if device is not None:
        args = tuple(a.to(device, non_blocking=True) for a in args)
    return args


def example_batch(method: str, profile: str = "demo", batch: int = 2, seed: int = 0,
                  num_frames: int | None = None, input_side: int | None = None) -> dict[str, torch.Tensor]:
    """A random batch of the shapes ``method``'s model ``profile`` is fed by the data pipeline: frames
    ``(B, T, 3, S, S)`` in [0, 1] and landmarks ``(B, T, 68, 2)`` in pixels (a jittered mean face,
    so that eye-distance normalisation is well defined), plus ``label`` ``(B,)``. For tests and
    benchmarks; :func:`model_inputs` turns it into the model's arguments."""
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    chosen = model_profile(method, profile)
    t = int(num_frames or chosen.num_frames)
    s = int(input_side or chosen.input_side or 64)
    gen = torch.Generator().manual_seed(seed)
    face = torch.as_tensor(MEAN_SHAPE * (0.4 * s) + [0.5 * s, 0.4 * s], dtype=torch.float32)
    landmarks = face + torch.randn(batch, t, 68, 2, generator=gen) * (0.01 * s)
    return {
        "frames": torch.rand(batch, t, 3, s, s, generator=gen),
        "landmarks": landmarks,
        "label": torch.randint(0, 2, (batch,), generator=gen),
    }


def cite(source: str, **values: Any) -> dict[str, tuple[Any, str]]:
    """Recipe entries that share one source: ``cite("FER-GCN paper §IV-B", lr=1e-3)`` →
    ``{"lr": (1e-3, "FER-GCN paper §IV-B")}`` (see :mod:`ferlib.train.recipes`)."""
    return {k: (v, source) for k, v in values.items()}


#: the demo recipe's shared values: short CPU schedules tuned on generated `lab` clips
DEMO_CHOICE = "ferlib's choice (demo: trains on a 2-core CPU in minutes)"
DEMO_DEFAULTS = {**cite(DEMO_CHOICE, optimizer="adamw", lr=3e-3, weight_decay=1e-4, epochs=12, batch_size=16,
                        schedule="cosine"),
                 # evaluating the validation and test folds after every epoch took a large share of a demo training's
                 # wall time (FAN's largest: its test clips run all their frames)
                 **cite("ferlib's choice (demo): the model is selected among every second epoch and the last", eval_every=2)}
#: the frame-based demo methods start their small CNN from frame-level pre-training on other generated
#: subjects (ferlib.experiments.pretrain; from scratch they stayed at chance) and fine-tune it at a tenth of
#: the head's lr, its first convolution block kept as pre-trained. Freezing that block spares the backward pass
#: over the 64-px maps (the costliest part of a step); when chosen, one run each, it raised FER-GCN's and FAN's
#: real neutral-vs-happy accuracy (transfer check) and KP-GCN-MSA's on generated folds 1-3, and cost FER-GCN and
#: FAN a few of those generated test clips (notebooks 02-04 and 11 print today's numbers)
DEMO_PRETRAINED = {**cite("ferlib's choice: from scratch the demo CNN stayed at chance on synth lab",
                          init_trunk="synth-frames", trunk_lr_scale=0.1),
                   **cite("ferlib's choice: the demo CNN's first convolution block kept as pre-trained", freeze_trunk=1)}
