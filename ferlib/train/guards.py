"""Checks a run makes before it trains, reuses or writes anything.

* :func:`store_record` / :func:`check_store_record`: which clip store a run folder was made on.
  ``fit`` writes ``store.json`` into the run folder (the store's folder, data set, classes, clip
  count and a content fingerprint) and reuses a finished run, or resumes an unfinished one, only
  when the store given now has the same classes, clip count and fingerprint (the same store moved
  to another folder still matches; another store of the same data-set name does not).
* :func:`warn_small_test_fold`: a test fold with fewer than :data:`MIN_TEST_CLIPS_PER_CLASS` clips
  of a class gives accuracies in coarse steps that say little; it is said (``SmallDataWarning`` and
  a printed line), never silently reported as, say, "100 %".
* :func:`check_out_path`: an output path that is a file, or lies under one, fails with one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ferlib.data.index import ClipIndex
from ferlib.data.protocols import Split
from ferlib.data.store import ClipStore

STORE_RECORD = "store.json"
MIN_TEST_CLIPS_PER_CLASS = 5


class SmallDataWarning(UserWarning):
    """A test fold is too small for its accuracy to mean much."""


# --------------------------------------------------------------------------- store identity


class RunDirError(ValueError):
    """An output folder holds another experiment or unrelated files."""


def write_json(path: Path, data: Any) -> None:
    """Atomic JSON write (temp file + ``os.replace``)."""
    tmp = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
    tmp.write_text(json.dumps(data, indent=1, sort_keys=False))
    os.replace(tmp, path)

def store_fingerprint(store: ClipStore) -> str:
    """SHA-256 over the store's data set, classes and, per clip (sorted by id), its ``meta.json``
    and first frame's landmarks (a cheap content sample: another seed, another detector or
    another recording changes them)."""
    h = hashlib.sha256()
    h.update(json.dumps([store.dataset, list(store.classes)]).encode())
    for cid in store.clip_ids():
        h.update(json.dumps(store.meta(cid), sort_keys=True, default=str).encode())
        lm = store.entry_dir(cid) / "landmarks.npy"
        if lm.is_file():
            h.update(np.ascontiguousarray(np.load(lm, mmap_mode="r")[:1]).tobytes())
    return h.hexdigest()


def store_record(store: ClipStore) -> dict[str, Any]:
    """What ``store.json`` of a run folder holds about the clip store the run was made on."""
    return {"root": str(Path(store.root).resolve()), "dataset": store.dataset, "classes": list(store.classes),
            "n_clips": len(store.clip_ids()), "fingerprint": store_fingerprint(store)}


def _describe(rec: dict[str, Any]) -> str:
    return (f"{rec.get('root', '?')} (data set {rec.get('dataset')!r}, classes {rec.get('classes')}, "
            f"{rec.get('n_clips', '?')} clips, fingerprint {str(rec.get('fingerprint', '?'))[:12]})")


def same_store(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Same classes (in order), clip count and content fingerprint; the folder may differ."""
    return all(old.get(k) == new.get(k) for k in ("classes", "n_clips", "fingerprint"))


def _legacy_run_matches(out: Path, store: ClipStore, index: ClipIndex, split: Split) -> bool:
    """A run folder written before ``store.json`` existed: its finished results must name the
    store's classes and exactly the split's test clips."""
    metrics, preds = out / "metrics.json", out / "predictions.csv"
    if not metrics.is_file():
        return True  # unfinished: last.pt's class list and config are checked on resume
    m = json.loads(metrics.read_text())
    if list(m.get("classes", [])) != list(store.classes) or not preds.is_file():
        return False
    done = set(pd.read_csv(preds, usecols=["clip_id"])["clip_id"].astype(str))
    return done == set(index.subset(split.test).clip_ids)


def check_store_record(out: str | Path, record: dict[str, Any], store: ClipStore, index: ClipIndex, split: Split) -> None:
    """Raise ``RunDirError`` when the run in ``out`` was made on another store (naming both);
    record ``store.json`` for a folder written before it existed, when its results fit."""
    out = Path(out)
    path = out / STORE_RECORD
    if path.is_file():
        old = json.loads(path.read_text())
        if not same_store(old, record):
            raise RunDirError(f"{out} holds a run made on another clip store: {_describe(old)} there vs {_describe(record)} "
                              "now; choose another output folder (or delete that one to retrain)")
        return
    if not _legacy_run_matches(out, store, index, split):
        raise RunDirError(f"{out} holds a run whose results do not fit the clip store {_describe(record)} (other classes "
                          "or test clips) and records no store; choose another output folder (or delete that one to retrain)")
    write_json(path, record)


# --------------------------------------------------------------------------- small test folds

def warn_small_test_fold(index: ClipIndex, split: Split, minimum: int = MIN_TEST_CLIPS_PER_CLASS) -> dict[str, int]:
    """Warn (``SmallDataWarning``, once) when ``split.test`` holds fewer than ``minimum``
    clips of some class of ``index``; returns those classes' counts (empty when none)."""
    labels = np.asarray(index.labels)[np.asarray(split.test, dtype=int)]
    counts = np.bincount(labels, minlength=len(index.classes)) if len(labels) else np.zeros(len(index.classes), int)
    few = {c: int(n) for c, n in zip(index.classes, counts) if n < minimum}
    if few:
        msg = (f"small test fold {split.name!r}: {len(labels)} clips, fewer than {minimum} of class(es) {few}; "
               f"its accuracy moves in steps of {100.0 / max(len(labels), 1):.0f} % and says little about the method")
        warnings.warn(msg, SmallDataWarning, stacklevel=2)  # one channel: a printed copy beside it said it twice
    return few


# --------------------------------------------------------------------------- output paths

def check_out_path(path: str | Path, option: str = "--out") -> Path:
    """``path`` must be a folder or not exist yet, and no parent of it may be a file."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ValueError(f"{option} {p} is an existing file, not a folder; give a new or empty folder")
    for parent in p.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{option} {p} lies under {parent}, which is a file, not a folder; give a new or empty folder")
            break
    return p
