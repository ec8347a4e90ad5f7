"""The README's results block, written from the result files ``make demo`` leaves in ``figures/``.

    python -m ferlib.readme_results            # rewrite the block between the markers
    python -m ferlib.readme_results --check    # exit 1 when the README's block is stale

The block sits between :data:`START` and :data:`END` in ``README.md``. It holds each method
notebook's cross-validated result (``figures/NN_<method>_results.csv``: the mean over the folds
run, ± their standard deviation when more than one ran, and how far a rerun may move the means), the transfer check's real-face numbers
(``figures/11_transfer_photo_splits.csv``: mean ± sd over its identity splits; a figures folder
made before it has only ``11_transfer_photo.csv``, one split, and is shown as such) and the wall time of every notebook of the last demo run
(``figures/demo_times.csv``). The test suite checks that the README shows what the files hold.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FIGURES = ROOT / "figures"
START = "<!-- results: written by `python -m ferlib.readme_results` from figures/; do not edit -->"
END = "<!-- end of results -->"
TIMES = "demo_times.csv"  # written by ferlib.run_notebooks
ALL_ROW = "all"  # its row of the whole run's wall seconds
GALLERY_JOB = "gallery"  # its row of the gallery run


def _fold_stats(frame: pd.DataFrame, column: str) -> tuple[int, float, float]:
    """(folds, mean, sd) of ``column``: the file's own ``mean`` and ``std`` rows when it has both (made
    from the unrounded fold values, so the README says what the results table says), else from its
    fold rows."""
    names = frame["fold"].astype(str)
    folds = frame[names.str.startswith("fold")][column].astype(float)
    rows = {n: float(v) for n, v in zip(names, frame[column]) if n in ("mean", "std")}
    if len(folds) > 1 and len(rows) == 2:
        return len(folds), rows["mean"], rows["std"]
    return len(folds), float(folds.mean()), float(folds.std(ddof=1)) if len(folds) > 1 else float("nan")


def _mean_sd(frame: pd.DataFrame, column: str) -> str:
    n, mean, sd = _fold_stats(frame, column)
    if n == 0:
        return "–"
    return f"{mean:.1f}" if n == 1 else f"{mean:.1f} ± {sd:.1f}"


def _pm(mean: float, sd: float, digits: int) -> str:
    """'72.5 ± 3.1', '72.5' without a spread (one split), '–' without a value."""
    if pd.isna(mean):
        return "–"
    return f"{mean:.{digits}f}" if pd.isna(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def _data_label(figures: Path, stem: str) -> str:
    """'synth-lab-demo, 1 of 5 folds' from the paper table's column header, where it says so."""
    table = figures / f"{stem}_vs_paper.csv"
    if table.is_file():
        m = re.search(r"on (\S+) \((\d+ of \d+ folds?)\)", table.read_text(encoding="utf-8").splitlines()[0])
        if m:
            return f"{m.group(1)}, {m.group(2)}"
    return "–"


