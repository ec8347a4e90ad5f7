"""Kill scenarios, run as subprocesses: ``synth`` and ``preprocess`` are SIGKILLed at several points,
resumed, and the store is compared file by file, byte for byte, with an uninterrupted run. After
each kill the processes left in the killed command's process group are counted: none may survive
(a worker that lives on would go on writing into the store the next run is filling).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

import pytest

from ferlib.cli import main as cli_main
from ferlib.data.check import check_store
from ferlib.data.store import ClipStore

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="SIGKILL and process groups are POSIX")]

REPO = Path(__file__).resolve().parents[1]
HAS_PROC = Path("/proc/self/stat").is_file()


# -- helpers -------------------------------------------------------------------------------------
def _start(args: list[str], log: Path) -> subprocess.Popen:
    """``python -m ferlib ARGS`` in a new session (its pid is the process group of all it starts)."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "ferlib", *args], env=env, cwd=REPO, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def _group(pgid: int) -> list[int]:
    """Live (non-zombie) processes of process group ``pgid``, from /proc."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            state, _ppid, pgrp = (d / "stat").read_text().rsplit(")", 1)[1].split()[:3]
        except (OSError, ValueError):
            continue
        if int(pgrp) == pgid and state != "Z":
            pids.append(int(d.name))
    return pids


def _entries(store: Path) -> int:
    clips = store / "clips"
    if not clips.is_dir():
        return 0
    return sum(1 for e in os.scandir(clips) if not e.name.startswith(".") and os.path.isfile(os.path.join(e.path, "meta.json")))


def _kill_when(proc: subprocess.Popen, ready: Callable[[], bool], what: str, timeout: float = 240) -> dict[str, int]:
    """SIGKILL ``proc`` (only the parent) as soon as ``ready()``; then count what survives it.

    Returns ``{"at_kill": processes in its group besides it, "after": survivors 10 s later at most}``.
    """
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the run ended (rc {proc.returncode}) before the kill point '{what}'")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"kill point '{what}' not reached in {timeout} s")
        time.sleep(0.002)
    at_kill = [p for p in _group(proc.pid) if p != proc.pid] if HAS_PROC else []
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(60) == -signal.SIGKILL
    survivors: list[int] = []
    if HAS_PROC:
        deadline = time.monotonic() + 10
        while (survivors := _group(proc.pid)) and time.monotonic() < deadline:
            time.sleep(0.05)
        for pid in survivors:  # never leave them behind, even when the test fails
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return {"at_kill": len(at_kill), "after": len(survivors)}


def _finish(args: list[str], log: Path) -> None:
    proc = _start(args, log)
    assert proc.wait(300) == 0, log.read_text()[-3000:]


def _reference(args: list[str]) -> None:
    """The uninterrupted run, in this process (the same code as the subprocess, without its start-up)."""
    assert cli_main(args) == 0


def _files(store: Path) -> dict[str, bytes]:
    """Every file of a store (relative path → bytes), the killed runs' leftovers included, except
    ``synth.tmp<pid>``: synth's manifest is written through such a file, which a kill in the
    microseconds between its write and its rename would leave (harmless, never read)."""
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*"))
            if p.is_file() and not (p.parent == store and p.name.startswith("synth.tmp"))}


def _assert_same_store(got: Path, expected: Path) -> None:
    a, b = _files(got), _files(expected)
    assert sorted(a) == sorted(b), f"files differ: only resumed {sorted(set(a) - set(b))}, only reference {sorted(set(b) - set(a))}"
    differ = [name for name in a if a[name] != b[name]]
    assert not differ, f"files whose bytes differ from the uninterrupted run: {differ}"
    assert check_store(got).ok, str(check_store(got))


# -- synth ---------------------------------------------------------------------------------------
SYNTH = ["synth", "--subjects", "6", "--frames", "16", "--side", "48", "--seed", "3"]
SYNTH_CLIPS = 6 * 7


def test_synth_killed_at_several_points_resumes_to_the_same_bytes(tmp_path):
    ref, out, log = tmp_path / "ref", tmp_path / "out", tmp_path / "log.txt"
    _reference([*SYNTH, "--out", str(ref)])
    points = [
        ("store.json written", lambda: (out / "store.json").is_file()),
        ("half the entries", lambda: _entries(out) >= SYNTH_CLIPS // 2),
    ]
    counts = []
    for what, ready in points:
        counts.append(_kill_when(_start([*SYNTH, "--out", str(out)], log), ready, what))
        assert counts[-1]["after"] == 0, f"{counts[-1]} processes outlived the run killed at '{what}'"
        assert _entries(out) < SYNTH_CLIPS, f"the run killed at '{what}' had already finished"
    _finish([*SYNTH, "--out", str(out)], log)
    _assert_same_store(out, ref)
    assert len(ClipStore.open(out).clip_ids()) == SYNTH_CLIPS


# -- preprocess ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def afew_root(tmp_path_factory) -> Path:
    """Nine generated clips (3 subjects x 3 classes, 8 frames of 64x64) as AFEW-layout .avi files."""
    from ferlib.synth.export import export_layout
    from ferlib.synth.generate import SynthConfig, generate

    root = tmp_path_factory.mktemp("faults")
    truth = generate(root / "truth", SynthConfig(n_subjects=3, n_frames=8, side=64, classes=("happy", "sad", "anger")),
                     progress=False)
    export_layout(truth, root / "afew", "afew")
    return root / "afew"


def _preprocess(root: Path, out: Path, workers: int) -> list[str]:
    return ["preprocess", "--dataset", "afew", "--root", str(root), "--out", str(out), "--workers", str(workers),
            "--detect-every", "4", "--side", "48", "--quiet"]


def test_preprocess_killed_at_several_points_leaves_no_worker_and_resumes_to_the_same_bytes(afew_root, tmp_path):
    ref, out, log = tmp_path / "ref", tmp_path / "out", tmp_path / "log.txt"
    _reference(_preprocess(afew_root, ref, 1))
    total = _entries(ref)
    assert total == 9
    points = [  # (workers, kill point, entries this run must have added; 0: once store.json is there)
        (2, "first entry", 1),
        (1, "one more entry, in-process", 1),
        (2, "two more entries", 2),
    ]
    counts = {}
    for workers, what, more in points:
        before = _entries(out)
        ready = (lambda: (out / "store.json").is_file()) if more == 0 else (lambda: _entries(out) >= before + more)
        counts[what] = _kill_when(_start(_preprocess(afew_root, out, workers), log), ready, what)
        assert counts[what]["after"] == 0, f"{counts[what]} processes outlived the run killed at '{what}'"
        assert _entries(out) < total, f"the run killed at '{what}' had already finished"
    # the workers were alive when their parent was killed mid-run
    assert counts["first entry"]["at_kill"] >= 2 and counts["two more entries"]["at_kill"] >= 2, counts
    _finish(_preprocess(afew_root, out, 2), log)
    _assert_same_store(out, ref)
    assert (out / "failures.csv").read_text() == "clip_id,source,reason\n"
