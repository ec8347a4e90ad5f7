"""The gallery run: the papers' tables and figures that need a data set's own layout, made by
``reproduce`` on a small seeded generated set exported in that layout — or on a real copy.

    python -m ferlib.gallery --make                          # demo profile (the step of `make demo`)
    python -m ferlib.gallery --make --profile smoke          # 1 epoch, first fold, a tiny export (tests)
    python -m ferlib.gallery --make --root afew=/data/AFEW   # a real copy instead of that layout's export

For each data set of :data:`LAYOUTS` (those a paper item needs) it generates a seeded set of the
data set's course (``lab`` for the lab sets, ``lab-return`` for MMI, whose clips return to
neutral, ``wild`` for the in-the-wild sets; one generated set per course, exported into every
layout of that course), exports it in the layout as distributed (:mod:`ferlib.synth.export`) and
runs :func:`ferlib.reproduce.reproduce` on it — adapter → preprocessing → the demo recipe of every
method whose paper reports the data set, on the full demo schedule → the paper's table beside ours.
From the runs it writes, under ``figures/gallery/``, each item's files (:func:`planned_files`
names them; the method specs' :class:`~ferlib.models.registry.PaperItem` claim them):

* ``<method>_<data set>_vs_paper.{csv,md,png}`` the paper's main table for the data set with ours beside it;
* ``<method>_<data set>_per_class.{csv,md}`` per-class accuracy beside the paper's (where it has one);
* ``<method>_<data set>_per_<group>.{csv,md,png}`` WAR per group of clips (FERV39k's scenes);
* ``<method>_<data set>_confusion.png``; ``<method>_tsne.png`` test-clip embeddings, one panel a data set;
* ``dataset_sizes.{csv,md}`` clips per split of every layout beside the papers' sizes.

Every file says what it was made from (:func:`made_from`): "generated, AFEW layout, demo profile" (or
"real data, AFEW copy, …") in the PNG's title, the Markdown's first line and a ``made from`` CSV
column. Everything goes under ``runs/gallery/<profile>/`` (exports, clip stores, runs): a second call
reads finished runs back instead of training them again. What each profile exports is its
:attr:`ferlib.profiles.Profile.gallery` (subjects, frames and side for the lab and the wild sets; wild
sets have 8 classes with neutral); the runs train the first fold of a k-fold protocol (``--all-folds``
for all).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ferlib.analysis.embeddings import tsne_2d
from ferlib.analysis.groups import accuracy_by
from ferlib.analysis.results import comparison_table, per_class_comparison, pooled_confusion, save_table
from ferlib.analysis.runs import fold_dirs, load_byproducts, load_metrics
from ferlib.data.adapters import get_adapter
from ferlib.data.protocols import get_protocol
from ferlib.data.store import ClipStore
from ferlib.models.registry import available_methods, method_spec
from ferlib.paper_numbers import DATASET_SIZES, paper_table
from ferlib.profiles import PROFILES as ALL_PROFILES, get_profile
from ferlib.reproduce import methods_for, reproduce
from ferlib.synth import SynthConfig, generate
from ferlib.synth.export import EXPORT_IDS, export_layout
from ferlib.train.recipes import DATASET_PROTOCOLS
from ferlib.viz.embeddings import tsne_figure
from ferlib.viz.results import confusion_figure, group_figure, reproduce_figure
from ferlib.viz.style import save_figure

#: the profiles the gallery runs at (those that size a gallery export): smoke (1 epoch, first fold; tests) and demo
PROFILES = tuple(p for p in ALL_PROFILES if get_profile(p).gallery)
#: the data sets the gallery's items need → the generated course exported in their layout
LAYOUTS: dict[str, str] = {"oulu": "lab", "mmi": "lab-return", "afew": "wild", "ferv39k": "wild", "mafw": "wild",
                           "dfew": "wild"}
#: layouts that are indexed only (their row of the data-set sizes); the others are run
INDEX_ONLY = ("dfew",)
#: how the files name a data set
NAMES = {"ckplus": "CK+", "oulu": "Oulu-CASIA", "mmi": "MMI", "afew": "AFEW", "dfew": "DFEW", "ferv39k": "FERV39k",
         "mafw": "MAFW", "affwild2": "Aff-Wild2"}
#: the folder of the gallery's files under ``figures/``
FOLDER = "gallery"
#: the groups of clips a data set's index carries (per-group WAR tables) → the column
GROUP_COLUMNS = ("scene",)


def made_from(dataset: str, profile: str, real: bool = False) -> str:
    """What a gallery file was made from: ``"generated, AFEW layout, demo profile"`` or ``"real data,
    AFEW copy, demo profile"`` (never mistakable for each other)."""
    name = NAMES.get(dataset, dataset)
    return f"real data, {name} copy, {profile} profile" if real else f"generated, {name} layout, {profile} profile"


