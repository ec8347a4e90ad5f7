"""``python -m ferlib check-store DIR``: walk a clip store entry by entry and report what is wrong.

:func:`check_store` opens every entry the way a reader would and collects, without stopping at
the first one, the problems it finds:

============  =====================================================================================
kind          what
============  =====================================================================================
store         ``store.json`` missing, foreign or unreadable; no ``clips/`` folder; generated clips
              of another generator or photo-renderer version (``synth.json``)
incomplete    an entry folder without ``meta.json`` or without one of the arrays it lists
corrupt       ``meta.json`` that is not JSON or lacks fields; a ``.npy`` with bytes after its data
truncated     a ``.npy`` shorter than its header says (a copy cut short)
shape         an array whose dtype or shape differs from ``meta.json`` or from the other arrays
non-finite    landmarks (or intensity) holding NaN or inf, with the frames
label         a label outside the store's classes, or a ``label_name`` that does not match it
failures      ``failures.csv`` unreadable, listing a clip that is stored, or a clip twice
============  =====================================================================================

Leftover ``.tmp-*`` folders of killed writers are notes, not problems (readers ignore them and the
next ``preprocess``/``synth`` run removes them); so is a store without ``failures.csv`` (``synth``
writes none). The command prints the report and exits 1 when there is any problem, else 0.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ferlib.data.store import _ARRAYS, ClipStore, StoreError, file_digest, nonfinite_frames
from ferlib.versions import SYNTH_MANIFEST, synth_version_problem

_REQUIRED_ARRAYS = ("frames", "landmarks", "flags")
_META_FIELDS = ("clip_id", "label", "label_name", "n_frames", "height", "width", "arrays")


@dataclass
class Problem:
    """One thing wrong in a store: ``kind`` (see the module docstring), the file or folder, what."""

    kind: str
    path: Path
    message: str
    clip_id: str | None = None

    def __str__(self) -> str:
        return f"[{self.kind}] {self.path}: {self.message}"


@dataclass
class StoreReport:
    """What :func:`check_store` found in the store at ``root``."""

    root: Path
    entries: int = 0  #: entry folders looked at
    good: int = 0  #: entries without any problem
    failures_listed: int = 0  #: lines of failures.csv
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def kinds(self) -> dict[str, int]:
        """Problem counts by kind."""
        return dict(Counter(p.kind for p in self.problems))

    def bad_clips(self, kind: str | None = None) -> list[str]:
        """Sorted ids of the entries with a problem (of ``kind``)."""
        return sorted({p.clip_id for p in self.problems if p.clip_id is not None and kind in (None, p.kind)})

    def __str__(self) -> str:
        lines = [str(p) for p in self.problems] + [f"note: {n}" for n in self.notes]
        verdict = "OK" if self.ok else f"{len(self.problems)} problems {self.kinds()}"
        lines.append(f"{self.root}: {self.entries} entries, {self.good} good, {self.failures_listed} listed in "
                     f"failures.csv: {verdict}")
        return "\n".join(lines)


def check_store(root: str | Path) -> StoreReport:
    """Check every entry of the clip store at ``root`` and ``failures.csv`` against them. A ``root``
    that is not a folder is the caller's mistake, not a problem of a store: it raises
    :class:`FileNotFoundError` (missing) or :class:`NotADirectoryError` (a file) naming it."""
    root = Path(root)
    if not root.exists():
        raise FileNotFoundError(f"{root}: no such folder (expected a clip store folder holding store.json)")
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is a file, not a folder (expected a clip store folder holding store.json)")
    report = StoreReport(root=root)
    try:
        store = ClipStore.open(root)
    except StoreError as exc:
        report.problems.append(Problem("store", root / "store.json", str(exc)))
        return report
    version = synth_version_problem(root)
    if version:
        report.problems.append(Problem("store", root / SYNTH_MANIFEST, version))
    clips = root / "clips"
    if not clips.is_dir():
        report.problems.append(Problem("store", clips, "the clips/ folder is missing"))
        return report
    stored: set[str] = set()
    for path in sorted(clips.iterdir()):
        if path.name.startswith(".tmp-"):
            report.notes.append(f"{path} is left over from a killed writer (ignored; the next run removes it)")
            continue
        if path.name.startswith("."):
            continue
        if not path.is_dir():
            report.notes.append(f"{path} is not an entry folder (ignored)")
            continue
        report.entries += 1
        found = _check_entry(store, path)
        report.problems.extend(found)
        if (path / "meta.json").is_file():
            stored.add(path.name)
        if not found:
            report.good += 1
    _check_failures(store, stored, report)
    return report


def _check_entry(store: ClipStore, entry: Path) -> list[Problem]:
    """The problems of one entry folder."""
    cid = entry.name
    meta_path = entry / "meta.json"
    if not meta_path.is_file():
        present = sorted(p.name for p in entry.iterdir())
        return [Problem("incomplete", entry, f"no meta.json (the folder holds {present}): readers refuse the store "
                        "until the entry is re-created or removed", cid)]
    try:
        meta = json.loads(meta_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return [Problem("corrupt", meta_path, f"not valid JSON ({exc})", cid)]
    missing = [k for k in _META_FIELDS if k not in meta]
    if missing or not isinstance(meta.get("arrays"), dict):
        return [Problem("corrupt", meta_path, f"lacks the fields {missing or ['arrays']}", cid)]
    problems: list[Problem] = []
    if meta["clip_id"] != cid:
        problems.append(Problem("corrupt", meta_path, f"clip_id {meta['clip_id']!r} differs from its folder name", cid))
    problems += _check_label(store, meta, meta_path, cid)
    absent = [n for n in _REQUIRED_ARRAYS if n not in meta["arrays"]]
    if absent:
        problems.append(Problem("corrupt", meta_path, f"lists no {absent} array", cid))
    t, h, w = meta["n_frames"], meta["height"], meta["width"]
    expected_shapes = {"frames": [t, h, w, 3], "landmarks": [t, 68, 2], "flags": [t], "intensity": [t]}
    for name, shape in meta["arrays"].items():
        path = entry / f"{name}.npy"
        if name not in _ARRAYS:
            problems.append(Problem("corrupt", meta_path, f"lists an unknown array {name!r}", cid))
            continue
        if list(shape) != expected_shapes[name]:
            problems.append(Problem("shape", meta_path, f"{name} is listed as {list(shape)}, but an entry of {t} frames "
                                    f"of {h}x{w} needs {expected_shapes[name]}", cid))
        if not path.is_file():
            problems.append(Problem("incomplete", path, "missing (meta.json lists it)", cid))
            continue
        arr, problem = _load(path, cid)
        if problem is not None:
            problems.append(problem)
            continue
        dtype = np.dtype(_ARRAYS[name][0])
        if arr.dtype != dtype or list(arr.shape) != list(shape):
            problems.append(Problem("shape", path, f"holds {arr.dtype} {list(arr.shape)}, meta.json expects "
                                    f"{dtype} {list(shape)}", cid))
            continue
        recorded = meta.get("files", {}).get(name)
        if recorded is not None and file_digest(path) != list(recorded):
            problems.append(Problem("changed", path, f"differs from the size and SHA-256 recorded when it was written "
                                    f"({recorded[0]} bytes, sha256 {recorded[1][:12]})", cid))
        if name in ("landmarks", "intensity"):
            values = np.asarray(arr)
            bad = nonfinite_frames(values.reshape(len(values), -1))
            if len(bad):
                problems.append(Problem("non-finite", path, f"NaN or inf in {len(bad)} of {len(values)} frames "
                                        f"{bad[:8].tolist()}{' …' if len(bad) > 8 else ''}", cid))
    return problems


def _load(path: Path, cid: str) -> tuple[np.ndarray | None, Problem | None]:
    """Memory-map one ``.npy``; a short or over-long file is a problem."""
    try:
        arr = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        return None, Problem("truncated", path, f"cannot be read: {exc}", cid)
    size = path.stat().st_size
    if isinstance(arr, np.memmap) and size != arr.offset + arr.nbytes:
        return None, Problem("corrupt", path, f"is {size} bytes, its header describes {arr.offset + arr.nbytes}", cid)
    return arr, None


def _check_label(store: ClipStore, meta: dict, meta_path: Path, cid: str) -> list[Problem]:
    label = meta["label"]
    if not isinstance(label, int) or not 0 <= label < len(store.classes):
        return [Problem("label", meta_path, f"label {label!r} is outside 0..{len(store.classes) - 1} of the store's "
                        f"classes {list(store.classes)}", cid)]
    if meta["label_name"] != store.classes[label]:
        return [Problem("label", meta_path, f"label_name {meta['label_name']!r} is not classes[{label}] = "
                        f"{store.classes[label]!r}", cid)]
    return []


def _check_failures(store: ClipStore, stored: set[str], report: StoreReport) -> None:
    path = store.root / "failures.csv"
    if not path.is_file():
        report.notes.append(f"no {path.name} (stores made by synth have none; preprocess always writes one)")
        return
    try:
        table = store.failures()
    except StoreError as exc:
        report.problems.append(Problem("failures", path, str(exc)))
        return
    report.failures_listed = len(table)
    listed = table["clip_id"].astype(str)
    both = sorted(set(listed) & stored)
    if both:
        report.problems.append(Problem("failures", path, f"lists {len(both)} clips that are stored: {both[:8]}"
                                       f"{' …' if len(both) > 8 else ''} (preprocess rewrites the file at its next run)"))
    twice = sorted(listed[listed.duplicated()].unique())
    if twice:
        report.problems.append(Problem("failures", path, f"lists clips more than once: {twice[:8]}"))


# -- command line ---------------------------------------------------------------------------
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``check-store`` command."""
    parser.add_argument("store", type=Path, metavar="DIR", help="a clip store folder (holds store.json)")
    parser.add_argument("--quiet", action="store_true", help="print only the summary line")


def run(args: argparse.Namespace) -> int:
    """Print the report; 1 when the store has any problem, else 0."""
    report = check_store(args.store)
    print(str(report).splitlines()[-1] if args.quiet else report)
    return 0 if report.ok else 1
