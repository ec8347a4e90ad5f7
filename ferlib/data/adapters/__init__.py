"""Data-set adapters: a user's copy of a benchmark on disk → a :class:`~ferlib.data.index.ClipIndex`.

::

    from ferlib.data.adapters import ADAPTERS, get_adapter, load_index

    index = load_index("ckplus", "/data/CK+")                    # one row a labelled sequence
    adapter = get_adapter("ckplus")
    adapter.classes, adapter.protocol                            # label set; ("fan_ckplus", {"k": 10})
    folds = adapter.splits(index)                                # the official protocol's folds
    load_index("dfew", "/data/DFEW", clips_glob="Clip/my_frames/*")   # overrides per layout

Each data set lives in its own module (``ckplus``, ``oulu``, ``mmi``, ``afew``, ``dfew``,
``ferv39k``, ``mafw``, ``affwild2``, ``london``) whose docstring states the layout it expects, the
label codes and the protocol; modules are imported only when their adapter is asked for. Nothing
is downloaded: the licence-restricted sets must already be on disk.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from ferlib.data.adapters.base import Adapter, LabelError, LayoutError
from ferlib.data.index import ClipIndex

ADAPTERS: tuple[str, ...] = ("ckplus", "oulu", "mmi", "afew", "dfew", "ferv39k", "mafw", "affwild2", "london")

__all__ = ["ADAPTERS", "Adapter", "LabelError", "LayoutError", "get_adapter", "load_index"]


def _from_london(module: Any) -> Adapter:
    """The London-set module exposes ``london_index`` and ``LONDON_CLASSES``; wrap them."""

    def london(root: Path) -> ClipIndex:
        return module.london_index(root)

    return Adapter(
        name="london",
        classes=tuple(module.LONDON_CLASSES),
        protocol=("subject_kfold", {"k": 10}),
        builder=london,
        description="Face Research Lab London Set: neutral → smile morphs of real faces, 2 classes",
    )


def get_adapter(name: str) -> Adapter:
    """The adapter of data set ``name`` (one of :data:`ADAPTERS`)."""
    key = str(name).strip().lower()
    if key not in ADAPTERS:
        raise ValueError(f"unknown data set {name!r}; adapters exist for {list(ADAPTERS)}")
    module_name = f"{__name__}.{key}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ValueError(f"the {key!r} adapter is not available: module {module_name} is missing") from None
    adapter = getattr(module, "ADAPTER", None)
    if adapter is None and key == "london":
        adapter = _from_london(module)
    if adapter is None:
        raise ValueError(f"module {module_name} defines no ADAPTER")
    return adapter


def load_index(name: str, root: str | Path, **overrides: Any) -> ClipIndex:
    """Index the copy of data set ``name`` under ``root``; ``overrides`` adjust paths and options
    (an override of the wrong kind, e.g. a number where the adapter takes a mapping, raises one
    ``ValueError`` naming it)."""
    adapter = get_adapter(name)
    try:
        return adapter.index(root, **overrides)
    except (AttributeError, TypeError) as exc:
        if not overrides:
            raise
        given = ", ".join(f"{k}={v!r}" for k, v in overrides.items())
        raise ValueError(f"--option {given} does not fit the {name} adapter ({type(exc).__name__}: {exc})") from None