def run_plan(layouts: Sequence[str] | None = None) -> dict[str, tuple[str, ...]]:
    """``{data set: methods}`` the gallery runs: every method whose paper reports the data set
    (:func:`ferlib.reproduce.methods_for`); index-only layouts get none."""
    chosen = list(LAYOUTS) if layouts is None else list(layouts)
    bad = [d for d in chosen if d not in LAYOUTS]
    if bad:
        raise ValueError(f"the gallery has no layout {bad[0]!r}; its layouts: {list(LAYOUTS)}")
    return {d: () if d in INDEX_ONLY else tuple(methods_for(d)) for d in chosen}


def planned_files(layouts: Sequence[str] | None = None) -> list[str]:
    """The files (relative to ``figures/``) a gallery run writes: what items may claim."""
    files: list[str] = []
    plan = run_plan(layouts)
    for ds, methods in plan.items():
        for m in methods:
            refs = method_spec(m).papers
            stem = f"{FOLDER}/{m}_{ds}"
            files += [f"{stem}_vs_paper.{e}" for e in ("csv", "md", "png")] if ds in refs.main else []
            files += [f"{stem}_per_class.{e}" for e in ("csv", "md")] if ds in refs.per_class else []
            files += [f"{stem}_per_{c}.{e}" for c in GROUP_COLUMNS if (ds, c) in _group_tables(m) for e in ("csv", "md", "png")]
            files.append(f"{stem}_confusion.png")
    files += [f"{FOLDER}/{m}_tsne.png" for m in available_methods() if any(m in ms for ms in plan.values())]
    return files + ([f"{FOLDER}/dataset_sizes.{e}" for e in ("csv", "md")] if set(plan) & set(DATASET_SIZES) else [])


def _group_tables(method: str) -> dict[tuple[str, str], str]:
    return dict(method_spec(method).papers.per_group)


# --------------------------------------------------------------------------- data: export or a real copy

def _export(profile: str, dataset: str) -> dict[str, int]:
    return dict(get_profile(profile).gallery["wild" if LAYOUTS[dataset] == "wild" else "lab"])


def export_root(dataset: str, profile: str, work: Path, echo: Callable[[str], None] = print) -> Path:
    """The generated set of ``dataset``'s course at gallery ``profile`` exported in its layout under
    ``work`` (made once: the generated store and the export are reused when finished)."""
    course = LAYOUTS[dataset]
    out = work / "exports" / dataset
    if (out / EXPORT_IDS).is_file():  # export_layout writes it last: the export is whole
        return out
    cfg = SynthConfig(course=course, include_neutral=course == "wild", seed=11, **_export(profile, dataset))
    store = generate(work / "generated" / course, cfg, progress=False)
    if out.exists():  # an export cut short: start it again
        shutil.rmtree(out)
    n = export_layout(store, out, dataset)
    echo(f"gallery: {n} generated {course} clips exported in the {dataset} layout to {out}")
    return out


def store_name(dataset: str, root: Path | None = None) -> str:
    """The clip store's folder (and so the runs' folder) of ``dataset``: the data set's name for its
    generated export, ``<data set>-real-<hash of the copy's path>`` for a real copy, so that a real
    copy never reads back the generated set's store or runs, nor another copy's."""
    if root is None:
        return dataset
    return f"{dataset}-real-{hashlib.sha1(str(root.resolve()).encode()).hexdigest()[:8]}"


# --------------------------------------------------------------------------- the items' files

def _provenance(df: pd.DataFrame, source: str) -> pd.DataFrame:
    out = df.copy()
    out.insert(0, "made from", source)
    return out


def write_item_table(df: pd.DataFrame, out: Path, name: str, title: str, source: str) -> None:
    """CSV (with a ``made from`` column) and Markdown (its first line the title and the source)."""
    save_table(_provenance(df, source), out, name, caption=f"{title} — made from: {source}")


