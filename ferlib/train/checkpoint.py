"""ferlib's own checkpoints: tensors and plain types only, written atomically.

A checkpoint is a dict::

    format     "ferlib-checkpoint"      version  1
    kind       "last" | "best"
    config     the run's TrainConfig as a dict
    classes    list of class names the classifier predicts
    epoch      number of finished epochs
    model      state_dict
    optimizer, scheduler   state_dicts (absent from weights-only files)
    rng        {"torch": ByteTensor, "python": tuple, "numpy": dict}
    history    list of per-epoch dicts
    best       {"epoch", "val_accuracy", ...}

It is written to a temporary file in the same folder and moved into place with ``os.replace``,
so a killed writer leaves the previous checkpoint intact; its size and SHA-256 go into
``<file>.sha256`` first (:func:`ferlib.models.backbones.replace_sealed`), and a file changed since
is refused by name. :func:`load_checkpoint` reads with
``torch.load(weights_only=True)`` and raises :class:`CheckpointError` naming the file for a
truncated, foreign or mismatched one.
"""

from __future__ import annotations

import os
import pickle
import random
import re
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ferlib.data.store import write_failure
from ferlib.models.backbones import SealError, check_sealed, replace_sealed

FORMAT = "ferlib-checkpoint"
VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint is missing, corrupt, foreign, or does not match the run."""


def rng_state() -> dict[str, Any]:
    """The global RNG states (torch CPU, python ``random``, numpy legacy) as plain types."""
    np_state = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        "numpy": {"name": np_state[0], "keys": torch.from_numpy(np_state[1].astype(np.int64)), "pos": int(np_state[2]),
                  "has_gauss": int(np_state[3]), "gauss": float(np_state[4])},
    }


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`rng_state` returned."""
    torch.set_rng_state(state["torch"])
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    n = state["numpy"]
    np.random.set_state((n["name"], n["keys"].numpy().astype(np.uint32), n["pos"], n["has_gauss"], n["gauss"]))


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> Path:
    """Write ``payload`` (+ format/version) to ``path`` atomically (temp file + ``os.replace``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    try:
        torch.save({"format": FORMAT, "version": VERSION, **payload}, tmp)
        replace_sealed(tmp, path)  # <path>.sha256: size and hash, checked by load_checkpoint
    except (OSError, RuntimeError) as exc:  # a full disk: torch says "[enforce fail at inline_container.cc…]"
        raise CheckpointError(write_failure(path.parent, f"checkpoint {path.name}", exc)) from None
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def load_checkpoint(path: str | Path, classes: list[str] | tuple[str, ...] | None = None, map_location: str = "cpu") -> dict[str, Any]:
    """Read a ferlib checkpoint (``weights_only=True``); check format and, if given, the classes."""
    path = Path(path)
    if path.is_dir():
        found = sorted(p.name for p in path.glob("*.pt"))
        raise CheckpointError(f"checkpoint {path} is a directory, not a file; give a checkpoint file in it"
                              + (f" (it holds {found})" if found else " (it holds no *.pt)"))
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        check_sealed(path)
    except SealError as exc:
        raise CheckpointError(str(exc)) from None
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" not in str(exc):  # not a refused class or function: a damaged or foreign file
            raise CheckpointError(f"{path} is not a readable ferlib checkpoint (UnpicklingError: {str(exc)[:120]})") from None
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        raise CheckpointError(f"{path} holds code-bearing (pickled) objects{f' ({found.group(1)})' if found else ''}, not "
                              "only tensors and plain values; it is not loaded (a ferlib checkpoint never holds code)") from None
    except Exception as exc:  # torch raises many types for truncated / foreign pickles
        raise CheckpointError(f"{path} is not a readable ferlib checkpoint ({type(exc).__name__}: {str(exc)[:200]})") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        found = ckpt.get("format") if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(
            f"{path} is not a ferlib checkpoint (format {found!r}, expected {FORMAT!r}); "
            "foreign weights go through ferlib.models.foreign"
        )
    if ckpt.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {ckpt.get('version')!r}; this ferlib reads {VERSION}")
    if classes is not None and list(ckpt.get("classes", [])) != list(classes):
        raise CheckpointError(f"{path} was trained on classes {list(ckpt.get('classes', []))}, the data has {list(classes)}")
    return ckpt
