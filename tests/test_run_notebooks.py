"""make demo's scheduler: notebooks side by side, each after those whose runs it reads."""

from __future__ import annotations

import csv
import threading
import time

import pytest
import torch

from ferlib.analysis.cost import cpu_summary
from ferlib.run_notebooks import NEEDS, critical_paths, notebooks, read_times, record_times, run_all, schedule


def _recorder(fail: str = "", seconds: float = 0.05):
    events, lock = [], threading.Lock()

    def run(name: str) -> None:
        with lock:
            events.append(("start", name))
        time.sleep(seconds)
        with lock:
            events.append(("end", name))
        if name == fail:
            raise RuntimeError("boom")
    return events, run


def test_a_job_starts_only_after_what_it_needs_and_two_run_at_once():
    names = ["gallery", "00", "02", "03", "06", "07"]
    events, run = _recorder()
    times = schedule(names, {"06": ("02", "03"), "07": ("02", "03", "06")}, run, jobs=2, echo=lambda _: None)
    assert set(times) == set(names) and all(t > 0 for t in times.values())
    at = {(kind, n): i for i, (kind, n) in enumerate(events)}
    for job, needs in {"06": ("02", "03"), "07": ("02", "03", "06")}.items():
        assert all(at[("end", d)] < at[("start", job)] for d in needs), events
    running, most = 0, 0
    for kind, _ in events:
        running += 1 if kind == "start" else -1
        most = max(most, running)
    assert most == 2  # never more than jobs, and the pool is used


def test_the_ready_job_heading_the_longest_chain_starts_first(tmp_path):
    needs = {"06": ("02",), "07": ("06",)}
    cost = {"00": 5.0, "02": 2.0, "06": 4.0, "07": 1.0, "11": 6.0}
    assert critical_paths(["00", "02", "06", "07", "11"], needs, cost) == {"00": 5, "02": 7, "06": 5, "07": 1, "11": 6}
    events, run = _recorder(seconds=0.02)
    schedule(["00", "02", "06", "07", "11"], needs, run, jobs=1, echo=lambda _: None, cost=cost)
    # 02 heads the chain 02 → 06 → 07 (7 s), then 11 (6 s) beats 00 (5 s) and the ready 06 (5 s, later in order)
    assert [n for kind, n in events if kind == "start"] == ["02", "11", "00", "06", "07"]
    events, run = _recorder(seconds=0.02)
    schedule(["00", "01", "02", "06"], {"06": ("02",)}, run, jobs=1, echo=lambda _: None)  # no times: a job counts 1
    assert [n for kind, n in events if kind == "start"] == ["02", "00", "01", "06"]  # ties in the order given
    record_times({"00_a.ipynb": 1.25, "gallery": 3.0}, tmp_path / "t.csv", jobs=2)
    assert read_times(tmp_path / "t.csv") == {"00_a.ipynb": 1.2, "gallery": 3.0}  # one decimal kept
    with (tmp_path / "t.csv").open() as f:  # each row names the CPU and the vector kernels torch chose on it
        cpus = {r["cpu"] for r in csv.DictReader(f)}
    assert cpus == {cpu_summary()} and cpu_summary().endswith(f" ({torch.backends.cpu.get_cpu_capability()} kernels)")
    assert read_times(tmp_path / "none.csv") == {}


def test_a_failed_job_starts_nothing_more_and_is_named():
    events, run = _recorder(fail="02")
    with pytest.raises(RuntimeError, match=r"02 failed: boom; not run or not finished: 06"):
        schedule(["02", "06"], {"06": ("02",)}, run, jobs=2, echo=lambda _: None)
    assert ("start", "06") not in events  # it needed the failed run


def test_needs_name_real_notebooks_that_come_earlier():
    numbers = [p.name[:2] for p in notebooks()]
    for job, needs in NEEDS.items():
        assert job in numbers and all(d in numbers and d < job for d in needs), (job, needs)


def test_bad_jobs_and_a_gallery_at_a_profile_without_one_are_refused(tmp_path):
    with pytest.raises(ValueError, match="jobs must be an integer >= 1, got 0"):
        run_all("demo", tmp_path, tmp_path, tmp_path, jobs=0)
    with pytest.raises(ValueError, match="the gallery run has no 'paper' profile"):
        run_all("paper", tmp_path, tmp_path, tmp_path, only=["00"], runs_dir=tmp_path, jobs=2, gallery=True)


def test_the_ahead_job_starts_when_nothing_else_but_its_notebook_and_those_after_it_is_left():
    from ferlib.run_notebooks import AHEAD_SUFFIX, with_ahead_jobs

    names = ["gallery", "00", "02", "03", "04", "06", "08", "09", "11"]
    jobs, needs = with_ahead_jobs(names, NEEDS)
    ahead = "04" + AHEAD_SUFFIX
    assert jobs == [*names, ahead]
    assert set(needs[ahead]) == {"gallery", "00", "02", "03", "06", "08", "09", "11"}  # all but 04
    assert set(with_ahead_jobs(names, {**NEEDS, "09": ("04",)})[1][ahead]) == {"gallery", "00", "02", "03", "06", "08", "11"}
    assert with_ahead_jobs(["00", "02"], NEEDS)[0] == ["00", "02"]  # no notebook 04, no job
    started = []
    schedule(jobs, needs, started.append, jobs=2, echo=lambda _: None,
             cost={"04": 100, "gallery": 1, "00": 1, "02": 5, "03": 5, "06": 8, "11": 6, "08": 1, "09": 1})
    assert started.index(ahead) > max(started.index(n) for n in needs[ahead])


def test_each_ahead_notebook_names_one_method_with_ablation_grids():
    from ferlib.models import method_spec
    from ferlib.run_notebooks import AHEAD
    from ferlib.workbook import notebook_method

    for number in AHEAD:
        assert method_spec(notebook_method(number)).papers.ablations
    with pytest.raises(ValueError, match="notebook 99: expected one method"):
        notebook_method("99")
