"""Fill a clip store from a ClipIndex: decode → detect → 68 landmarks → align → crop, per clip.

:func:`preprocess_clip` does one clip in memory; :func:`preprocess_index` runs it over an index
in worker processes (``spawn``, so it is safe under Jupyter, macOS and Windows; dlib objects are
built once per worker), with a progress bar, and writes each clip with
:meth:`ClipStore.write` (a temporary folder renamed into place: a killed run leaves no partial
entry). It is resumable: clips already in the store are skipped, and so are clips already in the
failures report unless ``retry_failed=True``. Any error in one clip (corrupt video, no face,
a crashed worker) becomes one line of ``failures.csv`` (clip, source, reason) and the run goes on.
``failures.csv`` is rewritten from the store at the start and the end of every run (always
written; a stored clip is never listed), and a clip another writer stored meanwhile counts as
skipped, not failed. Workers die with the process that started them (``PR_SET_PDEATHSIG`` on
Linux, and a watchdog thread on ``os.getppid()`` everywhere): a killed run leaves no process
behind that would go on writing into the store.

Frames with no face are kept (box carried over from the nearest frame with a face, flag
``FLAG_NO_FACE``); see :mod:`ferlib.preprocess.face`. Stored landmarks are in crop pixels.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ferlib.data.adapters import ADAPTERS, get_adapter
from ferlib.data.index import ClipIndex
from ferlib.data.store import FLAG_INTERPOLATED, FLAG_NO_FACE, ClipStore, EntryExistsError
from ferlib.preprocess.align import align_crop_clip
from ferlib.preprocess.dlib_models import check_predictor
from ferlib.preprocess.face import DEFAULT_LADDER, DetectorConfig, Rung, track_faces
from ferlib.preprocess.video import read_frames
from ferlib.progress import bars_visible, progress_bar


@dataclass(frozen=True)
class PreprocessConfig:
    """Every setting of the preprocessing of one clip (all picklable, stored in each entry's meta).

    side: side of the square crops in pixels (112 default; 224 for the paper models; 64 for the demo models).
    detect_every: run the detector on every k-th frame and propagate in between.
    extend, align, smooth, antialias, crop_box: see :func:`ferlib.preprocess.align.align_crop_clip`.
    threshold, ladder, detect_scale, detect_max_side, track_iou, predictor: see
    :class:`ferlib.preprocess.face.DetectorConfig`.
    frame_step: keep every n-th frame of the source (after ``frame_start``/``frame_stop``).
    """

    side: int = 112
    detect_every: int = 1
    extend: float = 0.25
    align: bool = True
    smooth: int = 1
    antialias: bool = True
    crop_box: str = "union"
    threshold: float = 0.0
    ladder: tuple[Rung, ...] = DEFAULT_LADDER
    detect_scale: float = 1.0
    detect_max_side: int | None = 640
    track_iou: float = 0.3
    predictor: str | None = None
    frame_step: int = 1

    def __post_init__(self) -> None:
        if self.side < 8:
            raise ValueError(f"side must be >= 8 pixels, got {self.side}")
        if self.detect_every < 1:
            raise ValueError(f"detect_every must be >= 1, got {self.detect_every}")
        if self.frame_step < 1:
            raise ValueError(f"frame_step must be >= 1, got {self.frame_step}")
        if not math.isfinite(self.extend) or self.extend < 0:
            raise ValueError(f"extend must be >= 0 (crop side = box side x (1 + extend)), got {self.extend}")
        if self.smooth < 1:
            raise ValueError(f"smooth must be >= 1 frame, got {self.smooth}")
        if self.predictor is not None:
            object.__setattr__(self, "predictor", str(self.predictor))
        self.detector()  # validates the detector fields

    def detector(self) -> DetectorConfig:
        """The detector part of the settings."""
        return DetectorConfig(self.threshold, self.ladder, self.detect_scale, self.detect_max_side,
                              self.track_iou, predictor=self.predictor)

    def as_dict(self) -> dict[str, Any]:
        """Plain-JSON form (what goes into meta.json)."""
        d = dataclasses.asdict(self)
        d["ladder"] = [[r["upsample"], r["clahe"]] for r in d["ladder"]]
        return d


@dataclass
class ProcessedClip:
    """One preprocessed clip (T frames), ready for :meth:`ClipStore.write`."""

    frames: np.ndarray  #: (T, side, side, 3) uint8 RGB crops
    landmarks: np.ndarray  #: (T, 68, 2) float32 in crop pixels
    flags: np.ndarray  #: (T,) uint8
    boxes: np.ndarray  #: (T, 4) float32 face boxes in source pixels
    transforms: np.ndarray  #: (T, 2, 3) source → crop
    source_shape: tuple[int, int]  #: (H, W) of the source frames
    detector_calls: int = 0

    def stats(self) -> dict[str, Any]:
        """Counts that go into the entry's meta (``extra``)."""
        return {
            "source_height": int(self.source_shape[0]),
            "source_width": int(self.source_shape[1]),
            "n_no_face": int(np.count_nonzero(self.flags & FLAG_NO_FACE)),
            "n_interpolated": int(np.count_nonzero(self.flags & FLAG_INTERPOLATED)),
            "detector_calls": int(self.detector_calls),
        }


def preprocess_clip(
    source: str | Path,
    config: PreprocessConfig = PreprocessConfig(),
    frame_start: int | None = None,
    frame_stop: int | None = None,
) -> ProcessedClip:
    """Decode ``source`` (frames ``[frame_start:frame_stop:config.frame_step]``), find the face in
    every frame and return aligned crops with landmarks. Raises on an unreadable source
    (:class:`~ferlib.preprocess.video.VideoReadError`) or a clip without any face
    (:class:`~ferlib.preprocess.face.NoFaceError`), both naming ``source``.
    """
    frames = read_frames(source, frame_start, frame_stop, config.frame_step)
    faces = track_faces(frames, config.detector(), config.detect_every, source=str(source))
    crops, landmarks, transforms = align_crop_clip(
        frames, faces.boxes, faces.landmarks, config.side, config.extend, config.align, config.smooth, config.antialias,
        config.crop_box,
    )
    return ProcessedClip(crops, landmarks, faces.flags, faces.boxes, transforms, frames.shape[1:3], faces.detector_calls)


@dataclass
class PreprocessSummary:
    """What a :func:`preprocess_index` run did."""

    store: Path
    total: int = 0  #: clips in the index
    done: int = 0  #: clips written by this run
    skipped: int = 0  #: clips already in the store (or already failed, without retry_failed)
    failed: int = 0  #: clips that went to failures.csv in this run
    recreated: int = 0  #: incomplete entries (a folder without meta.json) found and redone
    frames: int = 0  #: frames written by this run
    no_face_frames: int = 0
    interpolated_frames: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)  #: (clip_id, reason) of this run

    @property
    def failures_csv(self) -> Path:
        return self.store / "failures.csv"

    def __str__(self) -> str:
        rate = self.frames / self.seconds if self.seconds > 0 else float("nan")
        text = (f"{self.done} clips written, {self.skipped} skipped, {self.failed} failed of {self.total} "
                f"into {self.store} ({self.frames} frames, {self.no_face_frames} without a face, "
                f"{self.interpolated_frames} interpolated; {self.seconds:.1f} s, {rate:.1f} frames/s)")
        if self.recreated:
            text += f"; {self.recreated} incomplete entries (no meta.json) were found and redone"
        if self.failed:
            text += f"; failures in {self.failures_csv}"
        return text