def render(figures: Path = FIGURES) -> str:
    """The Markdown of the block (markers included) from the result files in ``figures``."""
    lines = [START, "", "**Generated data** (the demo's methods trained and tested on `synth`; "
             "never a result on a real data set):", "",
             "| method | data, folds run | accuracy = WAR (%) | UAR (%) |", "|---|---|---|---|"]
    errors = []  # standard error of each mean accuracy over its folds
    for path in sorted(figures.glob("[0-9][0-9]_*_results.csv")):
        frame = pd.read_csv(path)
        stem = path.name[: -len("_results.csv")]
        method = stem[3:]
        lines.append(f"| `{method}` | {_data_label(figures, stem)} | {_mean_sd(frame, 'accuracy = WAR (%)')} "
                     f"| {_mean_sd(frame, 'UAR (%)')} |")
        n, _, sd = _fold_stats(frame, "accuracy = WAR (%)")
        if n > 1:
            errors.append(sd / n**0.5)
    if errors:
        lines += ["", "± is the standard deviation over the folds run; a mean's standard error, the deviation over "
                  f"√(folds), is {min(errors):.1f}–{max(errors):.1f} points of accuracy here. A few folds estimate "
                  "that spread only roughly: a rerun on another CPU or thread count (other rounding in the kernels, "
                  "so other training paths) can move a mean by several of its standard errors, and one fold by more "
                  "than the deviation, so rows of one ablation table that differ by less are not told apart."]
    splits = figures / "11_transfer_photo_splits.csv"
    transfer = figures / "11_transfer_photo.csv"
    if splits.is_file():
        t = pd.read_csv(splits)
        lines += ["", "**Real faces** (notebook 11: trained on generated clips only, tested on real London-set "
                  "neutral → smile clips of people the generator never used; mean ± sd over identity splits):", "",
                  "| method | splits | real clips a split | real neutral-vs-happy accuracy (%) "
                  "| frame weights vs real intensity, Spearman ρ per clip |", "|---|---|---|---|---|"]
        for _, r in t.iterrows():
            variant = r.get("variant", "full")
            name = f"`{r['method']}`" + ("" if pd.isna(variant) or variant == "full" else f" {variant}")
            lines.append(f"| {name} | {int(r['n_splits'])} | {r['n_real_clips']:.0f} "
                         f"| {_pm(r['real accuracy (%) mean'], r['real accuracy (%) sd'], 1)} "
                         f"| {_pm(r['rho per clip mean'], r['rho per clip sd'], 2)} |")
    elif transfer.is_file():
        t = pd.read_csv(transfer)
        lines += ["", "**Real faces** (notebook 11: trained on generated clips only, tested on real London-set "
                  "neutral → smile clips of people the generator never used):", "",
                  "| method | real neutral-vs-happy accuracy (%) | frame weights vs real intensity, Spearman ρ per clip |",
                  "|---|---|---|"]
        for _, r in t.iterrows():
            rho = "–" if pd.isna(r["rho_per_clip_mean"]) else f"{r['rho_per_clip_mean']:.2f} ± {r['rho_per_clip_std']:.2f}"
            lines.append(f"| `{r['method']}` | {100 * r['accuracy']:.1f} | {rho} |")
    times = figures / TIMES
    if times.is_file():
        d = pd.read_csv(times)
        whole = d[d["notebook"] == ALL_ROW]
        d = d[d["notebook"] != ALL_ROW]
        wall = float(whole["seconds"].iloc[0]) if len(whole) else float(d["seconds"].sum())
        jobs = int(whole["jobs"].iloc[0]) if len(whole) and "jobs" in whole and pd.notna(whole["jobs"].iloc[0]) else 1
        cells = ", ".join(f"{n[:2] if n.endswith('.ipynb') else n} {s / 60:.1f}" for n, s in zip(d["notebook"], d["seconds"]))
        what = "its notebooks and the gallery run" if GALLERY_JOB in set(d["notebook"]) else "its notebooks"
        how = f", {jobs} at a time with one CPU thread each" if jobs > 1 else ""
        cpu = str(whole["cpu"].iloc[0]) if len(whole) and "cpu" in whole and pd.notna(whole["cpu"].iloc[0]) else ""
        lines += ["", f"**Cost**: the last `make demo` ran {what} in {wall / 60:.1f} min of wall time{how} "
                  f"(per job, min: {cells}), on {d['cpus'].iloc[0]} CPU cores{f' of {cpu}' if cpu else ''}."]
    return "\n".join([*lines, "", END])


def block_of(text: str) -> str:
    """The block (markers included) in ``text``; raises ``ValueError`` when the markers are missing."""
    try:
        i, j = text.index(START), text.index(END) + len(END)
    except ValueError:
        raise ValueError(f"{README.name} has no results block (the line {START!r} … {END!r})") from None
    return text[i:j]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 when the README's block is not what figures/ holds")
    a = p.parse_args(argv)
    text, new = README.read_text(encoding="utf-8"), render()
    old = block_of(text)
    if a.check:
        print("README results are current" if old == new else "README results are stale: run python -m ferlib.readme_results")
        return 0 if old == new else 1
    README.write_text(text.replace(old, new), encoding="utf-8")
    print(f"wrote the results block of {README}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
