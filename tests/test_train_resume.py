"""A run killed mid-way resumes from last.pt and ends with the metrics of an uninterrupted run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = """
import sys, numpy as np
from ferlib.data.store import ClipStore
from ferlib.data.protocols import Split
from ferlib.train.recipes import resolve_config
from ferlib.train.engine import fit
store = ClipStore.open(sys.argv[1])
cfg = resolve_config("fan", "demo", epochs=4, batch_size=2, input_side=32, progress=False, seed=5)
fit(cfg, store, Split("f0", np.array([0, 1, 2, 3]), np.array([4, 5])), sys.argv[2])
"""


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from ferlib.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("tiny") / "store"
    generate(root, SynthConfig(n_subjects=3, n_frames=4, side=32, classes=("happy", "surprise"), seed=0), progress=False)
    return root


def _run(store: Path, out: Path) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(store), str(out)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_killed_run_resumes_to_identical_metrics(tiny, tmp_path):
    full = tmp_path / "full"
    proc = _run(tiny, full)
    assert proc.wait(timeout=300) == 0, proc.stdout.read().decode()

    cut = tmp_path / "cut"
    proc = _run(tiny, cut)
    deadline = time.time() + 240
    while not (cut / "last.pt").exists():
        assert proc.poll() is None, proc.stdout.read().decode()
        assert time.time() < deadline, "no epoch checkpoint appeared"
        time.sleep(0.05)
    proc.kill()
    proc.wait()
    assert not (cut / "metrics.json").exists(), "the run finished before it could be killed"
    proc = _run(tiny, cut)
    out = proc.communicate(timeout=300)[0].decode()
    assert proc.returncode == 0, out
    assert "resuming" in out
    a = json.loads((full / "metrics.json").read_text())
    b = json.loads((cut / "metrics.json").read_text())
    assert a == b
    assert len(b["history"]) == 4


def test_a_second_process_waits_for_the_run_and_reads_it(tiny, tmp_path):
    """While another process holds a run folder's lock, fit waits; it then reads the run finished
    meanwhile instead of training it again."""
    import shutil

    from ferlib.train.lock import run_lock

    ref = tmp_path / "ref"
    proc = _run(tiny, ref)
    assert proc.wait(timeout=300) == 0, proc.stdout.read().decode()
    out = tmp_path / "shared"
    with run_lock(out):
        second = _run(tiny, out)
        seen = []
        while not any("waiting" in line for line in seen):
            line = second.stdout.readline().decode()
            assert line, "fit did not wait for the lock: " + "".join(seen)
            seen.append(line)
        shutil.copytree(ref, out, dirs_exist_ok=True)  # the run the lock's holder finished
    rest = second.communicate(timeout=300)[0].decode()
    assert second.returncode == 0, rest
    assert "writing" not in "".join(seen) + rest  # it trained nothing
    assert json.loads((out / "metrics.json").read_text()) == json.loads((ref / "metrics.json").read_text())


def test_lock_file_is_not_made_in_a_refused_folder(tmp_path):
    import numpy as np

    from ferlib.data.protocols import Split
    from ferlib.train.engine import RunDirError, fit
    from ferlib.train.recipes import resolve_config
    from ferlib.data.store import ClipStore
    from ferlib.synth import SynthConfig, generate

    store = generate(tmp_path / "store", SynthConfig(n_subjects=3, n_frames=4, side=32, classes=("happy", "surprise")),
                     progress=False)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    cfg = resolve_config("fan", "demo", epochs=1, batch_size=2, input_side=32, progress=False, init_trunk="")
    with pytest.raises(RunDirError, match="holds no ferlib run"):
        fit(cfg, ClipStore.open(store.root), Split("f0", np.array([0, 1, 2, 3]), np.array([4, 5])), busy)
    assert sorted(p.name for p in busy.iterdir()) == ["notes.txt"]
