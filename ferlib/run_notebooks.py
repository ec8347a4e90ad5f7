"""Run the workbook's notebooks in order with papermill and print the wall time of each.

    python -m ferlib.run_notebooks --profile demo [--only 00] [--out DIR] [--no-train]
    python -m ferlib.run_notebooks --profile demo --jobs 2 --gallery   # make demo: two at a time, + the gallery run
    python -m ferlib.run_notebooks --check      # are the committed outputs those of this code?

In the ``demo`` profile (``make demo``) each notebook is executed **in place**: the committed notebooks carry
the outputs of the demo run, so a reader sees them in JupyterLab or on a code host's web view
without running anything. Each executed notebook is stamped (``metadata.ferlib``) with its profile
and two digests: of its own cells' sources and of the ``ferlib`` package's sources. ``--check``
recomputes both and names every notebook whose outputs came from other code (exit 1); the tests
check the first digest, which goes stale only when a notebook is edited. Other profiles write
their executed copies to ``notebooks/_executed/`` (``--out`` chooses), never over the demo's.

Each notebook gets those of the parameters ``profile``, ``figures_dir``, ``data_dir``,
``runs_dir`` and ``train`` that its ``parameters`` cell declares and whose value differs from the
declared default (so a demo run in place injects no cell). ``--no-train`` (``make figures``)
redraws from existing runs and fails in the first cell that needs a missing run. The kernels draw
figures inline (:data:`KERNEL_ENV`), so the kept notebooks show them; progress bars are off there
(``FERLIB_BARS=0``): a saved widget is noise; the per-epoch lines stay.

``--jobs N`` runs N notebooks at a time, each in its own process with one CPU thread
(``OMP_NUM_THREADS=1``): the demo's small models keep one core busy each far better than two
threads share one model, so two one-thread jobs on two cores finish the demo sooner than one job
at a time. A notebook starts only when the notebooks whose runs it reads or trains (:data:`NEEDS`)
have finished; of the ready ones, the one heading the longest chain of the last run's times starts
first. ``--gallery`` adds the gallery run (``python -m ferlib.gallery --make``) as one more job. Notebook
04's ablation runs are more than one job slot's worth: a job ``04-ahead`` (:data:`AHEAD`) trains them from the
last backwards once the other slot has nothing else to do, while the notebook trains them forwards; a run
folder is locked while it trains, so each run is trained once and the notebook reads those trained ahead.
Each job's output goes to ``<runs>/logs/<job>.log``; a failed job stops the start of new ones
and its log's tail is printed. ``figures/demo_times.csv`` holds each job's wall seconds and the
whole run's (``all``), with the jobs count.
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path

import papermill as pm

from ferlib.analysis.cost import cpu_summary
from ferlib.profiles import PROFILES, get_profile
from ferlib.readme_results import ALL_ROW, GALLERY_JOB, TIMES

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
PACKAGE_DIR = ROOT / "ferlib"
STAMP = "ferlib"  # the notebook-metadata key of the stamp
#: the executing kernels' environment: figures drawn inline (an ``MPLBACKEND=Agg`` set for a headless
#: shell would leave the kept notebooks without their figures), no progress bars saved as widgets
KERNEL_ENV = {"MPLBACKEND": "module://matplotlib_inline.backend_inline", "FERLIB_BARS": "0"}
#: notebook number → the notebooks that must finish first: their runs are read (the weights, Grad-CAM,
#: t-SNE and cost notebooks read the four methods' runs; the ablation tables' ``full`` rows are 02's and
#: 03's runs; Grad-CAM's Fig. 1 reads the CNN-only row of 06) or trained by both (07 and 06 both train FAN
#: without relation attention). Not 04: it trains its three full-model runs in its first minutes, then
#: ablation rows for most of the run; a notebook that reaches a run still training waits for its lock
#: (:mod:`ferlib.train.lock`) and reads it
NEEDS: dict[str, tuple[str, ...]] = {
    "06": ("02", "03"),
    "07": ("02", "03", "06"),
    "08": ("02", "03", "05", "06"),
    "09": ("02", "03", "05"),
    "10": ("02", "03", "05"),
}

#: the notebooks whose method's ablation runs a second job trains ahead of them, from the last one backwards
#: (:func:`ferlib.workbook.train_ablations_ahead`): the job starts when everything else that does not wait for
#: the notebook has finished, and the two meet in the middle of the notebook's trainings
AHEAD = ("04",)
AHEAD_SUFFIX = "-ahead"  # the job's name: the notebook's number and this


def notebooks(only: list[str] | None = None, folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks in order, optionally only those whose number is in ``only``."""
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        found = [p for p in found if p.name[:2] in only]
    return found


