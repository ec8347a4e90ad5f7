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
