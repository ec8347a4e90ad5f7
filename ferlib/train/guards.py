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
#: a run folder's record of the clips it trained, validated and tested on (clip ids)
SPLIT_RECORD = "split.json"
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
    """SHA-256 over the store's data set, classes and, per clip (sorted by id), its ``meta.json``,
    which records the size and SHA-256 of every array file written (frames, landmarks, flags,
    intensity): every byte that reaches a model, without re-reading the frames. An entry written
    before those hashes were recorded adds its first frame's landmarks instead (a cheap sample)."""
    h = hashlib.sha256()
    h.update(json.dumps([store.dataset, list(store.classes)]).encode())
    for cid in store.clip_ids():
        meta = store.meta(cid)
        h.update(json.dumps(meta, sort_keys=True, default=str).encode())
        if "files" not in meta and (store.entry_dir(cid) / "landmarks.npy").is_file():
            h.update(np.ascontiguousarray(store.read(cid).landmarks[:1]).tobytes())
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


# --------------------------------------------------------------------------- clips a checkpoint has seen

class TrainedClipsWarning(UserWarning):
    """Evaluation clips include clips the checkpoint was trained (or selected) on."""


def split_record(index: ClipIndex, split: Split) -> dict[str, Any]:
    """``split.json`` of a run folder: the split's name and the clip ids of train, val and test."""
    ids = np.asarray(index.clip_ids, dtype=object)
    return {"name": split.name, **{part: ids[np.asarray(getattr(split, part), dtype=int)].tolist()
                                   for part in ("train", "val", "test")}}


def clips_seen_in_training(checkpoint: str | Path, store: ClipStore, clip_ids: list[str]) -> int:
    """How many of ``clip_ids`` (clips of ``store`` about to be evaluated) the run of ``checkpoint``
    trained or selected its epoch on: read from the run folder's ``store.json`` (same data set) and
    ``split.json``; 0 when the run records neither (made elsewhere, or before they existed)."""
    run = Path(checkpoint).parent
    try:
        record = json.loads((run / STORE_RECORD).read_text())
        split = json.loads((run / SPLIT_RECORD).read_text())
    except (OSError, ValueError):
        return 0
    if record.get("dataset") != store.dataset:
        return 0
    seen = set(split.get("train", [])) | set(split.get("val", []))
    return sum(1 for c in clip_ids if c in seen)


def warn_trained_clips(checkpoint: str | Path, store: ClipStore, clip_ids: list[str]) -> int:
    """Warn (``TrainedClipsWarning`` + a printed line) when :func:`clips_seen_in_training` finds any;
    returns the count."""
    n = clips_seen_in_training(checkpoint, store, clip_ids)
    if n:
        msg = (f"{n} of the {len(clip_ids)} clips evaluated from {store.root} were in the training or validation "
               f"split of {Path(checkpoint).parent} ({SPLIT_RECORD}): its score on them is not a test score; pass "
               "--fold to evaluate the run's test clips only")
        warnings.warn(msg, TrainedClipsWarning, stacklevel=2)
        print(f"ferlib: warning: {msg}", flush=True)
    return n


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
