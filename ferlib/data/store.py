"""The clip store: preprocessed clips on disk, written atomically, read memory-mapped.

Layout (format version 1)::

    <root>/
      store.json              {"format": "ferlib-clipstore", "version": 1, "dataset", "classes",
                               "settings": {writer: {its settings}}}   (settings: optional)
      failures.csv            clips that could not be stored: clip_id, source, reason
      left_out.csv            clips the adapter found but could not label: clip_id, source, reason
                              (written by preprocessing; absent when there are none)
      clips/<clip_id>/
        frames.npy            uint8   (T, H, W, 3)  RGB
        landmarks.npy         float32 (T, 68, 2)    (x, y) in pixels of the stored frames
        flags.npy             uint8   (T,)          bit set, see FLAG_* below
        intensity.npy         float32 (T,)          optional: ground-truth intensity in [0, 1]
        meta.json             row of the ClipIndex + shapes; written last

An entry is written into ``clips/.tmp-<clip_id>-<random>/`` and renamed into place in one
``os.replace``: a killed writer leaves only a ``.tmp-*`` folder (ignored by readers, removed by
:meth:`ClipStore.remove_stale_tmp`), never a half-written entry. Arrays are plain ``.npy`` so
reading is ``np.load(mmap_mode="r")``: no decoding, and a DataLoader worker touches only the
frames a sampler picks. A truncated or corrupt file raises :class:`StoreError` naming it.

An entry folder without ``meta.json`` (a copy cut short, a file deleted by hand) is *incomplete*:
:meth:`ClipStore.clip_ids` and :meth:`ClipStore.index` raise :class:`StoreError` naming it rather
than leaving the clip out (a test fold never shrinks unannounced); writers (``preprocess``,
``synth``) re-create such entries, and ``python -m ferlib check-store`` lists them.

**Identity.** A store's data set, classes and writer settings (``preprocess``: crop side, detector,
alignment …) are part of what it is: :meth:`ClipStore.create` refuses to reopen a store for
writing with other settings, naming each differing key, so a resumed run never mixes two crop
sides in one store. A store written before settings were recorded is compared with the settings
its first entry carries (``meta.json`` ``extra.<writer>``).

**Hashes.** :meth:`ClipStore.write` records each array file's size and SHA-256 in ``meta.json``
(``files``), once, at store time: a run's fingerprint covers every byte that reaches a model
without re-reading the frames, and ``check-store`` finds a file changed after it was written. Entries without ``files`` (older stores) are still read.

``failures.csv`` lines are appended one ``write`` each (a kill cannot leave half a line), and
:meth:`ClipStore.settle_failures` rewrites the file from the store's truth: a stored clip is
never a failure.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from ferlib.data.index import REQUIRED_COLUMNS, ClipIndex

FORMAT = "ferlib-clipstore"
VERSION = 1

FLAG_NO_FACE = 1  #: no face detected; box and landmarks carried over from the nearest frame with one
FLAG_INTERPOLATED = 2  #: landmarks propagated (every-k-frames detection) rather than detected
FLAG_OCCLUDED = 4  #: part of the face is occluded (synth ground truth)
FLAG_DISTRACTOR = 8  #: frame unrelated to the expression (synth ``wild`` ground truth)

_ARRAYS = {
    "frames": (np.uint8, 4),
    "landmarks": (np.float32, 3),
    "flags": (np.uint8, 1),
    "intensity": (np.float32, 1),
}


FAILURE_COLUMNS = ("clip_id", "source", "reason")

#: bytes of entries a store object keeps in memory (:meth:`ClipStore.held`), per process
HOLD_BYTES = 2 * 2**30


class StoreError(RuntimeError):
    """A store or an entry in it is missing, foreign, truncated or inconsistent."""


class EntryExistsError(StoreError):
    """:meth:`ClipStore.write` found a complete entry for the clip already (and no ``overwrite``)."""


def nonfinite_frames(landmarks: np.ndarray) -> np.ndarray:
    """Frame positions (sorted) whose ``(T, 68, 2)`` landmarks hold a NaN or an infinity."""
    bad = ~np.isfinite(np.asarray(landmarks, dtype=np.float64))
    return np.flatnonzero(bad.reshape(bad.shape[0], -1).any(axis=1))


@dataclass
class ClipRecord:
    """One stored clip. Arrays are read-only memory maps unless loaded with ``mmap=False``."""

    clip_id: str
    frames: np.ndarray  # (T, H, W, 3) uint8
    landmarks: np.ndarray  # (T, 68, 2) float32
    flags: np.ndarray  # (T,) uint8
    meta: dict[str, Any]
    intensity: np.ndarray | None = None  # (T,) float32

    @property
    def n_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def label(self) -> int:
        return int(self.meta["label"])


@dataclass
class ClipStore:
    """A folder of preprocessed clips for one data set and label set.

    Use :meth:`create` to make (or reopen for writing) a store and :meth:`open` to read one.
    """

    root: Path
    dataset: str
    classes: tuple[str, ...]
    protocol: tuple[str, dict[str, Any]] | None = None  # the data set's own protocol, as its adapter names it
    _meta_cache: dict[str, dict] = field(default_factory=dict, repr=False)
    _held: dict[str, ClipRecord] = field(default_factory=dict, repr=False)
    _held_bytes: int = field(default=0, repr=False)

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def create(cls, root: str | Path, dataset: str, classes: Iterable[str],
               protocol: tuple[str, dict[str, Any]] | None = None,
               settings: tuple[str, dict[str, Any]] | None = None, renamed: dict[str, str] | None = None) -> "ClipStore":
        """Create a store in ``root``, or reopen it if it already holds the same data set.

        ``store.json`` records the data set's name, its classes, (when given) the data set's own
        protocol ``(name, kwargs)`` — what training and ``reproduce`` read to pick a recipe — and
        the writer's ``settings`` ``(writer, {key: value})``. Refuses a folder that holds unrelated
        files, a store of another data set or label set, or one written with other settings
        (``renamed``: ``{former key: key}`` of settings recorded under an earlier name, compared as
        the new key).
        """
        root = Path(root)
        classes = tuple(classes)
        check_classes(classes, "classes")
        manifest = root / "store.json"
        if manifest.is_file():
            store = cls.open(root)
            if store.dataset != dataset or store.classes != classes:
                raise StoreError(
                    f"{root} already holds a clip store of data set {store.dataset!r} with classes "
                    f"{store.classes}; refusing to mix in {dataset!r} with classes {classes}. "
                    "Choose another folder."
                )
            if settings is not None:
                store._check_settings(settings[0], settings[1], renamed)
            return store
        if root.exists():
            _remove_create_leftovers(root)
        if root.exists() and any(root.iterdir()):
            found = sorted(p.name for p in root.iterdir())[:5]
            raise StoreError(
                f"{root} is not empty and is not a clip store (no store.json; found {found}). "
                "Give an empty or new folder: ferlib never writes into a folder with unrelated files."
            )
        (root / "clips").mkdir(parents=True, exist_ok=True)
        tmp = root / f".store.json.{uuid.uuid4().hex}"
        record: dict[str, Any] = {"format": FORMAT, "version": VERSION, "dataset": dataset, "classes": list(classes)}
        if protocol is not None:
            record["protocol"] = [protocol[0], dict(protocol[1])]
        if settings is not None:
            record["settings"] = {settings[0]: _plain(settings[1])}
        tmp.write_text(json.dumps(record, indent=1))
        os.replace(tmp, manifest)
        return cls(root, dataset, classes, (protocol[0], dict(protocol[1])) if protocol else None)

    @classmethod
    def open(cls, root: str | Path) -> "ClipStore":
        """Open an existing store for reading (and appending)."""
        root = Path(root)
        manifest = root / "store.json"
        if not manifest.is_file():
            raise StoreError(f"{root} is not a clip store: {manifest} is missing")
        try:
            meta = json.loads(manifest.read_text())
        except json.JSONDecodeError as exc:
            raise StoreError(f"{manifest} is not valid JSON: {exc}") from exc
        if meta.get("format") != FORMAT:
            raise StoreError(f"{manifest} has format {meta.get('format')!r}, expected {FORMAT!r}")
        if meta.get("version") != VERSION:
            raise StoreError(f"{manifest} has version {meta.get('version')!r}; this ferlib reads version {VERSION}")
        proto = meta.get("protocol")
        classes = tuple(meta["classes"])
        try:
            check_classes(classes, "classes")
        except ValueError as exc:
            raise StoreError(f"{manifest}: {exc}") from None
        return cls(root, meta["dataset"], classes, (proto[0], dict(proto[1])) if proto else None)

    def settings(self, writer: str) -> dict[str, Any] | None:
        """The settings ``writer`` recorded in ``store.json`` (``None`` when none were recorded)."""
        meta = json.loads((self.root / "store.json").read_text())
        return meta.get("settings", {}).get(writer)

    def _check_settings(self, writer: str, settings: dict[str, Any], renamed: dict[str, str] | None = None) -> None:
        """Raise :class:`StoreError` naming each key whose value differs from what the store was
        written with (a key of ``renamed`` read as its new name); record ``settings`` in a store that
        has none recorded yet."""
        new = _plain(settings)
        old = self.settings(writer)
        where = f"store.json of {self.root}"
        if old is None:
            ids = sorted(p.name for p in (self.root / "clips").iterdir()
                         if not p.name.startswith(".") and (p / "meta.json").is_file()) if (self.root / "clips").is_dir() else []
            old = _plain(self.meta(ids[0]).get("extra", {}).get(writer)) if ids else None
            where = f"{self.entry_dir(ids[0]) / 'meta.json'}" if ids else where
        if old is not None:
            former = {k: new_key for k, new_key in (renamed or {}).items() if k in old and new_key not in old}
            old = {former.get(k, k): v for k, v in old.items()}
            diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            if diff:
                detail = ", ".join(f"{k}={old.get(k)!r} there vs {new.get(k)!r} now" for k in diff)
                raise StoreError(f"{self.root} was written with other {writer} settings ({detail}, from {where}); "
                                 "resume with the same settings or choose another folder")
        manifest = self.root / "store.json"
        record = json.loads(manifest.read_text())
        if record.get("settings", {}).get(writer) is None:
            record.setdefault("settings", {})[writer] = new
            tmp = self.root / f".store.json.{uuid.uuid4().hex}"
            tmp.write_text(json.dumps(record, indent=1))
            os.replace(tmp, manifest)

    # -- writing ---------------------------------------------------------------------------
    def entry_dir(self, clip_id: str) -> Path:
        return self.root / "clips" / clip_id

    def has(self, clip_id: str) -> bool:
        """True when a complete entry for ``clip_id`` exists (what resumable writers skip)."""
        return (self.entry_dir(clip_id) / "meta.json").is_file()

    def incomplete(self) -> list[str]:
        """Ids of entry folders without ``meta.json`` (never written by ferlib's atomic writer:
        a copy cut short, or a file removed by hand), sorted. Writers re-create them."""
        clips = self.root / "clips"
        if not clips.is_dir():
            return []
        return sorted(p.name for p in clips.iterdir()
                      if not p.name.startswith(".") and p.is_dir() and not (p / "meta.json").is_file())

    def write(
        self,
        row: dict[str, Any],
        frames: np.ndarray,
        landmarks: np.ndarray,
        flags: np.ndarray | None = None,
        intensity: np.ndarray | None = None,
        extra: dict[str, Any] | None = None,
        overwrite: bool = False,
    ) -> Path:
        """Write one clip atomically; ``row`` holds the ClipIndex columns of the clip.

        frames ``(T, H, W, 3)`` uint8, landmarks ``(T, 68, 2)``, flags ``(T,)``, intensity ``(T,)``.
        """
        clip_id = str(row["clip_id"])
        missing = [c for c in REQUIRED_COLUMNS if c not in row and c not in ("label_name", "split")]
        if missing:
            raise ValueError(f"clip {clip_id!r}: row is missing {missing}")
        label = int(row["label"])
        if not 0 <= label < len(self.classes):
            raise ValueError(f"clip {clip_id!r}: label {label} outside 0..{len(self.classes) - 1}")
        frames = np.ascontiguousarray(frames)
        if frames.dtype != np.uint8 or frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] == 0:
            raise ValueError(f"clip {clip_id!r}: frames must be uint8 (T>0, H, W, 3), got {frames.dtype} {frames.shape}")
        t = frames.shape[0]
        landmarks = np.asarray(landmarks, dtype=np.float32)
        if landmarks.shape != (t, 68, 2):
            raise ValueError(f"clip {clip_id!r}: landmarks must be ({t}, 68, 2), got {landmarks.shape}")
        flags = np.zeros(t, np.uint8) if flags is None else np.asarray(flags, dtype=np.uint8)
        if flags.shape != (t,):
            raise ValueError(f"clip {clip_id!r}: flags must be ({t},), got {flags.shape}")
        arrays = {"frames": frames, "landmarks": landmarks, "flags": flags}
        if intensity is not None:
            intensity = np.asarray(intensity, dtype=np.float32)
            if intensity.shape != (t,):
                raise ValueError(f"clip {clip_id!r}: intensity must be ({t},), got {intensity.shape}")
            arrays["intensity"] = intensity

        final = self.entry_dir(clip_id)
        if self.has(clip_id) and not overwrite:
            raise EntryExistsError(f"clip {clip_id!r} is already in {self.root}; pass overwrite=True to replace it")
        # an existing folder without meta.json is an incomplete entry: it is replaced below
        tmp = self.root / "clips" / f".tmp-{clip_id}-{uuid.uuid4().hex[:8]}"
        tmp.mkdir(parents=True)
        try:
            files = {}
            for name, arr in arrays.items():
                np.save(tmp / f"{name}.npy", arr)
                files[name] = file_digest(tmp / f"{name}.npy")
            meta = {
                **{k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()},
                "clip_id": clip_id,
                "label": label,
                "label_name": self.classes[label],
                "split": str(row.get("split", "")),
                "n_frames": int(t),
                "height": int(frames.shape[1]),
                "width": int(frames.shape[2]),
                "arrays": {n: list(a.shape) for n, a in arrays.items()},
                "files": files,
                "extra": extra or {},
            }
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1, default=_json_default))
            if final.exists():
                trash = self.root / "clips" / f".tmp-old-{clip_id}-{uuid.uuid4().hex[:8]}"
                os.replace(final, trash)
                os.replace(tmp, final)
                shutil.rmtree(trash, ignore_errors=True)
            else:
                try:
                    os.replace(tmp, final)
                except OSError:
                    if self.has(clip_id):  # another writer (a second run on the same folder) stored it meanwhile
                        raise EntryExistsError(f"clip {clip_id!r} was stored in {self.root} by another writer at work "
                                               "on the same folder") from None
                    raise
        except OSError as exc:  # disk full, quota, permissions: name the place and the cause, keep nothing half-written
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(write_failure(self.root, f"clip {clip_id!r}", exc)) from None
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self._meta_cache.pop(clip_id, None)
        self._drop_held(clip_id)
        return final

    def record_failure(self, clip_id: str, source: str, reason: str) -> None:
        """Append a line to ``failures.csv`` (one bad clip never stops a run).

        The line goes out in one ``write`` on an append-only descriptor, so a killed run leaves
        whole lines only."""
        path = self.root / "failures.csv"
        header = "" if path.exists() and path.stat().st_size else _csv_line(FAILURE_COLUMNS)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            # a source name that is not valid UTF-8 is written with its bytes escaped (\\xff), readable
            os.write(fd, (header + _csv_line((clip_id, source, reason))).encode("utf-8", "backslashreplace"))
        finally:
            os.close(fd)

    def failures(self) -> pd.DataFrame:
        """The failures report (empty when every clip went through)."""
        path = self.root / "failures.csv"
        if not path.exists() or not path.stat().st_size:
            return pd.DataFrame(columns=list(FAILURE_COLUMNS))
        try:
            table = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise StoreError(f"{path} is not a readable CSV ({exc}); delete it and re-run to rebuild it") from exc
        if list(table.columns) != list(FAILURE_COLUMNS):
            raise StoreError(f"{path} has columns {list(table.columns)}, expected {list(FAILURE_COLUMNS)}")
        return table

    def settle_failures(self, forget: Iterable[str] = ()) -> pd.DataFrame:
        """Rewrite ``failures.csv`` from the store's truth and return it: lines of clips that are
        stored (or in ``forget``) are dropped, a clip keeps only its latest line. The file is
        always written (a header alone when nothing failed), atomically."""
        table = self.failures()
        forget = set(forget)
        keep = [not (cid in forget or self.has(cid)) for cid in table["clip_id"]]
        table = table.loc[np.array(keep, dtype=bool)].drop_duplicates("clip_id", keep="last").reset_index(drop=True)
        path = self.root / "failures.csv"
        tmp = path.with_name(f".failures.csv.{uuid.uuid4().hex[:8]}")
        tmp.write_text("".join([_csv_line(FAILURE_COLUMNS), *(_csv_line(r) for r in table.itertuples(index=False))]),
                       encoding="utf-8", errors="backslashreplace")
        os.replace(tmp, path)
        return table

    def remove_stale_tmp(self) -> int:
        """Delete ``.tmp-*`` folders left by killed writers; call only while nothing writes."""
        for leftover in self.root.glob(".failures.csv.*"):
            leftover.unlink(missing_ok=True)
        stale = list((self.root / "clips").glob(".tmp-*"))
        for p in stale:
            shutil.rmtree(p, ignore_errors=True)
        return len(stale)

    # -- reading ---------------------------------------------------------------------------
    def clip_ids(self) -> list[str]:
        """Ids of the entries, sorted; raises :class:`StoreError` naming any incomplete entry
        (a folder without ``meta.json``) instead of leaving it out."""
        clips = self.root / "clips"
        if not clips.is_dir():
            return []
        incomplete = self.incomplete()
        if incomplete:
            raise StoreError(
                f"{len(incomplete)} entries of the clip store {self.root} are incomplete (no meta.json): "
                f"{[str(clips / c) for c in incomplete[:5]]}{' …' if len(incomplete) > 5 else ''}; re-run the command "
                "that filled the store (it re-creates them) or delete those folders "
                f"(python -m ferlib check-store {self.root} lists every problem)"
            )
        return sorted(p.name for p in clips.iterdir() if not p.name.startswith(".") and (p / "meta.json").is_file())

    def meta(self, clip_id: str) -> dict[str, Any]:
        """The ``meta.json`` of an entry (cached)."""
        if clip_id not in self._meta_cache:
            path = self.entry_dir(clip_id) / "meta.json"
            if not path.is_file():
                raise StoreError(f"clip {clip_id!r} is not in the store {self.root} (no {path})")
            try:
                self._meta_cache[clip_id] = json.loads(path.read_text())
            except json.JSONDecodeError as exc:
                raise StoreError(f"{path} is corrupt: {exc}") from exc
        return self._meta_cache[clip_id]

    def _load(self, clip_id: str, name: str, meta: dict, mmap: bool) -> np.ndarray:
        path = self.entry_dir(clip_id) / f"{name}.npy"
        try:
            arr = np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
        except (ValueError, OSError, EOFError) as exc:
            raise StoreError(f"{path} is truncated or corrupt ({exc}); re-create clip {clip_id!r}") from exc
        dtype, ndim = _ARRAYS[name]
        expected = tuple(meta["arrays"][name])
        if arr.dtype != dtype or arr.shape != expected:
            raise StoreError(
                f"{path} holds {arr.dtype} {arr.shape}, but meta.json expects {np.dtype(dtype)} {expected}: "
                f"the entry is corrupt; re-create clip {clip_id!r}"
            )
        return arr

    def read(self, clip_id: str, mmap: bool = True) -> ClipRecord:
        """Read one entry; arrays are memory maps unless ``mmap=False``."""
        meta = self.meta(clip_id)
        arrays = {n: self._load(clip_id, n, meta, mmap) for n in meta["arrays"]}
        return ClipRecord(
            clip_id=clip_id,
            frames=arrays["frames"],
            landmarks=arrays["landmarks"],
            flags=arrays["flags"],
            intensity=arrays.get("intensity"),
            meta=meta,
        )

    def held(self, clip_id: str) -> ClipRecord:
        """The entry read into memory once, its landmarks checked finite (:meth:`require_finite`),
        then kept by this store object for every later call (the folds and variants of one
        notebook share one store) while the kept arrays take at most :data:`HOLD_BYTES`; past that,
        entries come memory-mapped (checked on every call), as :meth:`read` gives them."""
        rec = self._held.get(clip_id)
        if rec is not None:
            return rec
        size = int(sum(np.prod(shape) * np.dtype(_ARRAYS[name][0]).itemsize
                       for name, shape in self.meta(clip_id)["arrays"].items()))
        rec = self.read(clip_id, mmap=self._held_bytes + size > HOLD_BYTES)
        self.require_finite(rec)
        if not isinstance(rec.frames, np.memmap):
            self._held[clip_id] = rec
            self._held_bytes += size
        return rec

    def _drop_held(self, clip_id: str) -> None:
        rec = self._held.pop(clip_id, None)
        if rec is not None:
            self._held_bytes -= sum(a.nbytes for a in (rec.frames, rec.landmarks, rec.flags, rec.intensity) if a is not None)

    def require_finite(self, rec: ClipRecord) -> None:
        """Raise :class:`StoreError` naming the clip, its ``landmarks.npy`` and the frames when
        ``rec``'s landmarks hold a NaN or an infinity (a model would turn them into NaN losses)."""
        bad = nonfinite_frames(rec.landmarks)
        if len(bad):
            path = self.entry_dir(rec.clip_id) / "landmarks.npy"
            frames = bad[:8].tolist() + (["…"] if len(bad) > 8 else [])
            raise StoreError(
                f"clip {rec.clip_id!r}: {path} holds NaN or inf landmarks in {len(bad)} of {rec.n_frames} frames "
                f"{frames}; re-create the clip or leave it out of the index "
                f"(python -m ferlib check-store {self.root} lists every such entry)"
            )

    def index(self) -> ClipIndex:
        """A ClipIndex of every complete entry (extra row fields become columns)."""
        skip = {"arrays", "extra", "height", "width"}
        rows = [{k: v for k, v in self.meta(c).items() if k not in skip} for c in self.clip_ids()]
        return ClipIndex.from_records(rows, self.classes, self.dataset)

    def size_bytes(self) -> int:
        """Bytes on disk of all complete entries."""
        return sum(f.stat().st_size for c in self.clip_ids() for f in self.entry_dir(c).iterdir())


