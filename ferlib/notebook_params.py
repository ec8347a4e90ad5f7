"""Checks for notebook parameters: the first cell after the parameters calls these so that a bad
value fails at once with a message naming the parameter and what to do.

List parameters (``folds``, ``tables``, ``methods``, ``return_train``) arrive in three forms:
a list from Python (``pm.execute_notebook(..., parameters={"folds": [0, 1]})``) and from
``papermill -y "folds: [0, 1]"``, but **a string** from ``papermill -p folds "[0, 1]"`` (``-p``
turns only numbers, ``True``/``False`` and ``None`` into Python values). :func:`parse_list` reads
the string forms — ``"[0, 1]"``, ``'["fan"]'``, ``"[fan, fer_gcn]"``, ``"0,1"``, one bare value —
so that a string is never taken for the list of its characters.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import yaml

PROFILES = ("smoke", "demo", "paper")


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
