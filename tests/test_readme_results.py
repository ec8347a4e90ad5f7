"""The README's results block is what the result files in figures/ hold."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferlib.readme_results import END, README, START, block_of, render


def test_the_readme_shows_the_committed_results() -> None:
    assert block_of(README.read_text(encoding="utf-8")) == render(), \
        "README results are stale: run python -m ferlib.readme_results (make demo does)"


def test_the_block_reads_mean_and_spread_of_the_folds_and_the_transfer_check(tmp_path: Path) -> None:
    (tmp_path / "02_toy_results.csv").write_text(
        "fold,accuracy = WAR (%),UAR (%)\nfold01,80.0,70.0\nfold02,90.0,90.0\nmean,85.0,80.0\n")
    (tmp_path / "02_toy_vs_paper.csv").write_text("row,ferlib on synth-lab-demo (2 of 5 folds): accuracy\n")
    (tmp_path / "11_transfer_photo.csv").write_text(
        ",method,accuracy,rho_per_clip_mean,rho_per_clip_std\n0,toy,0.725,0.85,0.1\n1,other,0.5,,\n")
    (tmp_path / "demo_times.csv").write_text("notebook,seconds,cpus\n00_a.ipynb,60.0,2\n01_b.ipynb,120.0,2\n")
    text = render(tmp_path)
    assert text.startswith(START) and text.endswith(END)
    assert "| `toy` | synth-lab-demo, 2 of 5 folds | 85.0 ± 7.1 | 80.0 ± 14.1 |" in text
    assert "standard error, the deviation over √(folds), is 5.0–5.0 points of accuracy here" in text  # 7.07 / √2
    assert "| `toy` | 72.5 | 0.85 ± 0.10 |" in text and "| `other` | 50.0 | – |" in text
    assert "ran its notebooks in 3.0 min of wall time (per job, min: 00 1.0, 01 2.0), on 2 CPU cores" in text
    # jobs side by side: the whole run's wall time is its own row, not the sum of the jobs'
    (tmp_path / "demo_times.csv").write_text("notebook,seconds,cpus,jobs\n00_a.ipynb,60.0,2,2\n01_b.ipynb,120.0,2,2\n"
                                             "gallery,240.0,2,2\nall,300.0,2,2\n")
    assert ("ran its notebooks and the gallery run in 5.0 min of wall time, 2 at a time with one CPU thread each "
            "(per job, min: 00 1.0, 01 2.0, gallery 4.0), on 2 CPU cores.") in render(tmp_path)
    # the CPU the times were measured on, when the file names it (run_notebooks.record_times writes it)
    (tmp_path / "demo_times.csv").write_text("notebook,seconds,cpus,jobs,cpu\n00_a.ipynb,60.0,2,2,AMD EPYC (AVX2 kernels)\n"
                                             "all,60.0,2,2,AMD EPYC (AVX2 kernels)\n")
    assert "(per job, min: 00 1.0), on 2 CPU cores of AMD EPYC (AVX2 kernels)." in render(tmp_path)


def test_the_block_says_what_the_results_table_says_not_a_mean_of_its_rounded_folds(tmp_path: Path) -> None:
    # folds 88.095, 95.238, 97.619 %: the table's mean and std rows 93.7 and 5.0; the rounded folds give 93.6 and 4.9
    (tmp_path / "04_toy_results.csv").write_text(
        "fold,accuracy = WAR (%),UAR (%)\nfold01,88.1,88.1\nfold02,95.2,95.2\nfold03,97.6,97.6\n"
        "mean,93.7,93.7\nstd,5.0,5.0\n")
    text = render(tmp_path)
    assert "| 93.7 ± 5.0 | 93.7 ± 5.0 |" in text and "2.9–2.9 points" in text


def test_the_transfer_splits_table_replaces_the_one_split_table(tmp_path: Path) -> None:
    (tmp_path / "11_transfer_photo.csv").write_text(",method,accuracy,rho_per_clip_mean,rho_per_clip_std\n0,toy,0.725,0.85,0.1\n")
    (tmp_path / "11_transfer_photo_splits.csv").write_text(
        "method,n_splits,real accuracy (%) mean,real accuracy (%) sd,rho per clip mean,rho per clip sd,n_real_clips\n"
        "toy,3,80.0,5.0,0.81,0.05,42.0\nlandmarks,3,60.25,2.5,,,42.0\nsingle,1,70.0,,0.5,,42.0\n")
    text = render(tmp_path)
    assert "| `toy` | 3 | 42 | 80.0 ± 5.0 | 0.81 ± 0.05 |" in text
    assert "| `landmarks` | 3 | 42 | 60.2 ± 2.5 | – |" in text and "| `single` | 1 | 42 | 70.0 | 0.50 |" in text
    assert "| `toy` | 72.5 |" not in text  # the one-split table is not shown beside it


def test_a_readme_without_the_markers_is_named() -> None:
    with pytest.raises(ValueError, match="no results block"):
        block_of("# a readme\n")