# -- one clip in a worker ----------------------------------------------------------------------
def _clean_row(row: dict[str, Any]) -> dict[str, Any]:
    """Row values as plain JSON types (NaN → None, numpy scalars → Python)."""
    out = {}
    for k, v in row.items():
        if isinstance(v, np.generic):
            v = v.item()
        if isinstance(v, float) and math.isnan(v):
            v = None
        out[str(k)] = v
    return out


def _optional_int(row: dict[str, Any], key: str) -> int | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    try:
        as_float = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"clip {row.get('clip_id')!r}: {key} must be an integer, got {value!r}") from None
    if not as_float.is_integer():
        raise ValueError(f"clip {row.get('clip_id')!r}: {key} must be an integer, got {value!r}")
    return int(as_float)


def resolve_source(source: str, source_root: str | Path | None) -> Path:
    """The path of a clip's source; relative sources are taken relative to ``source_root``."""
    path = Path(source)
    if not path.is_absolute() and source_root is not None:
        path = Path(source_root) / path
    return path


def process_row(row: dict[str, Any], config: PreprocessConfig, store_root: str,
                source_root: str | None = None) -> dict[str, Any]:
    """Preprocess one index row and write it into the store; never raises for a bad clip.

    Returns ``{"clip_id", "status": "done"|"stored"|"failed", "reason", "n_frames", "n_no_face",
    "n_interpolated"}``; ``stored``: another writer stored the clip first (nothing written).
    """
    clip_id = str(row["clip_id"])
    stored = {"clip_id": clip_id, "status": "stored", "reason": ""}
    try:
        store = ClipStore.open(store_root)
        if store.has(clip_id):
            return stored
        source = resolve_source(str(row["source"]), source_root)
        clip = preprocess_clip(source, config, _optional_int(row, "frame_start"), _optional_int(row, "frame_stop"))
        stats = clip.stats()
        extra = {"preprocess": config.as_dict(), **stats}
        store.write(row, clip.frames, clip.landmarks, clip.flags, extra=extra)
        return {"clip_id": clip_id, "status": "done", "reason": "", "n_frames": int(clip.frames.shape[0]),
                "n_no_face": stats["n_no_face"], "n_interpolated": stats["n_interpolated"]}
    except EntryExistsError:
        return stored
    except Exception as exc:  # one bad clip never stops a run
        reason = f"{type(exc).__name__}: {exc}".replace("\n", " ")
        return {"clip_id": clip_id, "status": "failed", "reason": reason}


