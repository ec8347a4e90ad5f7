"""Run the workbook's notebooks in order with papermill and print the wall time of each.

    python -m ferlib.run_notebooks --profile demo [--only 00] [--out notebooks/_executed] [--no-train]

Each notebook gets those of the parameters ``profile``, ``figures_dir``, ``data_dir``, ``runs_dir``
and ``train`` that its ``parameters`` cell declares; executed copies go to ``--out`` (the committed
notebooks stay output-free). ``--no-train`` (``make figures``) redraws from existing runs and fails
in the first cell that needs a missing run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import papermill as pm

from ferlib.notebook_params import PROFILES

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"


def notebooks(only: list[str] | None = None, folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks in order, optionally only those whose number is in ``only``."""
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb"))
    if only:
        found = [p for p in found if p.name[:2] in only]
    return found


def run_all(profile: str, out: Path, figures_dir: Path, data_dir: Path, only: list[str] | None = None,
            runs_dir: Path = Path("runs"), train: bool = True) -> dict[str, float]:
    """Execute the notebooks; returns wall seconds per notebook."""
    if profile not in PROFILES:
        raise ValueError(f"profile {profile!r} is not one of {PROFILES}")
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    for nb in notebooks(only):
        offered = {"profile": profile, "figures_dir": str(figures_dir.resolve()), "data_dir": str(data_dir.resolve()),
                   "runs_dir": str(runs_dir.resolve()), "train": train}
        declared = pm.inspect_notebook(str(nb))
        t0 = time.perf_counter()
        pm.execute_notebook(
            str(nb), str(out / nb.name), cwd=str(nb.parent.parent), progress_bar=False,
            parameters={k: v for k, v in offered.items() if k in declared},
        )
        times[nb.name] = time.perf_counter() - t0
        print(f"{nb.name}: {times[nb.name]:.1f} s -> {out / nb.name}", flush=True)
    print(f"total: {sum(times.values()):.1f} s for {len(times)} notebooks; figures in {figures_dir}")
    return times


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--profile", default="demo", choices=PROFILES)
    p.add_argument("--out", default="notebooks/_executed")
    p.add_argument("--figures", default="figures")
    p.add_argument("--data", default="data")
    p.add_argument("--runs", default="runs", help="where training runs are written and read")
    p.add_argument("--no-train", action="store_true", help="only read existing runs (redraw the figures)")
    p.add_argument("--only", nargs="*", help="notebook numbers to run, e.g. 00 01")
    a = p.parse_args(argv)
    run_all(a.profile, Path(a.out), Path(a.figures), Path(a.data), a.only, Path(a.runs), not a.no_train)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
