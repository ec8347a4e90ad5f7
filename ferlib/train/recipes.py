"""Recipes: how a paper trained one method on one data set, as plain data with a source per value.

A method's recipes live in its model file (``MethodSpec.recipes``). A recipe is a dict whose
every value is a ``(value, source)`` pair; the source says where the value comes from — the
paper's text (file, section or table), the official code, or ``ferlib's choice`` with the reason::

    "ckplus": {
        "protocol": (("fan_ckplus", {"k": 10}), "FAN paper §3.1; fold rule of the official code"),
        "lr": (0.1, "FAN paper §3.1"),
        ...
    }

Keys: ``protocol`` (a protocol of :mod:`ferlib.data.protocols` and its kwargs), ``profile`` (the
model profile: ``paper`` or ``demo``), ``paper_table`` (the paper's headline ``(table, column)``
for this data set; defaults to the spec's ``papers.main``) and any field of
:class:`~ferlib.train.config.TrainConfig` that decides a result (optimiser, schedule, batch,
epochs, sampler, test sampler, augmentation, trunk, ``init_from`` …).

Recipe keys: ``"<dataset>"`` is the paper's text (the default), ``"<dataset>:<name>"`` a named
alternative (``"ckplus:official"``: the official code where it differs from the text), ``"demo"``
the small model on a CPU for any data set (the data set's own protocol unless it sets one), and
``"synth"`` the paper recipe applied to the generated data set.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ferlib.models.registry import method_spec, model_profile
from ferlib.profiles import MODEL_PROFILES
from ferlib.train.config import TrainConfig

#: each data set's own protocol (the adapter's), used by recipes that do not set one; the
#: generated set uses 5 subject folds (30 subjects: 6 per test fold)
DATASET_PROTOCOLS: dict[str, tuple[tuple[str, dict[str, Any]], str]] = {
    "ckplus": (("subject_kfold", {"k": 10}), "10-fold subject-independent CV (FER-GCN paper §IV-A)"),
    "oulu": (("subject_kfold", {"k": 10}), "10-fold subject-independent CV (FER-GCN paper §IV-A)"),
    "mmi": (("subject_kfold", {"k": 10}), "10-fold subject-independent CV (FER-GCN paper §IV-A)"),
    "afew": (("train_test", {"train": "train", "test": "val"}), "AFEW 8.0 Train → Val (test labels unpublished)"),
    "dfew": (("official_folds", {"column": "fold"}), "DFEW's official 5 folds"),
    "mafw": (("official_folds", {"column": "fold"}), "MAFW's official 5 folds"),
    "ferv39k": (("train_test", {"train": "train", "test": "test"}), "FERV39k's official train → test split"),
    "affwild2": (("train_test", {"train": "train", "test": "val"}), "Aff-Wild2 train → validation (ST-GCN the ST-GCN post)"),
    "london": (("subject_kfold", {"k": 10}), "ferlib's choice: 10 subject folds (20 subjects)"),
    "synth": (("subject_kfold", {"k": 5}), "ferlib's choice: 5 subject folds of the generated set"),
}
#: names a user may type for a data set → its key
ALIASES = {"ck+": "ckplus", "ck": "ckplus", "oulu-casia": "oulu", "afew8": "afew", "aff-wild2": "affwild2"}
#: recipe keys that are not copied into TrainConfig fields (``profile`` picks the model profile, see resolve_config)
META_KEYS = ("protocol", "profile", "paper_table")
#: TrainConfig fields a recipe may not set (they name the run, not its recipe)
NOT_IN_RECIPES = ("method", "profile", "variant", "dataset", "experiment", "recipe", "num_workers", "device",
                  "progress", "cache_clips", "channels_last", "compile")


class RecipeError(ValueError):
    """A recipe is missing for a (method, data set) pair or holds a bad value."""


def dataset_key(name: str) -> str:
    """The recipe key of a data set name: ``"CK+"`` → ``"ckplus"``, ``"synth-lab"`` → ``"synth"``."""
    key = str(name).strip().lower()
    key = ALIASES.get(key, key)
    return "synth" if key.startswith("synth") else key


@dataclass(frozen=True)
class Recipe:
    """A resolved recipe: what :func:`resolve_config` and the protocol need."""

    method: str
    dataset: str
    key: str
    protocol: str
    protocol_kwargs: dict[str, Any]
    profile: str
    fields: dict[str, Any]
    sources: dict[str, str]
    paper_table: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        """``paper`` (the text), ``demo``, or the alternative's name (``official``)."""
        return "demo" if self.key == "demo" else self.key.split(":", 1)[1] if ":" in self.key else "paper"

    def table(self) -> pd.DataFrame:
        """One row per value: ``field``, ``value``, ``source``."""
        rows = [("protocol", f"{self.protocol} {self.protocol_kwargs}", self.sources["protocol"]),
                ("profile", self.profile, self.sources.get("profile", ""))]
        rows += [(k, v, self.sources.get(k, "")) for k, v in self.fields.items()]
        return pd.DataFrame(rows, columns=["field", "value", "source"]).set_index("field")


def _config_types() -> dict[str, Any]:
    hints = typing.get_type_hints(TrainConfig)
    return {f.name: hints[f.name] for f in dataclasses.fields(TrainConfig) if f.name not in NOT_IN_RECIPES}