def _worker_init(parent_pid: int | None = None) -> None:
    """Tie the worker's life to ``parent_pid`` (see :func:`die_with_parent`) and keep it on one
    core (the pool provides the parallelism)."""
    if parent_pid is not None:
        die_with_parent(parent_pid)
    import cv2

    cv2.setNumThreads(1)
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def die_with_parent(parent_pid: int, poll_s: float = 0.5) -> None:
    """End this process as soon as ``parent_pid`` (the process that started it) is gone.

    On Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``); on
    every platform a daemon thread also checks ``os.getppid()`` every ``poll_s`` seconds (a
    process whose parent died is re-parented). A parent already gone ends the process at once.
    """
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass  # no prctl: the watchdog below still works
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="ferlib-parent-watchdog", daemon=True).start()


# -- many clips --------------------------------------------------------------------------------
def default_workers() -> int:
    """Worker processes used when none are asked for: the CPU count, at most 8."""
    return max(1, min(8, os.cpu_count() or 1))


def adapter_protocol(dataset: str) -> tuple[str, dict[str, Any]] | None:
    """The official protocol of the adapter named ``dataset`` (recorded in the store), if it is one."""
    if dataset not in ADAPTERS:
        return None
    name, kwargs = get_adapter(dataset).protocol
    return name, dict(kwargs)


LEFT_OUT_CSV = "left_out.csv"


def write_left_out(index: ClipIndex, store_dir: Path) -> Path | None:
    """``<store>/left_out.csv`` (source, reason): the clips the adapter found but could not label
    (``index.left_out``); an earlier list is replaced, and removed when there are none now."""
    path = Path(store_dir) / LEFT_OUT_CSV
    if not index.left_out:
        path.unlink(missing_ok=True)
        return None
    tmp = path.with_name(f".{LEFT_OUT_CSV}.tmp")
    keys = list(dict.fromkeys(k for row in index.left_out for k in row))
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        writer.writerows(index.left_out)
    os.replace(tmp, path)
    return path