def write_failure(where: str | Path, what: str, exc: BaseException) -> str:
    """One line for a failed write of ``what`` under ``where``: the low-level error, and the free
    space there (a full disk shows as numpy's "N requested and M written" or torch's "enforce fail")."""
    try:
        free = f"{shutil.disk_usage(where).free / 2**20:.0f} MiB free there"
    except OSError:
        free = "free space unknown"
    cause = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"cannot write {what} into {where} ({cause}; {free}): is the disk full or not writable? nothing half-written was kept"


def file_digest(path: str | Path) -> list[Any]:
    """``[size in bytes, SHA-256 hex]`` of a file (what ``meta.json`` ``files`` records per array)."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256").hexdigest()
    return [Path(path).stat().st_size, digest]


def check_classes(classes: Iterable[str], what: str = "classes") -> tuple[str, ...]:
    """``classes`` as a tuple; raises ``ValueError`` naming ``what`` when it is empty or names a class twice."""
    classes = tuple(str(c) for c in classes)
    twice = sorted({c for c in classes if classes.count(c) > 1})
    if not classes or twice:
        raise ValueError(f"{what} must name distinct classes, got {list(classes)}"
                         + (f" ({twice} more than once)" if twice else ""))
    return classes


def _plain(value: Any) -> Any:
    """``value`` as plain JSON types (tuples → lists), for comparing settings with what was stored."""
    return json.loads(json.dumps(value, default=_json_default))


def _csv_line(values: Iterable[Any]) -> str:
    """One CSV line (quoted as needed, newline-terminated)."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow([str(v) for v in values])
    return buf.getvalue()


def _remove_create_leftovers(root: Path) -> None:
    """Remove what a :meth:`ClipStore.create` killed before ``store.json`` was in place leaves: an
    empty ``clips/`` and ``.store.json.*`` temporary files (and nothing else in ``root``)."""
    names = {p.name for p in root.iterdir()}
    ours = {n for n in names if n.startswith(".store.json.")}
    clips = root / "clips"
    if "clips" in names and clips.is_dir() and not any(clips.iterdir()):
        ours.add("clips")
    if not ours or ours != names:
        return
    for name in ours:
        path = root / name
        path.rmdir() if path.is_dir() else path.unlink()


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in meta.json")