def cells_digest(nb: dict) -> str:
    """sha256 of a notebook's cell types and sources (papermill's injected cell left out)."""
    cells = [(c["cell_type"], "".join(c["source"]) if isinstance(c["source"], list) else c["source"])
             for c in nb["cells"] if "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    return hashlib.sha256(json.dumps(cells).encode()).hexdigest()


def code_digest(package: Path = PACKAGE_DIR) -> str:
    """sha256 of every ``.py`` file of the package (relative path and bytes, in sorted order)."""
    h = hashlib.sha256()
    for p in sorted(package.rglob("*.py")):
        h.update(str(p.relative_to(package)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _portable(value: str) -> str:
    """A path inside the repository as a path relative to it (executed copies carry no home folder)."""
    p = Path(value).resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(p)


def stamp(path: Path, profile: str) -> None:
    """Write the stamp into an executed notebook and make papermill's recorded paths relative."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    meta = nb.setdefault("metadata", {})
    pmeta = meta.get("papermill", {})
    for key in ("input_path", "output_path"):
        if pmeta.get(key):
            pmeta[key] = _portable(pmeta[key])
    pmeta["parameters"] = {k: _portable(v) if isinstance(v, str) and os.sep in v else v
                           for k, v in pmeta.get("parameters", {}).items()}
    meta[STAMP] = {"profile": profile, "cells": cells_digest(nb), "code": code_digest()}
    path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def stale(paths: list[Path], code: bool = True) -> list[str]:
    """One line per notebook whose outputs are not those of the current code: never executed by
    :func:`run_all`, executed in another profile than ``demo``, its cells edited since, or (with
    ``code``) the ``ferlib`` sources changed since."""
    problems, now = [], code_digest() if code else None
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        s = nb.get("metadata", {}).get(STAMP)
        if s is None:
            problems.append(f"{path.name}: has no outputs of `make demo` (no metadata.{STAMP} stamp)")
        elif s.get("profile") != "demo":
            problems.append(f"{path.name}: its outputs are of the {s.get('profile')!r} profile, not 'demo'")
        elif s.get("cells") != cells_digest(nb):
            problems.append(f"{path.name}: its cells changed after it ran: run `make demo` (or its notebook) again")
        elif code and s.get("code") != now:
            problems.append(f"{path.name}: ferlib's sources changed after it ran: run `make demo` again")
    return problems


def _differing(nb: Path, offered: dict) -> dict:
    """The entries of ``offered`` that ``nb`` declares with another default."""
    out = {}
    for name, info in pm.inspect_notebook(str(nb)).items():
        if name not in offered:
            continue
        try:
            default = ast.literal_eval(info["default"])
        except (ValueError, SyntaxError):
            default = object()
        if default != offered[name]:
            out[name] = offered[name]
    return out


def run_all(profile: str, out: Path | None, figures_dir: Path, data_dir: Path, only: list[str] | None = None,
            runs_dir: Path = Path("runs"), train: bool = True, jobs: int = 1, gallery: bool = False,
            record: bool = True) -> dict[str, float]:
    """Execute the notebooks (``out`` None: in place for ``demo``, else into ``notebooks/_executed``);
    returns wall seconds per notebook. ``jobs`` > 1 or ``gallery``: :func:`run_parallel`; ``record``:
    write the demo's times (a job of :func:`run_parallel` leaves that to its parent)."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    if jobs > 1 or gallery:
        return run_parallel(profile, out, figures_dir, data_dir, only, runs_dir, train, jobs, gallery)
    if profile not in PROFILES:
        raise ValueError(f"profile {profile!r} is not one of {PROFILES}")
    if out is None and profile != "demo":
        out = NOTEBOOK_DIR / "_executed"
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    saved = {k: os.environ.get(k) for k in KERNEL_ENV}
    os.environ.update(KERNEL_ENV)  # the kernels inherit it
    try:
        return _run(profile, out, figures_dir, data_dir, only, runs_dir, train, record)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k)
            else:
                os.environ[k] = v


def _run(profile: str, out: Path | None, figures_dir: Path, data_dir: Path, only: list[str] | None,
         runs_dir: Path, train: bool, record: bool = True) -> dict[str, float]:
    times: dict[str, float] = {}
    for nb in notebooks(only):
        offered = {"profile": profile, "figures_dir": _portable(str(figures_dir)), "data_dir": _portable(str(data_dir)),
                   "runs_dir": _portable(str(runs_dir)), "train": train}
        target = nb if out is None else out / nb.name
        t0 = time.perf_counter()
        pm.execute_notebook(str(nb), str(target), cwd=str(ROOT), progress_bar=False,
                            parameters=_differing(nb, offered))
        stamp(target, profile)
        times[nb.name] = time.perf_counter() - t0
        print(f"{nb.name}: {times[nb.name]:.1f} s -> {target}", flush=True)
    print(f"total: {sum(times.values()):.1f} s for {len(times)} notebooks; figures in {figures_dir}")
    if profile == "demo" and train and record:
        record_times({**times, **({ALL_ROW: sum(times.values())} if not only else {})}, figures_dir / TIMES,
                     jobs=None if only else 1)
    return times


def critical_paths(names: Sequence[str], needs: Mapping[str, Sequence[str]], cost: Mapping[str, float]) -> dict[str, float]:
    """Each name's longest chain of expected seconds to the end of the run: its own ``cost`` (1 when
    unknown) plus the longest chain among the names that need it."""
    after: dict[str, list[str]] = {n: [m for m in names if n in needs.get(m, ())] for n in names}
    memo: dict[str, float] = {}

    def path(n: str) -> float:
        if n not in memo:
            memo[n] = float(cost.get(n, 1.0)) + max((path(m) for m in after[n]), default=0.0)
        return memo[n]

    return {n: path(n) for n in names}


def schedule(names: Sequence[str], needs: Mapping[str, Sequence[str]], run: Callable[[str], None], jobs: int,
             echo: Callable[[str], None] = print, cost: Mapping[str, float] | None = None) -> dict[str, float]:
    """Run ``run(name)`` for every name, ``jobs`` at a time, each only after the names it ``needs``
    (those among ``names``) have finished; of the ready names, the one with the longest chain of
    expected seconds to the end (:func:`critical_paths` over ``cost``, e.g. the last run's times)
    starts first, ties in the order given. Returns wall seconds per name. A failure starts nothing
    more, waits for the running ones and raises naming it."""
    chain = critical_paths(names, needs, cost or {})
    rank = {n: (-chain[n], i) for i, n in enumerate(names)}
    pending, done, times = sorted(names, key=rank.__getitem__), set(), {}
    started: dict[Future, tuple[str, float]] = {}
    failed: list[tuple[str, BaseException]] = []
    lock = threading.Lock()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        while pending or started:
            ready = [n for n in pending if all(d in done or d not in names for d in needs.get(n, ()))]
            while ready and len(started) < jobs and not failed:
                n = ready.pop(0)
                pending.remove(n)
                with lock:
                    echo(f"started {n}")
                started[pool.submit(run, n)] = (n, time.perf_counter())
            if not started:
                break
            finished, _ = wait(list(started), return_when=FIRST_COMPLETED)
            for f in finished:
                n, t0 = started.pop(f)
                times[n] = time.perf_counter() - t0
                if f.exception() is not None:
                    failed.append((n, f.exception()))
                    echo(f"FAILED {n} after {times[n]:.1f} s")
                else:
                    done.add(n)
                    echo(f"{n}: {times[n]:.1f} s")
    if failed:
        n, err = failed[0]
        left = [p for p in names if p not in done and p != n]
        raise RuntimeError(f"{n} failed: {err}" + (f"; not run or not finished: {', '.join(left)}" if left else ""))
    return times


def _waits_for(name: str, needs: Mapping[str, Sequence[str]]) -> set[str]:
    """Every job ``name`` waits for, directly or through others."""
    seen: set[str] = set()
    todo = list(needs.get(name, ()))
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo += needs.get(n, ())
    return seen


def with_ahead_jobs(names: Sequence[str], needs: Mapping[str, Sequence[str]]) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """``names`` with the :data:`AHEAD` job of each notebook among them, and ``needs`` with theirs: every
    other job that does not wait for the notebook (so the job fills a slot that has nothing else to do)."""
    out, need = list(names), {k: tuple(v) for k, v in needs.items()}
    for number in AHEAD:
        if number in names:
            need[number + AHEAD_SUFFIX] = tuple(n for n in names if n != number and number not in _waits_for(n, need))
            out.append(number + AHEAD_SUFFIX)
    return out, need


def run_parallel(profile: str, out: Path | None, figures_dir: Path, data_dir: Path, only: list[str] | None,
                 runs_dir: Path, train: bool, jobs: int, gallery: bool) -> dict[str, float]:
    """:func:`run_all` with ``jobs`` processes of one thread each (see the module doc)."""
    books = {nb.name[:2]: nb for nb in notebooks(only)}
    names = list(books)
    if gallery and not get_profile(profile).gallery:
        raise ValueError(f"the gallery run has no {profile!r} profile (profiles with one: "
                         f"{[p for p in PROFILES if get_profile(p).gallery]})")
    if gallery:
        names.insert(0, GALLERY_JOB)
    names, needs = with_ahead_jobs(names, NEEDS) if jobs > 1 and train else (names, dict(NEEDS))
    logs = runs_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, **KERNEL_ENV, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1") if jobs > 1 else dict(os.environ, **KERNEL_ENV)

    def command(name: str) -> list[str]:
        if name == GALLERY_JOB:
            return [sys.executable, "-m", "ferlib.gallery", "--make", "--profile", profile, "--figures", str(figures_dir)]
        if name.endswith(AHEAD_SUFFIX):  # its own module: torch is imported by the one job that needs it
            return [sys.executable, "-m", "ferlib.workbook", "--ahead", name[:2], "--profile", profile, "--data",
                    str(data_dir), "--runs", str(runs_dir)]
        cmd = [sys.executable, "-m", "ferlib.run_notebooks", "--profile", profile, "--only", name, "--figures",
               str(figures_dir), "--data", str(data_dir), "--runs", str(runs_dir), "--no-record"]
        return cmd + (["--out", str(out)] if out is not None else []) + ([] if train else ["--no-train"])

    def run(name: str) -> None:
        log = logs / f"{books[name].stem if name in books else name}.log"
        with log.open("w", encoding="utf-8") as f:
            r = subprocess.run(command(name), cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT)
        if r.returncode:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-30:]
            raise RuntimeError(f"exit status {r.returncode}; the end of {log}:\n" + "\n".join(tail))

    t0 = time.perf_counter()
    last = read_times(figures_dir / TIMES)  # the last demo's seconds per job: the longest chains start first
    times = schedule(names, needs, run, jobs, cost={n: last[books[n].name if n in books else n] for n in names
                                                     if (books[n].name if n in books else n) in last})
    wall = time.perf_counter() - t0
    rows = {(books[n].name if n in books else n): s for n, s in times.items()}
    print(f"total: {wall:.1f} s wall for {len(rows)} jobs, {jobs} at a time; logs in {logs}; figures in {figures_dir}")
    if profile == "demo" and train:
        record_times({**rows, **({ALL_ROW: wall} if not only else {})}, figures_dir / TIMES, jobs=jobs)
    return rows


def read_times(path: Path) -> dict[str, float]:
    """The seconds per job of a ``demo_times.csv`` (empty when there is none)."""
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8") as f:
        return {r["notebook"]: float(r["seconds"]) for r in csv.DictReader(f)}


def record_times(times: dict[str, float], path: Path, jobs: int | None = None) -> None:
    """Merge the wall seconds of the jobs just run (notebooks, the gallery, ``all``: the whole run) into
    ``path`` (notebook, seconds, cpus, jobs, cpu: :func:`~ferlib.analysis.cost.cpu_summary`): the cost line of
    the README's results block."""
    rows = {}
    if path.is_file():
        with path.open(encoding="utf-8") as f:
            rows = {r["notebook"]: r for r in csv.DictReader(f)}
    cpu = cpu_summary()
    for name, seconds in times.items():
        old = rows.get(name, {}).get("jobs", "")
        rows[name] = {"notebook": name, "seconds": f"{seconds:.1f}", "cpus": str(os.cpu_count()),
                      "jobs": str(jobs) if jobs is not None else (old or "1"), "cpu": cpu}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["notebook", "seconds", "cpus", "jobs", "cpu"], restval="")
        w.writeheader()
        w.writerows(rows[k] for k in sorted(rows))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--profile", default="demo", choices=PROFILES)
    p.add_argument("--out", default=None, help="write executed copies here (default: in place for demo, notebooks/_executed for other profiles)")
    p.add_argument("--figures", default="figures")
    p.add_argument("--data", default="data")
    p.add_argument("--runs", default="runs", help="where training runs are written and read")
    p.add_argument("--no-train", action="store_true", help="only read existing runs (redraw the figures)")
    p.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 00 01")
    p.add_argument("--jobs", type=int, default=1, help="notebooks run at a time, one CPU thread each (default 1: in order)")
    p.add_argument("--gallery", action="store_true", help="also make the gallery (python -m ferlib.gallery --make) as a job")
    p.add_argument("--no-record", action="store_true", help=argparse.SUPPRESS)  # a job of --jobs: its parent records
    p.add_argument("--check", action="store_true",
                   help="run nothing: exit 1 naming each notebook whose outputs are not those of the current code")
    a = p.parse_args(argv)
    if a.check:
        problems = stale(notebooks(a.only))
        print("\n".join(problems) if problems else f"the outputs of {len(notebooks(a.only))} notebooks are those of this code")
        return 1 if problems else 0
    run_all(a.profile, Path(a.out) if a.out else None, Path(a.figures), Path(a.data), a.only, Path(a.runs),
            not a.no_train, a.jobs, a.gallery, record=not a.no_record)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
