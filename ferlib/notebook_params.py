"""Checks for notebook parameters: the first cell after the parameters calls these so that a bad
value fails at once with a message naming the parameter and what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

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
