"""What the notebooks share: their set-up, opening the chosen data set, training (or finding) a
method's runs under the notebook profile, the ablation grids of notebook 06, and writing figures
and tables.

Every notebook's set-up cell (the one after its parameters) is one call::

    nb = start_notebook(globals())   # checks the parameters, makes figures_dir, opens the data set

:func:`start_notebook` checks every parameter the notebook declares with the rules of
:mod:`ferlib.notebook_params` (a notebook narrows one with a keyword, e.g. ``methods=CNN_METHODS``),
makes ``figures_dir``, opens ``dataset`` (:func:`open_dataset`) and returns a :class:`Notebook`:
``nb.store``, ``nb.figures``, the checked parameters as attributes (``nb.folds`` is a list even
when papermill passed text), ``nb.run_method(method)`` (:func:`run_method` with the notebook's
profile, runs folder, ``train``, ``seed`` and ``folds``), ``nb.run_dir(method)`` and
``nb.save(figure_or_table, name)``, the one way every notebook writes into ``figures_dir``
(a figure: PNG through :func:`ferlib.viz.style.save_figure`, left open so that the notebook shows
it; a table: CSV + Markdown through :func:`ferlib.analysis.results.save_table`).

Notebook profiles map onto training like this (the recipe is the method's for the data set of
the store, :mod:`ferlib.train.recipes`; the numbers are :mod:`ferlib.profiles`'):

========  ===============  =================================================================
profile   recipe           what runs
========  ===============  =================================================================
smoke     ``demo``         3 generated subjects in 3 folds (a real store: its protocol), the
                           first fold only, 1 epoch (tests)
demo      ``demo``         the data set's protocol (generated: 5 subject folds), the first
                           three folds, the demo schedule on the small models
paper     ``paper``        every fold of the recipe's protocol, the paper's schedule and model
========  ===============  =================================================================

Runs live in ``<runs_dir>/<dataset>/<method>/<variant>/<fold>/`` (the layout of
:func:`ferlib.train.cv.cross_validate`; :mod:`ferlib.analysis.runs` reads them back); a finished
run is never retrained, so a notebook run a second time only reads. With ``train=False`` (``make
figures``) a missing run raises :class:`FileNotFoundError` naming the folder and the notebook that
makes it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

from ferlib.analysis.results import save_table
from ferlib.analysis.runs import SYNTH_DATASETS, dataset_folder_name
from ferlib.data import ClipStore
from ferlib.data.adapters import ADAPTERS
from ferlib.data.protocols import get_protocol
from ferlib.experiments.pretrain import ensure_for_methods
from ferlib.models.registry import available_methods, method_spec
from ferlib.notebook_params import NotebookParams, Rule, check_choice, check_params, check_path
from ferlib.profiles import PROFILES, get_profile
from ferlib.synth import SynthConfig, generate
from ferlib.train.ablate import PAPER_GRIDS, ablate, ablation_runs, row_dir
from ferlib.train.cv import collate, cross_validate, recipe_protocol, resolve_folds
from ferlib.train.engine import fit
from ferlib.train.guards import warn_small_test_fold
from ferlib.train.recipes import get_recipe, resolve_config
from ferlib.viz.style import save_figure

@dataclass(frozen=True)
class TrainPlan:
    """How a notebook profile trains a method on a store: the model profile, the recipe's name, the
    protocol and its kwargs (``None``: the recipe's), the folds (positions; ``None``: all) and
    TrainConfig overrides."""

    model_profile: str
    recipe: str
    protocol: str | None
    protocol_kwargs: dict[str, Any]
    folds: list[int] | None
    overrides: dict[str, Any]


def train_plan(profile: str, generated: bool = True) -> TrainPlan:
    """The :class:`TrainPlan` of a notebook profile (see the module table); ``generated`` says
    whether the store is a generated one (smoke then uses 3 subject folds of its 3 subjects)."""
    check_choice("profile", profile, PROFILES)
    chosen = get_profile(profile)
    proto, kw = chosen.generated_protocol if generated and chosen.generated_protocol else (None, {})
    return TrainPlan(chosen.model, chosen.model, proto, dict(kw), list(chosen.folds) if chosen.folds is not None else None,
                     dict(chosen.train))  # its recipe is the model profile's name


def trunk_name(method: str, profile: str) -> str:
    """The per-frame CNN the profile's runs of ``method`` use (``small_cnn`` under smoke and demo,
    the paper's trunk under paper; ``""`` for a method without one), for labels that say what made
    a number: a demo bar is not the paper's VGG16."""
    return str(method_spec(method).profiles[train_plan(profile).model_profile].kwargs.get("backbone", ""))


def plan_splits(method: str, store: ClipStore, profile: str) -> list[Any]:
    """Every split (fold) the plan of ``profile`` would use for ``method`` on ``store``."""
    plan = train_plan(profile, store.dataset.startswith("synth"))
    proto, kwargs = plan.protocol, plan.protocol_kwargs
    if proto is None:
        cfg = resolve_config(method, plan.model_profile, dataset=store.dataset, recipe=plan.recipe)
        proto, kwargs = recipe_protocol(cfg, store.dataset, kwargs)
    return get_protocol(proto, store.index(), **kwargs)


def open_dataset(dataset: str, profile: str, data_dir: str | Path = "data", seed: int = 0) -> ClipStore:
    """The clip store a notebook works on.

    ``dataset`` is a generated set (``synth-lab``, ``synth-lab-return``, ``synth-wild``: made on
    first use in ``<data_dir>/<dataset>-<profile>``, sized by the profile's ``synth``) or the folder of a clip
    store made by ``python -m ferlib preprocess`` from a real data set."""
    check_choice("profile", profile, PROFILES)
    if dataset in SYNTH_DATASETS:
        name = SYNTH_DATASETS[dataset]
        wild = name == "wild"
        cfg = SynthConfig(course=name, seed=seed, clips_per_subject=5 if wild else 0, include_neutral=wild,
                          **get_profile(profile).synth)
        return generate(Path(data_dir) / dataset_folder_name(dataset, profile), cfg)
    path = Path(dataset)
    if not path.exists():
        raise FileNotFoundError(
            f"notebook parameter dataset={dataset!r}: not a generated data set ({sorted(SYNTH_DATASETS)}) and "
            f"{path} does not exist; preprocess a data set into a clip store first (README, 'Real data sets')")
    return ClipStore.open(path)


def run_dir(runs_dir: str | Path, store: ClipStore, method: str, variant: str = "full") -> Path:
    """``<runs_dir>/<dataset>/<method>/<variant>``: one experiment, one sub-folder per fold."""
    return Path(runs_dir) / store.root.name / method / variant


def method_recipe(method: str, store: ClipStore, profile: str) -> Any:
    """The :class:`~ferlib.train.recipes.Recipe` the notebook ``profile`` trains ``method`` with on
    ``store`` (its ``table()`` lists every value with its source)."""
    return get_recipe(method, store.dataset or "synth", train_plan(profile, store.dataset.startswith("synth")).recipe)


def method_notebook(method: str) -> str:
    """The notebook that trains ``method``'s runs (named in errors when a run is missing)."""
    return method_spec(method).notebook or "the notebook that trains it"


def run_method(method: str, store: ClipStore, profile: str, runs_dir: str | Path = "runs", variant: str = "full",
               train: bool = True, folds: list[int] | None = None, model_overrides: dict[str, Any] | None = None,
               **overrides: Any) -> pd.DataFrame:
    """Cross-validate ``method``/``variant`` under the notebook ``profile`` and return the fold table
    (:func:`ferlib.train.cv.collate`: accuracy, UAR, … per fold plus ``mean``/``std`` rows).

    Finished folds are read, not retrained. ``train=False`` only reads and raises
    :class:`FileNotFoundError` naming the missing folder. ``folds`` (positions) replaces the
    profile's; a position the protocol does not have raises ``ValueError`` naming the positions
    and fold names that exist. A test fold with fewer than 5 clips of a class is warned about
    (:func:`ferlib.train.guards.warn_small_test_fold`). ``overrides`` are TrainConfig fields on top
    of the profile's."""
    plan = train_plan(profile, store.dataset.startswith("synth"))
    out = run_dir(runs_dir, store, method, variant)
    chosen = folds if folds is not None else plan.folds
    index = store.index()
    splits = plan_splits(method, store, profile)
    if chosen is not None:
        try:
            splits = resolve_folds(splits, chosen, plan.protocol)
        except ValueError as exc:
            raise ValueError(f"notebook parameter folds={list(chosen)!r} (profile {profile!r}): {exc}") from None
    if not train:
        names = [s.name for s in splits]
        missing = [n for n in names if not (out / n / "metrics.json").is_file()]
        if missing:
            raise FileNotFoundError(
                f"no finished run in {out}/{missing[0]} (metrics.json missing); run {method_notebook(method)} with "
                f"train=True (or `make demo`) first")
        for split in splits:
            warn_small_test_fold(index, split)
        return collate(out, names)
    kw = {**plan.overrides, **overrides}
    ensure_for_methods([method], plan.model_profile, store.dataset, plan.recipe, variant=variant, **kw)
    return cross_validate(method, store, plan.protocol, plan.model_profile, out, folds=chosen, variant=variant,
                          protocol_kwargs=plan.protocol_kwargs, model_overrides=model_overrides, recipe=plan.recipe, **kw)


# --------------------------------------------------------------------------- a notebook's set-up

def _default_rules() -> dict[str, Iterable[Any] | Rule]:
    """Rules that need what only the workbook knows: the registered methods, the generated sets, the
    layouts a folder of videos can have (a data set's adapter, or any folder)."""
    return {"methods": tuple(available_methods()), "return_dataset": ("", *SYNTH_DATASETS),
            "videos_layout": ("folder", *(a for a in ADAPTERS if a != "london"))}


#: the most pixels a figure saved by :meth:`Notebook.save` shows in the notebook (its PNG file keeps every pixel)
INLINE_PIXELS = 1_000_000


@dataclass
class Notebook:
    """One notebook's checked parameters (also readable as attributes: ``nb.folds``), its data set
    (``store``; ``None`` when the notebook opens it itself) and where it writes (``figures``)."""

    params: NotebookParams
    figures: Path
    store: ClipStore | None = None

    def __getattr__(self, key: str) -> Any:
        if key.startswith("__") or key == "params":
            raise AttributeError(key)
        return getattr(self.params, key)

    def open(self, dataset: str) -> ClipStore:
        """:func:`open_dataset` of another data set under this notebook's profile, data folder and seed."""
        p = self.params
        return open_dataset(dataset, p.profile, p.data_dir, seed=p.seed)

    def run_dir(self, method: str, variant: str = "full", store: ClipStore | None = None) -> Path:
        """:func:`run_dir` of ``method`` on this notebook's data set (or ``store``)."""
        return run_dir(self.params.runs_dir, self._store(store), method, variant)

    def run_method(self, method: str, store: ClipStore | None = None, variant: str = "full",
                   **overrides: Any) -> pd.DataFrame:
        """:func:`run_method` of ``method`` on this notebook's data set (or ``store``) with the
        notebook's profile, runs folder, ``train``, ``seed`` and, when it declares them, ``folds``."""
        p = self.params
        folds = overrides.pop("folds", p.get("folds"))
        return run_method(method, self._store(store), p.profile, p.runs_dir, variant=variant, train=p.train,
                          folds=folds, **{"seed": p.seed, **overrides})

    def save(self, obj: Figure | pd.DataFrame, name: str, **kw: Any) -> None:
        """Write ``obj`` into ``figures_dir`` as ``<name>``: a figure as PNG (left open, so the notebook
        shows it, at most :data:`INLINE_PIXELS` large; ``dpi`` of the file), a table as CSV + Markdown (``index``, ``floatfmt``, ``caption``, ``empty``).
        Returns nothing, so that a cell ending in it shows the figure rather than a path."""
        if isinstance(obj, Figure):
            save_figure(obj, self.figures, name, close=False, **kw)
            w, h = obj.get_size_inches() * obj.dpi
            if w * h > INLINE_PIXELS:  # shown smaller in the notebook (frame strips make megabytes); the file is whole
                obj.set_dpi(obj.dpi * (INLINE_PIXELS / (w * h)) ** 0.5)
        elif isinstance(obj, pd.DataFrame):
            save_table(obj, self.figures, name, **kw)
        else:
            raise TypeError(f"nb.save({name!r}) writes a matplotlib Figure or a pandas DataFrame, got {type(obj).__name__}")

    def _store(self, store: ClipStore | None) -> ClipStore:
        found = store if store is not None else self.store
        if found is None:
            raise ValueError("this notebook has not opened its data set; pass store=… (see start_notebook's open_data)")
        return found


def start_notebook(namespace: dict[str, Any], open_data: bool = True, **rules: Iterable[Any] | Rule) -> Notebook:
    """A notebook's set-up, called from the cell after its parameters as ``start_notebook(globals())``.

    Checks every parameter found in ``namespace`` (:func:`ferlib.notebook_params.check_params`;
    ``rules`` narrow one for this notebook), makes ``figures_dir``, and opens ``dataset`` with
    :func:`open_dataset` unless ``open_data`` is False (the notebook makes its own data, or opens it
    only when it needs to): then ``dataset`` must be a generated set or an existing folder (or,
    with ``videos_dir`` given, anything). Prints the data set it works on."""
    params = check_params(namespace, **{**_default_rules(), **rules})
    dataset = params.get("dataset")
    store = None
    if dataset is not None and open_data:
        store = open_dataset(dataset, params.profile, params.data_dir, seed=params.seed)
    elif dataset is not None and dataset not in SYNTH_DATASETS:
        if "videos_dir" in params:
            if not params.videos_dir:
                raise ValueError(f"notebook parameter dataset={dataset!r}: this notebook renders the generated sets "
                                 f"{sorted(SYNTH_DATASETS)} as videos; for your own videos set videos_dir=... instead")
        else:
            check_path("dataset", dataset, f"Give a generated set {sorted(SYNTH_DATASETS)} or a clip store folder.")
    figures = Path(params.figures_dir)
    figures.mkdir(parents=True, exist_ok=True)
    if store is not None:
        index = store.index()
        print(f"{store.root}: {len(index)} clips, {len(set(index.subjects))} subjects, classes {list(index.classes)}")
    return Notebook(params, figures, store)


# --------------------------------------------------------------------------- ablations (notebook 06)

def select_grid(tables: Sequence[str], max_rows: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """The rows of :data:`ferlib.train.ablate.PAPER_GRIDS` for ``tables`` (the first ``max_rows``
    of each when given, for quick runs)."""
    unknown = [t for t in tables if t not in PAPER_GRIDS]
    if unknown:
        raise ValueError(f"unknown ablation tables {unknown}; choose from {sorted(PAPER_GRIDS)}")
    if max_rows is not None and max_rows < 1:
        raise ValueError(f"max_rows={max_rows!r} must be None (all rows) or >= 1")
    return {t: [dict(r) for r in PAPER_GRIDS[t][:max_rows]] for t in tables}


def read_ablation(grid: dict[str, list[dict[str, Any]]], out_dir: str | Path, fold_names: Sequence[str],
                  shared_dir: str | Path | None = None) -> pd.DataFrame:
    """The table :func:`ferlib.train.ablate.ablate` returns, read from finished runs only
    (:func:`ferlib.train.ablate.row_dir` of each row); a missing run raises
    :class:`FileNotFoundError` naming its folder, before anything is read."""
    missing = [row_dir(out_dir, t, r, shared_dir) / f for t, rows in grid.items() for r in rows for f in fold_names
               if not (row_dir(out_dir, t, r, shared_dir) / f / "metrics.json").is_file()]
    if missing:
        raise FileNotFoundError(
            f"{len(missing)} ablation run(s) missing, e.g. {missing[0]} (no metrics.json); run notebook 06 with "
            f"train=True and the same profile, tables and max_rows first")
    records = []
    for table, rows in grid.items():
        for row in rows:
            res = collate(row_dir(out_dir, table, row, shared_dir), fold_names)
            records.append({
                "table": table, "label": row["label"], "method": row["method"], "variant": row.get("variant", "full"),
                "accuracy": res.loc["mean", "accuracy"], "accuracy_std": res.loc["std", "accuracy"],
                "uar": res.loc["mean", "uar"], "uar_std": res.loc["std", "uar"],
                "best_test_accuracy_leaky": res.loc["mean", "best_test_accuracy_leaky"], "folds": len(res) - 2,
            })
    return pd.DataFrame(records)


def ablation_settings(profile: str, tables: Sequence[str] | None = None, epochs: int | None = None,
                      max_rows: int | None = None, folds: Sequence[int] | None = None,
                      among: Sequence[str] | None = None
                      ) -> tuple[list[str], int | None, int | None, dict[str, list[int] | None]]:
    """An ablation notebook's (tables, epochs, max_rows, folds per table): the values given, else
    the profile's (:attr:`ferlib.profiles.Profile.ablations`), its tables kept to those the notebook
    draws (``among``: notebook 06 draws FER-GCN's and FAN's, notebook 04 KP-GCN-MSA's). ``epochs``
    None keeps each method's schedule of the profile; ``folds`` given applies to every table, else
    each table takes the profile's folds for it (None: the profile's training folds)."""
    check_choice("profile", profile, PROFILES)
    d_tables, d_epochs, d_rows, d_folds = get_profile(profile).ablations
    chosen = list(tables) if tables is not None else [t for t in (d_tables or PAPER_GRIDS) if among is None or t in among]
    if not chosen:
        raise ValueError("notebook parameter tables=[] names no ablation table; give None (the profile's) or some of "
                         f"{sorted(PAPER_GRIDS)}")
    unknown = [t for t in chosen if t not in PAPER_GRIDS]
    if unknown:
        raise ValueError(f"notebook parameter tables: unknown {unknown}; choose from {sorted(PAPER_GRIDS)}")
    ep = epochs if epochs is not None else d_epochs
    if ep is not None and (not isinstance(ep, int) or ep < 1):
        raise ValueError(f"notebook parameter ablation_epochs={epochs!r} must be None (the schedule's) or an int >= 1")
    rows = max_rows if max_rows is not None else d_rows
    if rows is not None and (not isinstance(rows, int) or rows < 1):
        raise ValueError(f"notebook parameter max_rows={max_rows!r} must be None (all rows) or an int >= 1")
    if folds is not None:
        per_table = {t: list(folds) for t in chosen}
    elif isinstance(d_folds, Mapping):
        per_table = {t: list(d_folds[t]) if t in d_folds else None for t in chosen}
    else:
        per_table = {t: list(d_folds) if d_folds is not None else None for t in chosen}
    return chosen, ep, rows, per_table


def _ablation_plan(store: Any, out_dir: str | Path, grid: dict[str, list[dict[str, Any]]], profile: str,
                   folds: list[int] | Mapping[str, list[int] | None] | None, epochs: int | None, overrides: dict[str, Any]
                   ) -> tuple[TrainPlan, Path | None, dict[tuple[int, ...] | None, dict[str, list[dict[str, Any]]]], dict[str, Any]]:
    """What :func:`run_ablation_tables` trains: the plan, the shared folder of plain variants (None when
    a schedule is changed), the grid's tables grouped by their folds, the TrainConfig overrides."""
    plan = train_plan(profile, store.dataset.startswith("synth"))
    shared = Path(out_dir).parent if epochs is None and not overrides.keys() - {"seed"} else None
    per_table = dict(folds) if isinstance(folds, Mapping) else {t: folds for t in grid}
    groups: dict[tuple[int, ...] | None, dict[str, list[dict[str, Any]]]] = {}
    for table, rows in grid.items():
        chosen = per_table.get(table)
        chosen = chosen if chosen is not None else plan.folds
        groups.setdefault(tuple(chosen) if chosen is not None else None, {})[table] = rows
    kw = {**plan.overrides, **overrides, **({"epochs": epochs} if epochs is not None else {})}
    return plan, shared, groups, kw


def run_ablation_tables(store: Any, out_dir: str | Path, grid: dict[str, list[dict[str, Any]]], profile: str,
                        train: bool = True, folds: list[int] | Mapping[str, list[int] | None] | None = None,
                        epochs: int | None = None, **overrides: Any) -> pd.DataFrame:
    """Run (``train=True``) or only read (``train=False``) the ablation ``grid`` under the notebook
    ``profile``'s training plan (:func:`train_plan`) with
    :func:`ferlib.train.ablate.ablate`; returns its table. ``folds``: fold positions for every
    table, or per table (:func:`ablation_settings`); None, the plan's. ``epochs`` replaces every row's
    schedule length; ``overrides`` are further TrainConfig fields. Rows that are a method's plain
    variant (the full model, FAN w/o relation attention, …) share the folders of the method
    notebooks (``<out_dir>/../<method>/<variant>``) when no override changes their schedule, so
    those models are trained once. Reading fails with :class:`FileNotFoundError` naming the first
    missing run (ablate itself would train it)."""
    plan, shared, groups, kw = _ablation_plan(store, out_dir, grid, profile, folds, epochs, overrides)
    if train:
        ensure_for_methods([row["method"] for rows in grid.values() for row in rows], plan.model_profile, store.dataset,
                           plan.recipe, **kw)
    parts = []
    for chosen, part in groups.items():
        if not train:
            splits = plan_splits(next(iter(part.values()))[0]["method"], store, profile)
            bad = [f for f in (chosen or []) if not 0 <= f < len(splits)]
            if bad:
                raise ValueError(f"folds {bad} are not among the {len(splits)} folds (positions 0..{len(splits) - 1})")
            names = [s.name for s in splits] if chosen is None else [splits[i].name for i in chosen]
            parts.append(read_ablation(part, out_dir, names, shared))
        else:
            parts.append(ablate(part, store, out_dir, protocol=plan.protocol, profile=plan.model_profile,
                                folds=list(chosen) if chosen is not None else None, protocol_kwargs=plan.protocol_kwargs,
                                recipe=plan.recipe, shared_dir=shared, **kw))
    table = pd.concat(parts, ignore_index=True)
    order = {t: i for i, t in enumerate(grid)}
    return table.sort_values("table", key=lambda c: c.map(order), kind="stable").reset_index(drop=True)


def train_ablations_ahead(method: str, profile: str, data_dir: str | Path = "data", runs_dir: str | Path = "runs",
                          dataset: str = "synth-lab", seed: int = 0) -> int:
    """Train the runs of ``method``'s notebook's ablation tables (its parameters' defaults: the
    ``dataset``, the profile's tables, folds and schedules) from the last one backwards, for a second
    job of ``make demo`` while the notebook trains them forwards: each run folder is locked while
    it trains (:mod:`ferlib.train.lock`), so the two meet in the middle, each run trained once, and
    the notebook then reads what this trained. Returns the number of runs it went through."""
    store = open_dataset(dataset, profile, data_dir, seed)
    chosen, epochs, rows, folds = ablation_settings(profile, among=list(method_spec(method).papers.ablations))
    grid = select_grid(chosen, rows)
    out_dir = Path(runs_dir) / store.root.name / "ablations"
    plan, shared, groups, kw = _ablation_plan(store, out_dir, grid, profile, folds, epochs, {"seed": seed})
    ensure_for_methods([method], plan.model_profile, store.dataset, plan.recipe, **kw)
    runs = [run for chosen_folds, part in groups.items()
            for run in ablation_runs(part, store, out_dir, plan.protocol, plan.model_profile,
                                     list(chosen_folds) if chosen_folds is not None else None, plan.protocol_kwargs,
                                     shared, recipe=plan.recipe, **kw)]
    index = store.index()
    for cfg, split, folder in reversed(runs):
        fit(cfg, store, split, folder, index=index)
    return len(runs)


def notebook_method(number: str) -> str:
    """The method whose notebook (``MethodSpec.notebook``) has this number, e.g. ``"04"``."""
    found = [m for m in available_methods() if (method_spec(m).notebook or "").startswith(number + "_")]
    if len(found) != 1:
        raise ValueError(f"notebook {number}: expected one method whose notebook it is, found {found}")
    return found[0]


def main(argv: list[str] | None = None) -> int:
    """``python -m ferlib.workbook --ahead NN --profile P --data D --runs R``: :func:`train_ablations_ahead`
    for notebook NN's method (a job of ``make demo``: :data:`ferlib.run_notebooks.AHEAD`)."""
    p = argparse.ArgumentParser(description="train a notebook's ablation runs from the last backwards")
    p.add_argument("--ahead", required=True, help="the notebook's number, e.g. 04")
    p.add_argument("--profile", default="demo", choices=PROFILES)
    p.add_argument("--data", default="data")
    p.add_argument("--runs", default="runs")
    a = p.parse_args(argv)
    n = train_ablations_ahead(notebook_method(a.ahead), a.profile, a.data, a.runs)
    print(f"{n} ablation runs of notebook {a.ahead} finished (trained here or by the notebook)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