def write_run_files(method: str, dataset: str, result: Mapping[str, Any], index: Any, out: Path, source: str) -> None:
    """The files of one ``reproduce`` result (one method on one data set) in ``out``."""
    refs = method_spec(method).papers
    stem = f"{method}_{dataset}"
    folds = fold_dirs(result["run"])
    metrics = [load_metrics(f) for f in folds]
    table = result["table"]
    if result.get("paper") is not None:
        vs = result["paper"]
        key, column = refs.main[dataset]
        theirs = paper_table(key)
        write_item_table(vs, out, f"{stem}_vs_paper", f"{method} on {dataset}: {theirs.attrs['source']} with ferlib beside it",
                         source)
        fig = reproduce_figure(table, float(theirs.loc[vs.attrs["paper_row"], column]),
                               f"{method} on {dataset}, {source}: ferlib per fold vs the paper",
                               f"paper, {theirs.attrs['source']} ({column})")
        save_figure(fig, out, f"{stem}_vs_paper")
    if dataset in refs.per_class:
        label = result["paper"].attrs["ours_label"] if result.get("paper") is not None else f"ferlib, {source}"
        pc = per_class_comparison(method, metrics, label, dataset=dataset)
        write_item_table(pc, out, f"{stem}_per_class", f"{method} on {dataset}: per-class accuracy (recall, %)", source)
    for (ds, column), key in _group_tables(method).items():
        if ds != dataset:
            continue
        ours = accuracy_by(folds, index, column)
        theirs = paper_table(key)
        row = theirs.loc[theirs.index[(theirs["method"] == method) & (theirs["variant"] == "full")]]
        if len(row) != 1:
            raise KeyError(f"paper table {key!r} has {len(row)} rows of {method!r} variant 'full', expected one")
        paper = row.select_dtypes("number").T
        paper.columns = ["WAR (%)"]
        both = comparison_table(ours[["WAR"]].rename(columns={"WAR": "WAR (%)"}), paper, f"ferlib, {source}",
                                f"paper, {theirs.attrs['source']}")
        both["clips"] = ours["clips"].reindex(both.index)
        write_item_table(both, out, f"{stem}_per_{column}", f"{method} on {dataset}: WAR per {column}", source)
        fig = group_figure(both, f"{method} on {dataset}, {source}: WAR per {column}")
        save_figure(fig, out, f"{stem}_per_{column}")
    cm, classes = pooled_confusion(metrics)
    save_figure(confusion_figure(cm, classes, f"{method} on {dataset}, {source}: confusion (test clips)"), out,
                f"{stem}_confusion")


def write_tsne(method: str, runs: Mapping[str, Mapping[str, Any]], stores: Mapping[str, ClipStore], out: Path,
               sources: Mapping[str, str]) -> None:
    """``<method>_tsne.png``: t-SNE of the first fold's test-clip embeddings, one panel a data set
    (classes matched by name across the data sets)."""
    classes: list[str] = []
    for ds in runs:
        classes += [c for c in stores[ds].classes if c not in classes]
    panels = []
    for ds, res in runs.items():
        bp = load_byproducts(fold_dirs(res["run"])[0])
        own = list(stores[ds].classes)
        remap = np.array([classes.index(c) for c in own])
        panels.append({"xy": tsne_2d(bp["embedding"], perplexity=30.0, seed=0), "labels": remap[bp["label"]],
                       "pred": remap[bp["pred"]], "title": f"{ds}\n{sources[ds]}"})
    fig = tsne_figure(panels, classes, ncols=3)
    fig.suptitle(f"{method}: t-SNE of test-clip embeddings (KP-GCN-MSA Fig. 10 style)", y=1.02, fontsize=10)
    save_figure(fig, out, f"{method}_tsne")


def dataset_sizes(indexes: Mapping[str, Any]) -> pd.DataFrame:
    """Clips per split of each data set of the paper's table (:data:`ferlib.paper_numbers.DATASET_SIZES`)
    among ``indexes`` under its protocol (mean over folds), beside the paper's sizes."""
    rows = []
    for ds, index in indexes.items():
        if ds not in DATASET_SIZES:
            continue
        (proto, kw), _ = DATASET_PROTOCOLS[ds]
        splits = get_protocol(proto, index, **kw)
        paper = DATASET_SIZES[ds]
        rows.append({"data set": ds, "training clips": float(np.mean([len(s.train) for s in splits])),
                     "test clips": float(np.mean([len(s.test) for s in splits])), "folds": len(splits),
                     "paper: training clips": paper["train"], "paper: test clips": paper["test"],
                     "paper: folds": paper["folds"]})
    return pd.DataFrame(rows, columns=["data set", "training clips", "test clips", "folds", "paper: training clips",
                                       "paper: test clips", "paper: folds"]).set_index("data set")


# --------------------------------------------------------------------------- the run

