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
