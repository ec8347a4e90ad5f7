"""The papers' tables and figures, one list: which ``make demo`` makes as files, and what the others need.

    python -m ferlib.gallery            # print the list and rewrite the README's table
    python -m ferlib.gallery --check    # exit 1 when the README's table or a claimed file is missing
    python -m ferlib.gallery --make     # the items that need a data set's layout (ferlib.gallery_runs)

Each method's spec holds its paper's items (:class:`~ferlib.models.registry.PaperItem` in
``MethodSpec.papers.items``); this module only reads them. An item is *made* when ``make demo``
writes its files under ``figures/``; the README's table (between :data:`START` and :data:`END`)
is written from the list, and the tests check that the two agree and that every file an item
claims exists.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ferlib import gallery_runs
from ferlib.models.registry import available_methods, method_spec

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
FIGURES = ROOT / "figures"
START = "<!-- paper items: written by `python -m ferlib.gallery` from the method specs; do not edit -->"
END = "<!-- end of paper items -->"


def paper_items() -> pd.DataFrame:
    """One row per table or figure of the four papers: method, paper, item, what, kind, maker,
    files (a tuple), needs, made (``make demo`` writes files for it)."""
    rows = []
    for name in available_methods():
        refs = method_spec(name).papers
        for it in refs.items:
            rows.append({"method": name, "paper": refs.paper, "item": it.item, "what": it.what, "kind": it.kind,
                         "maker": it.maker, "files": it.files, "needs": it.needs, "made": bool(it.files)})
    return pd.DataFrame(rows)


def missing_files(items: pd.DataFrame, figures: Path = FIGURES) -> list[str]:
    """``"<paper> <item>: <file>"`` for every file an item claims that is not in ``figures``."""
    return [f"{r.paper} {r.item}: {f}" for r in items.itertuples() for f in r.files if not (figures / f).is_file()]


def render(items: pd.DataFrame | None = None) -> str:
    """The README's table (markers included)."""
    items = paper_items() if items is None else items
    regenerable = items[items["kind"].isin(["table", "figure"])]
    lines = [START, "", f"{int(items['made'].sum())} of the {len(items)} tables and figures of the four papers are "
             f"files that `make demo` writes (on generated data; {len(regenerable)} can be regenerated at all, the "
             "others are diagrams, a literature table, pictures of the authors' data or a plot without numbers).", "",
             "| paper | item | what | made by | files in `figures/` (or what it needs) |", "|---|---|---|---|---|"]
    for r in items.itertuples():
        if r.made:
            where = ", ".join(f"`{f}`" for f in r.files)
        elif r.kind in ("table", "figure"):
            where = f"not made by `make demo`: needs {r.needs}"
        else:
            where = f"cannot be regenerated: {r.kind}"
        lines.append(f"| {r.paper.split(' (')[0]} | {r.item} | {r.what} | {r.maker or '–'} | {where} |")
    return "\n".join([*lines, "", END])


def _block(text: str) -> str:
    try:
        return text[text.index(START): text.index(END) + len(END)]
    except ValueError:
        raise ValueError(f"{README.name} has no paper-items table (the line {START!r} … {END!r})") from None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--check", action="store_true", help="exit 1 when the README's table is stale or a claimed file is missing")
    gallery_runs.add_arguments(p)
    a = p.parse_args(argv)
    if a.make:
        return gallery_runs.run(a)
    items = paper_items()
    text, new = README.read_text(encoding="utf-8"), render(items)
    missing = missing_files(items)
    if a.check:
        problems = missing + ([] if _block(text) == new else ["README's paper-items table is stale: run python -m ferlib.gallery"])
        print("\n".join(problems) or f"{int(items['made'].sum())} of {len(items)} paper items are files; README agrees")
        return 1 if problems else 0
    README.write_text(text.replace(_block(text), new), encoding="utf-8")
    print(f"{int(items['made'].sum())} of {len(items)} paper items are files; wrote the table of {README}")
    for m in missing:
        print(f"missing: {m}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