def make_gallery(profile: str = "demo", figures: str | Path = "figures", work: str | Path | None = None,
                 roots: Mapping[str, str | Path] | None = None, layouts: Sequence[str] | None = None,
                 all_folds: bool = False, echo: Callable[[str], None] = print) -> pd.DataFrame:
    """Export (or take ``roots[dataset]``, a real copy), reproduce and write every planned file
    under ``figures/gallery/`` (the first fold of a k-fold protocol — the tables say "1 of 10 folds" —
    or every fold with ``all_folds``); returns the seconds per data set and step (wall clock; the runs' CPU
    seconds beside them), and a last row for the figures drawn over all data sets. Everything a user can get
    wrong (a profile, a layout, a root) is checked before anything is written."""
    if profile not in PROFILES:
        raise ValueError(f"gallery profile {profile!r}: expected one of {PROFILES}")
    roots = {k: Path(v) for k, v in (roots or {}).items()}
    plan = run_plan(layouts)
    for ds, root in roots.items():
        if ds not in plan:
            raise ValueError(f"--root {ds}={root}: the gallery runs no data set {ds!r}; it runs {list(plan)}")
        if not root.is_dir():
            raise FileNotFoundError(f"--root {ds}={root}: not a folder (expected a copy of {ds} as distributed)")
    work = Path(work) if work is not None else Path("runs") / "gallery" / profile
    out = Path(figures) / FOLDER
    times, results, stores, indexes, sources = [], {}, {}, {}, {}
    for ds, methods in plan.items():
        t0 = time.perf_counter()
        real = ds in roots
        root = roots[ds] if real else export_root(ds, profile, work, echo)
        sources[ds] = made_from(ds, profile, real)
        t1 = time.perf_counter()
        indexes[ds] = get_adapter(ds).index(root, **({"window": _export(profile, ds)["n_frames"]} if ds == "affwild2" else {}))
        row = {"data set": ds, "made from": sources[ds], "export (s)": t1 - t0}
        c0 = time.process_time()
        for m in methods:
            t2 = time.perf_counter()
            res = reproduce(m, ds, root, store=work / "stores" / store_name(ds, roots.get(ds)), runs_dir=work / "runs",
                            figures_dir=work / "reproduce", recipe="demo", smoke=profile == "smoke", estimate=False,
                            folds=None if all_folds else [0], echo=echo)[m]
            results.setdefault(m, {})[ds] = res
            stores[ds] = ClipStore.open(work / "stores" / store_name(ds, roots.get(ds)))
            write_run_files(m, ds, res, stores[ds].index(), out, sources[ds])
            row[f"{m} (s)"] = time.perf_counter() - t2
        row["total (s)"] = time.perf_counter() - t0
        row["CPU of the runs (s)"] = time.process_time() - c0  # this process's threads: the wall time shared machines hide
        times.append(row)
    t0 = time.perf_counter()
    for m, runs in results.items():
        write_tsne(m, runs, stores, out, sources)
    sizes = dataset_sizes(indexes)
    if len(sizes):
        sizes.insert(0, "made from", [sources[d] for d in sizes.index])
        save_table(sizes, out, "dataset_sizes", caption="Clips per split of each data set beside KP-GCN-MSA Table 2 — "
                   f"made from: {'; '.join(sizes['made from'])}")
    times.append({"data set": "(all)", "made from": "t-SNE figures and data-set sizes",
                  "total (s)": time.perf_counter() - t0})
    table = pd.DataFrame(times).set_index("data set")
    steps = [f"{m} (s)" for m in available_methods() if f"{m} (s)" in table.columns]
    return table[["made from", "export (s)", *steps, "total (s)", "CPU of the runs (s)"]].round(1)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``--make`` options of ``python -m ferlib.gallery``."""
    p.add_argument("--make", action="store_true", help="run the gallery: export each layout, reproduce, write figures/gallery/")
    p.add_argument("--profile", default="demo", choices=PROFILES, help="demo (the demo recipes' schedule) or smoke (1 epoch, 1 fold)")
    p.add_argument("--figures", default="figures", help="figures folder (the files go to <figures>/gallery/)")
    p.add_argument("--work", default=None, help="exports, stores and runs (default runs/gallery/<profile>)")
    p.add_argument("--root", action="append", default=[], metavar="DATASET=DIR",
                   help="a real copy of a data set instead of its generated export (repeatable)")
    p.add_argument("--all-folds", action="store_true", help="every fold of a k-fold protocol (default: the first)")
    p.add_argument("--layouts", nargs="*", default=None, help=f"only these data sets (default: {' '.join(LAYOUTS)})")


def run(a: argparse.Namespace, echo: Callable[[str], None] = print) -> int:
    """Entry point of ``python -m ferlib.gallery --make``: prints the time table at the end."""
    roots = {}
    for item in a.root:
        ds, sep, path = item.partition("=")
        if not sep or not ds or not path:
            raise ValueError(f"--root {item!r}: expected DATASET=DIR, e.g. afew=/data/AFEW")
        roots[ds] = path
    t = time.perf_counter()
    table = make_gallery(a.profile, a.figures, a.work, roots, a.layouts, a.all_folds, echo)
    echo(f"\ngallery ({a.profile} profile): seconds per data set and step, {time.perf_counter() - t:.0f} s in all")
    echo(table.to_string(na_rep="–"))
    echo(f"files in {Path(a.figures) / FOLDER}")
    return 0
