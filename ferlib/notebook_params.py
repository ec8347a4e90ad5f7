"""Checks for notebook parameters, written once: the set-up cell after the parameters calls
:func:`ferlib.workbook.start_notebook`, which runs :func:`check_params` on them, so that a bad value
fails at once with a message naming the parameter and what to do.

:data:`PARAMETERS` holds the rule of every parameter any notebook declares (``profile``,
``train``, ``seed``, ``folds``, ``methods``, …); a notebook narrows a rule for itself by passing
``check_params(namespace, methods=("fer_gcn", "fan"), max_frames=at_least(0))`` (a collection:
the allowed values, or entries of a list parameter; a callable: the rule itself). Names of
:data:`PARAMETERS` are reserved in notebooks: no cell but the parameters cell assigns them
(``tests/test_notebook_cells.py`` checks it), so re-running the set-up cell reads the parameters.

List parameters (``folds``, ``tables``, ``methods``, ``return_train``) arrive in three forms:
a list from Python (``pm.execute_notebook(..., parameters={"folds": [0, 1]})``) and from
``papermill -y "folds: [0, 1]"``, but **a string** from ``papermill -p folds "[0, 1]"`` (``-p``
turns only numbers, ``True``/``False`` and ``None`` into Python values). :func:`parse_list` reads
the string forms — ``"[0, 1]"``, ``'["fan"]'``, ``"[fan, fer_gcn]"``, ``"0,1"``, one bare value —
so that a string is never taken for the list of its characters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ferlib.profiles import PROFILES


def check_choice(name: str, value: object, allowed: Iterable[object]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"notebook parameter {name}={value!r} is not allowed; choose one of {allowed}")


def check_path(name: str, value: str | Path, hint: str = "") -> Path:
    """Raise ``FileNotFoundError`` unless the path exists; returns it as a Path."""
    p = Path(value)
    if not p.exists():
        raise FileNotFoundError(f"notebook parameter {name}={str(value)!r}: {p} does not exist. {hint}".strip())
    return p


def _from_text(text: str) -> Any:
    """A list parameter given as text: YAML/JSON flow (``[0, 1]``, ``["a"]``, ``[a, b]``), a
    comma-separated list (``0,1``), ``None``/``null``, or one bare value."""
    s = text.strip()
    if s.lower() in ("none", "null", "~"):
        return None
    if s.startswith("["):
        try:
            return yaml.safe_load(s)
        except yaml.YAMLError as exc:
            raise ValueError(f"cannot read {text!r} as a list ({str(exc).splitlines()[0]})") from None
    parts = [p.strip() for p in s.split(",")] if "," in s else [s]
    return [yaml.safe_load(p) if p else p for p in parts]


def parse_list(name: str, value: Any, item: type = str, *, none_ok: bool = False, empty_ok: bool = False,
               choices: Iterable[Any] | None = None, minimum: int | None = None, hint: str = "") -> list | None:
    """Notebook list parameter ``name`` as a list of ``item`` (``int`` or ``str``), whatever form it
    came in (see the module docstring); ``None`` passes when ``none_ok``, an empty list when
    ``empty_ok``; entries are checked against ``choices`` and, for ints, ``minimum``. Anything else
    raises ``ValueError`` naming the parameter, the value and what is expected (plus ``hint``)."""
    what = f"a list of {'whole numbers' if item is int else 'names'}" + (" or None" if none_ok else "")
    bad = f"notebook parameter {name}={value!r}: expected {what}{'; ' + hint if hint else ''}"
    parsed = value
    if isinstance(value, str):
        try:
            parsed = _from_text(value)
        except ValueError as exc:
            raise ValueError(f"{bad} ({exc})") from None
    elif isinstance(value, tuple):
        parsed = list(value)
    elif item is int and isinstance(value, int) and not isinstance(value, bool):
        parsed = [value]  # papermill -p folds 0
    if parsed is None:
        if none_ok:
            return None
        raise ValueError(bad)
    if not isinstance(parsed, list) or (not parsed and not empty_ok):
        raise ValueError(bad)
    out = []
    for v in parsed:
        if item is int:
            ok = isinstance(v, int) and not isinstance(v, bool) and (minimum is None or v >= minimum)
        else:
            ok = isinstance(v, str) and bool(v)
        if not ok:
            raise ValueError(f"{bad} (entry {v!r} is not {'a whole number' if item is int else 'a name'}"
                             f"{f' >= {minimum}' if item is int and minimum is not None else ''})")
        if choices is not None:
            check_choice(f"{name} entry", v, choices)
        out.append(v)
    return out


def parse_folds(value: Any) -> list[int] | None:
    """The ``folds`` parameter: ``None`` (the profile's folds) or fold positions ``>= 0``."""
    return parse_list("folds", value, int, none_ok=True, minimum=0,
                      hint="give None (the profile's folds) or a list of fold positions, e.g. [0, 1]")


# --------------------------------------------------------------------------- the rules, once

Rule = Callable[[str, Any], Any]


def flag(name: str, value: Any) -> bool:
    """A ``True``/``False`` parameter."""
    check_choice(name, value, (True, False))
    return value


def text(name: str, value: Any) -> str:
    """A string parameter (a name, a folder, a clip id; may be empty)."""
    if not isinstance(value, (str, Path)):
        raise ValueError(f"notebook parameter {name}={value!r} must be a string")
    return str(value)


def whole(name: str, value: Any, minimum: int | None = None, none_ok: bool = False) -> int | None:
    """An int parameter (``bool`` is not one), at least ``minimum`` when given; ``None`` when ``none_ok``."""
    if value is None and none_ok:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or (minimum is not None and value < minimum):
        what = "an int" + (f" >= {minimum}" if minimum is not None else "") + (" or None" if none_ok else "")
        raise ValueError(f"notebook parameter {name}={value!r} must be {what}")
    return value


def at_least(minimum: int, none_ok: bool = False) -> Rule:
    """The rule of an int parameter ``>= minimum`` (``None`` allowed when ``none_ok``)."""
    return lambda name, value: whole(name, value, minimum, none_ok)


def number_at_least(minimum: float, strict: bool = False) -> Rule:
    """The rule of a number parameter ``>= minimum`` (``> minimum`` when ``strict``)."""
    def rule(name: str, value: Any) -> float | int:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not (value > minimum if strict else value >= minimum):
            raise ValueError(f"notebook parameter {name}={value!r} must be a number {'>' if strict else '>='} {minimum:g}")
        return value
    return rule


def names(none_ok: bool = False, empty_ok: bool = False) -> Rule:
    """The rule of a list-of-names parameter (any of the forms :func:`parse_list` reads)."""
    return lambda name, value: parse_list(name, value, str, none_ok=none_ok, empty_ok=empty_ok)


def names_or(default: Sequence[str], allowed: Sequence[str] | None = None, empty_ok: bool = False) -> Rule:
    """A notebook's rule of a list-of-names parameter whose ``None`` means ``default`` (a notebook passes a
    registry query, e.g. ``methods=names_or(paper_methods())``, so that its parameters cell names no
    method); every entry must be one of ``allowed`` (default: ``default``)."""
    choices = tuple(allowed if allowed is not None else default)

    def rule(name: str, value: Any) -> list[str]:
        value = parse_list(name, value, str, none_ok=True, empty_ok=empty_ok)
        if value is None:
            return list(default)
        for v in value:
            check_choice(f"{name} entry", v, choices)
        return value
    return rule


def existing_or_empty(name: str, value: Any) -> str:
    """A folder that must exist, or ``""`` (not given)."""
    value = text(name, value)
    if value:
        check_path(name, value, "Give an existing folder, or '' for none.")
    return value


def existing_folders(name: str, value: Any) -> list[str] | None:
    """A list of folders that must all exist, or ``None`` (the notebook's default)."""
    folders = parse_list(name, value, str, none_ok=True)
    for f in folders or []:
        check_path(f"{name} entry", f, "Give existing folders, or None for the default.")
    return folders


def existing(hint: str = "") -> Rule:
    """The rule of a path parameter that must exist (a file or a folder)."""
    def rule(name: str, value: Any) -> str:
        value = text(name, value)
        check_path(name, value, hint)
        return value
    return rule


def choice(*allowed: Any) -> Rule:
    """The rule of a parameter that takes one of ``allowed``."""
    def rule(name: str, value: Any) -> Any:
        check_choice(name, value, allowed)
        return value
    return rule


#: the rule of every parameter a notebook declares (name → rule(name, value) → checked value)
PARAMETERS: dict[str, Rule] = {
    "profile": choice(*PROFILES),
    "dataset": text,  # opened (or named in a FileNotFoundError) by ferlib.workbook.open_dataset
    "data_dir": text,
    "runs_dir": text,
    "figures_dir": text,
    "train": flag,
    "seed": whole,
    "seeds": lambda name, value: parse_list(name, value, int, none_ok=True, minimum=0),
    "folds": lambda name, value: parse_folds(value),
    "variants": names(none_ok=True, empty_ok=True),
    "tables": names(none_ok=True),
    "ablation_epochs": at_least(1, none_ok=True),
    "max_rows": at_least(1, none_ok=True),
    "return_dataset": text,
    # None: the registry's default, which the notebook's names_or rule fills in
    "return_train": names(none_ok=True, empty_ok=True),
    "methods": names(none_ok=True),
    "clip": text,
    "max_frames": at_least(1),
    "cam_method": text,
    "perplexity": number_at_least(1),
    "all_clips": flag,
    "batch": at_least(1),
    "repeats": at_least(1),
    "paper_flops": flag,
    "videos_dir": existing_or_empty,
    "videos_layout": text,
    "max_clips": at_least(0),
    "crop_side": at_least(8),
    "workers": at_least(1),
    "heatmap_grid": at_least(2),
    "heatmap_sigma": number_at_least(0, strict=True),
    "renderer": choice("photo", "procedural"),
    "photos_dir": existing("Point it at a folder in the London-set layout, e.g. assets/london_frl_subset."),
    "photos_dirs": existing_folders,
    "video": existing("Point it at a face video, e.g. assets/videos/single_face.mp4."),
}


class NotebookParams(Mapping[str, Any]):
    """The checked parameters of one notebook: a read-only mapping, also readable as attributes
    (``params.folds``); list parameters hold their lists whatever form they came in."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self._values = dict(values)

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self):
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, key: str) -> Any:
        try:
            return self.__dict__["_values"][key]
        except KeyError:
            raise AttributeError(f"this notebook declares no parameter {key!r}; it has {sorted(self._values)}") from None

    def __repr__(self) -> str:
        return f"NotebookParams({self._values!r})"


def check_params(namespace: Mapping[str, Any], **rules: Iterable[Any] | Rule) -> NotebookParams:
    """Check every parameter of :data:`PARAMETERS` found in ``namespace`` (a notebook's
    ``globals()``) and return their checked values; the first bad one raises ``ValueError`` (or
    ``FileNotFoundError`` for a folder) naming it. ``rules`` narrow a parameter for one notebook: a
    callable replaces its rule; a collection lists the values it may take (for a list parameter:
    the values its entries may take), checked after its own rule."""
    unknown = [k for k in rules if k not in PARAMETERS]
    if unknown:
        raise KeyError(f"no notebook parameter {unknown}; the parameters are {sorted(PARAMETERS)}")
    out: dict[str, Any] = {}
    for name, rule in PARAMETERS.items():
        if name not in namespace:
            continue
        extra = rules.get(name)
        value = (extra if callable(extra) else rule)(name, namespace[name])
        if extra is not None and not callable(extra):
            allowed = tuple(extra)
            for v in value if isinstance(value, list) else [value]:
                check_choice(f"{name} entry" if isinstance(value, list) else name, v, allowed)
        out[name] = value
    return NotebookParams(out)
