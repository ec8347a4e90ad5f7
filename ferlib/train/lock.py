"""One process trains a run folder at a time: an exclusive lock on ``<run>/.lock``.

:func:`ferlib.train.engine.fit` holds it from the moment it looks at a run folder until the run is
finished, so two processes asked for the same run (``make demo``'s second job training a notebook's
ablation rows ahead of it, two notebooks sharing a model) never write the same folder at once: the
second waits, then finds the finished run and reads it. The lock is ``fcntl.flock``'s (POSIX), released
by the operating system when its process ends, so a killed training leaves no stale lock: the next
one resumes from ``last.pt``. Where ``fcntl`` does not exist (Windows) there is no lock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

LOCK_NAME = ".lock"  # hidden: a folder holding only it counts as empty (prepare_run_dir)


@contextmanager
def run_lock(run_dir: str | Path, echo: bool = True) -> Iterator[None]:
    """Hold the exclusive lock of ``run_dir`` (made when missing) for the ``with`` block; when another
    process holds it, say so (``echo``) and wait for it."""
    path = Path(run_dir)
    path.mkdir(parents=True, exist_ok=True)
    with (path / LOCK_NAME).open("a") as f:
        if fcntl is not None:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if echo:
                    print(f"ferlib: another process is training {path}; waiting for it", flush=True)
                fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(f, fcntl.LOCK_UN)