def _type_ok(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if origin in (list, tuple):
        (inner, *_) = typing.get_args(hint) or (Any,)
        return isinstance(value, (list, tuple)) and all(_type_ok(v, inner) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return True


def check_recipe(method: str, key: str, recipe: dict[str, Any]) -> None:
    """Every entry a ``(value, source)`` pair, every key known, every value of its field's type."""
    types = _config_types()
    where = f"recipe {key!r} of {method!r}"
    for k, entry in recipe.items():
        if k not in types and k not in META_KEYS:
            raise RecipeError(f"{where}: unknown key {k!r}; expected one of {sorted([*META_KEYS, *types])}")
        if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], str) and entry[1]):
            raise RecipeError(f"{where}: {k!r} must be a (value, source) pair with a non-empty source, got {entry!r}")
        value = entry[0]
        if k in types and not _type_ok(value, types[k]):
            raise RecipeError(f"{where}: {k}={value!r} is a {type(value).__name__}; expected {types[k]}")
        if k == "protocol" and not (isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str)
                                    and isinstance(value[1], dict)):
            raise RecipeError(f"{where}: protocol must be (name, kwargs), got {value!r}")
        if k == "profile" and value not in MODEL_PROFILES:
            raise RecipeError(f"{where}: profile must be one of {MODEL_PROFILES}, got {value!r}")


def recipe_keys(method: str) -> list[str]:
    """The recipe keys ``method`` declares (``demo``, data sets, ``<dataset>:<name>``)."""
    return sorted(method_spec(method).recipes)


def datasets_with_recipe(method: str) -> list[str]:
    """The data sets ``method`` has a paper recipe for (``synth`` included)."""
    return sorted({k.split(":")[0] for k in recipe_keys(method) if k != "demo"})


def get_recipe(method: str, dataset: str, name: str = "paper") -> Recipe:
    """The recipe of ``method`` on ``dataset``: ``name`` ``"paper"`` (the text), ``"demo"``, or an
    alternative such as ``"official"``. A missing one raises naming the recipes that exist."""
    spec = method_spec(method)
    ds = dataset_key(dataset)
    key = "demo" if name == "demo" else ds if name == "paper" else f"{ds}:{name}"
    if key not in spec.recipes:
        have = ", ".join(sorted(spec.recipes)) or "none"
        raise RecipeError(f"{method!r} has no {name!r} recipe for data set {dataset!r} (key {key!r}); "
                          f"its recipes: {have}")
    raw = spec.recipes[key]
    check_recipe(method, key, raw)
    values = {k: v for k, (v, _) in raw.items()}
    sources = {k: s for k, (_, s) in raw.items()}
    if "protocol" not in values:
        if ds not in DATASET_PROTOCOLS:
            raise RecipeError(f"data set {dataset!r} has no known protocol; known: {sorted(DATASET_PROTOCOLS)}")
        values["protocol"], sources["protocol"] = DATASET_PROTOCOLS[ds]
    proto, proto_kwargs = values.pop("protocol")
    profile = values.pop("profile", "demo" if key == "demo" else "paper")
    sources.setdefault("profile", "the paper's model" if profile == "paper" else "the CPU-sized model")
    table = values.pop("paper_table", None) or spec.papers.main.get(ds)
    return Recipe(method, ds, key, proto, dict(proto_kwargs), profile, values, sources,
                  tuple(table) if table else None)  # type: ignore[arg-type]


def resolve_config(method: str, profile: str = "demo", dataset: str | None = None, recipe: str | None = None,
                   **overrides: Any) -> TrainConfig:
    """Defaults → the model profile's data settings → recipe → ``overrides`` (unknown keys raise).

    The recipe is :func:`get_recipe` of ``method`` on ``dataset`` (``"synth"``
    when no data set is named): ``recipe`` names it (``"paper"``, ``"official"``, ``"demo"``); by
    default ``profile="demo"`` takes the demo recipe and ``profile="paper"`` the paper's text. The
    recipe's ``profile`` becomes the model profile unless ``profile`` was given as ``"paper"`` with the
    demo recipe (then the paper model trains on the demo schedule)."""
    known = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ValueError(f"unknown config keys {unknown}; expected some of {sorted(known)}")
    name = recipe or ("demo" if profile == "demo" else "paper")
    rec = get_recipe(method, dataset or "synth", name)
    chosen = rec.profile if name != "demo" else profile
    spec_profile = model_profile(method, chosen)
    data: dict[str, Any] = {"method": method, "profile": chosen, "dataset": dataset or "", "recipe": rec.key,
                            "num_frames": spec_profile.num_frames, "input_side": spec_profile.input_side,
                            "sampler": spec_profile.sampler, "test_sampler": spec_profile.test_sampler}
    data.update(rec.fields)
    data.update({k: v for k, v in overrides.items() if v is not None})
    cfg = TrainConfig.from_dict(data)
    if cfg.num_frames < 1 and spec_profile.num_frames >= 1:  # 0 is "the profile's own" only before resolving
        raise ValueError(f"num_frames must be >= 1 frame per clip, got {cfg.num_frames!r}")
    return cfg