def preprocess_index(
    index: ClipIndex,
    store_dir: str | Path,
    side: int = 112,
    workers: int | None = None,
    detect_every: int = 1,
    predictor: str | Path | None = None,
    *,
    source_root: str | Path | None = None,
    retry_failed: bool = False,
    progress: bool = True,
    **options: Any,
) -> PreprocessSummary:
    """Preprocess every clip of ``index`` into the clip store at ``store_dir``.

    ``workers``: processes (``None``: :func:`default_workers`; 0 or 1: in this process).
    ``source_root``: base folder for relative ``source`` paths. ``options``: any other
    :class:`PreprocessConfig` field (``threshold``, ``extend``, ``detect_max_side`` …).
    The index's optional integer columns ``frame_start``/``frame_stop`` select each clip's frames.
    Returns a :class:`PreprocessSummary`; failed clips are listed in ``<store_dir>/failures.csv``,
    the clips the adapter could not label (``index.left_out``) in ``<store_dir>/left_out.csv``.
    """
    fields = {f.name for f in dataclasses.fields(PreprocessConfig)}
    unknown = sorted(set(options) - fields)
    if unknown:
        raise TypeError(f"unknown preprocessing options {unknown}; valid: {sorted(fields - {'side', 'detect_every', 'predictor'})}")
    config = PreprocessConfig(side=side, detect_every=detect_every,
                              predictor=None if predictor is None else str(predictor), **options)
    if config.predictor is not None:
        check_predictor(config.predictor)  # fail now, not once per clip (a bad global option is no clip's failure)
    store = ClipStore.create(store_dir, index.dataset or "unnamed", index.classes, adapter_protocol(index.dataset),
                             settings=("preprocess", config.as_dict()), renamed={"size": "side"})
    write_left_out(index, store.root)
    removed = store.remove_stale_tmp()
    summary = PreprocessSummary(store=store.root, total=len(index))
    started = time.perf_counter()

    wanted = set(index.clip_ids)
    incomplete = [c for c in store.incomplete() if c in wanted]
    summary.recreated = len(incomplete)
    failed_before = set(store.settle_failures()["clip_id"])
    rows = []
    for row in index.df.to_dict("records"):
        row = _clean_row(row)
        cid = str(row["clip_id"])
        if store.has(cid) or (cid in failed_before and not retry_failed and cid not in incomplete):
            summary.skipped += 1
        else:
            rows.append(row)
    if retry_failed:
        store.settle_failures(forget={str(r["clip_id"]) for r in rows} & failed_before)

    n_workers = default_workers() if workers is None else int(workers)
    if progress:
        note = f" (removed {removed} unfinished entries of an earlier run)" if removed else ""
        print(f"preprocess: {len(rows)} clips to do, {summary.skipped} skipped (stored or failed before), into {store.root}{note}")
    if incomplete:
        print(f"preprocess: {len(incomplete)} incomplete entries (folders without meta.json) will be re-created: "
              f"{incomplete[:5]}{' …' if len(incomplete) > 5 else ''}", file=sys.stderr)
    bar = _progress_bar(len(rows), progress)
    sources = {str(r["clip_id"]): str(r["source"]) for r in rows}
    root = None if source_root is None else str(source_root)

    def record(result: dict[str, Any]) -> None:
        if result["status"] == "stored":
            summary.skipped += 1
        elif result["status"] == "done":
            summary.done += 1
            summary.frames += result["n_frames"]
            summary.no_face_frames += result["n_no_face"]
            summary.interpolated_frames += result["n_interpolated"]
        else:
            summary.failed += 1
            summary.failures.append((result["clip_id"], result["reason"]))
            store.record_failure(result["clip_id"], sources[result["clip_id"]], result["reason"])
        if bar is not None:
            bar.update(1)
            bar.set_postfix(failed=summary.failed)

    try:
        if n_workers <= 1 or len(rows) <= 1:
            for row in rows:
                record(process_row(row, config, str(store.root), root))
        else:
            _run_pool(rows, config, str(store.root), root, n_workers, record)
    finally:
        if bar is not None:
            bar.close()
        store.settle_failures()
    summary.seconds = time.perf_counter() - started
    if progress:
        print(f"preprocess: {summary}")
    return summary


def _run_pool(rows: list[dict[str, Any]], config: PreprocessConfig, store_root: str, source_root: str | None,
              n_workers: int, record: Callable[[dict[str, Any]], None], task: Callable[..., dict[str, Any]] | None = None
              ) -> None:
    """Run ``task`` (default :func:`process_row`) over ``rows`` in spawned processes, at most
    ``2 * n_workers`` in flight; ``task`` must be a module-level function (it is pickled by name).

    A worker that dies (a crash inside a native library, the OOM killer) breaks the pool and
    every clip in flight with it: those clips are retried one by one, each alone in a fresh
    process, so only the clip that kills its worker again is recorded as failed.
    """
    task = task or process_row
    ctx = multiprocessing.get_context("spawn")
    queue = deque(rows)
    while queue:
        suspects: list[dict[str, Any]] = []
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, initializer=_worker_init,
                                 initargs=(os.getpid(),)) as pool:
            in_flight: dict[Future, dict[str, Any]] = {}
            while queue or in_flight:
                while queue and len(in_flight) < 2 * n_workers:
                    row = queue.popleft()
                    in_flight[pool.submit(task, row, config, store_root, source_root)] = row
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                broken = False
                for fut in done:
                    row = in_flight.pop(fut)
                    try:
                        record(fut.result())
                    except BrokenProcessPool:
                        broken = True
                        suspects.append(row)
                if broken:
                    suspects.extend(in_flight.values())
                    break
        for row in suspects:
            record(_run_alone(row, config, store_root, source_root, ctx, task))


def _run_alone(row: dict[str, Any], config: PreprocessConfig, store_root: str, source_root: str | None,
               ctx: Any, task: Callable[..., dict[str, Any]]) -> dict[str, Any]:
    """Process one clip in a fresh single-worker process; a dying worker becomes a failure."""
    with ProcessPoolExecutor(max_workers=1, mp_context=ctx, initializer=_worker_init, initargs=(os.getpid(),)) as pool:
        try:
            return pool.submit(task, row, config, store_root, source_root).result()
        except BrokenProcessPool:
            return {"clip_id": str(row["clip_id"]), "status": "failed",
                    "reason": "the worker process died while preprocessing this clip (crash or out of memory)"}


def _progress_bar(total: int, enabled: bool):
    if not enabled or total == 0 or not bars_visible():
        return None  # a log file gets the summary, not carriage-return updates (ferlib.progress)
    return progress_bar(total, "preprocess")
