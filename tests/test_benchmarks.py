"""Every script in benchmarks/ parses, imports what it names and answers ``--help`` (they run
rarely and by hand, so a broken one would otherwise go unnoticed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "benchmarks").glob("*.py"))

# one interpreter for all scripts: each runs as __main__ with --help and must exit 0 after printing its usage
_RUNNER = """
import contextlib, io, runpy, sys
bad = []
for path in sys.argv[1:]:
    sys.argv = [path, "--help"]
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(path, run_name="__main__")
        code = 0
    except SystemExit as exit:
        code = exit.code or 0
    except BaseException as err:
        code = f"{type(err).__name__}: {err}"
    if code != 0 or "usage:" not in out.getvalue():
        bad.append(f"{path}: exit {code}")
print("\\n".join(bad))
sys.exit(1 if bad else 0)
"""


def test_there_are_benchmarks():
    assert len(SCRIPTS) >= 5, SCRIPTS


def test_every_benchmark_answers_help():
    r = subprocess.run([sys.executable, "-c", _RUNNER, *map(str, SCRIPTS)], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr[-2000:]


def test_gpu_check_smoke_runs_on_cpu():
    """The prepared GPU check runs end to end on a CPU at smoke size, every table filled."""
    r = subprocess.run([sys.executable, "benchmarks/gpu_check.py", "--smoke", "--methods", "stgcn", "kp_gcn_msa"],
                       cwd=REPO, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    rows = [line for line in r.stdout.splitlines() if line.startswith("| stgcn |") or line.startswith("| kp_gcn_msa |")]
    for m in ("stgcn", "kp_gcn_msa"):
        for s in ("eager fp32", "bf16", "channels-last"):
            row = next(line for line in rows if line.startswith(f"| {m} | {s} |"))
            assert float(row.split("|")[3]) > 0 and float(row.split("|")[4]) > 0, row  # train, infer clips/s
        assert any(line.startswith(f"| {m} | compile | skipped on CPU") for line in rows)
        loader = [line for line in rows if line.count("|") == 5]
        assert any(float(line.split("|")[2]) > 0 for line in loader if line.startswith(f"| {m} |")), loader
    assert "vs the paper's Table 8 52 on an RTX 3090" in r.stdout
