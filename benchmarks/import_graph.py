"""Which of ferlib's layers import which: one line per arrow ``importer -> imported (count)``.

    python benchmarks/import_graph.py [--root ferlib] [--upward]

An arrow counts the import statements (``import ferlib.x`` / ``from ferlib.x import …`` /
relative imports, at module top or inside functions) in the files of one layer that name another
layer. Layers are ferlib's sub-packages and top-level modules (``ferlib/workbook.py`` is the layer
``workbook``). ``--upward`` prints only the arrows that go against the order of
:data:`LAYER_ORDER` (the same rule as ``tests/test_layers.py``).
"""

from __future__ import annotations

import argparse
import ast
from collections import Counter
from pathlib import Path

#: the layers from the bottom up (ferlib's design: data ← preprocess / synth ← models ← train ←
#: analysis ← viz ← workbook ← notebooks / CLI); a layer may import layers of a lower or the same
#: rank (``preprocess`` and ``synth`` share one, as do the entry points at the top)
LAYER_ORDER: dict[str, int] = {
    "data": 0,
    "preprocess": 1,
    "synth": 1,
    "models": 2,
    "train": 3,
    "analysis": 4,
    "viz": 5,
    "notebook_params": 6,
    "workbook": 7,
    "reproduce": 8,
    "run_notebooks": 8,
    "readme_results": 8,
    "gallery_runs": 8,
    "gallery": 8,
    "cli": 8,
    "__main__": 8,
}
#: modules that import nothing of ferlib, which every layer may import: the papers' numbers (data),
#: the command line's key=value dialect, the real-face material's paths, the generated data's versions, the
#: package's own ``__init__`` (its version)
ANYONE_MAY_IMPORT = {"paper_numbers", "options", "progress", "assets", "versions", "__init__"}


def layer_of(path: Path, root: Path) -> str:
    """The layer a file of the package belongs to: its first path part below ``root``
    (``ferlib/viz/weights.py`` → ``viz``; ``ferlib/workbook.py`` → ``workbook``)."""
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def imported_modules(path: Path, root: Path) -> list[tuple[str, int]]:
    """``(dotted ferlib module, line)`` of every import statement in ``path`` that names ferlib."""
    pkg = root.name
    tree = ast.parse(path.read_text(), str(path))
    here = [pkg, *path.relative_to(root).with_suffix("").parts]  # ferlib.viz.weights
    out: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == pkg]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = here[:-node.level] if path.stem != "__init__" else here[:len(here) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != pkg:
                continue
            if mod == pkg:  # from ferlib import viz
                out += [(f"{pkg}.{a.name}", node.lineno) for a in node.names]
            else:
                out.append((mod, node.lineno))
    return out


def import_edges(root: Path) -> list[tuple[str, str, Path, int, str]]:
    """Every import between two different layers: ``(importer, imported, file, line, module)``."""
    edges = []
    for path in sorted(root.rglob("*.py")):
        src = layer_of(path, root)
        for mod, line in imported_modules(path, root):
            parts = mod.split(".")
            dst = parts[1] if len(parts) > 1 else "__init__"
            if dst != src:
                edges.append((src, dst, path, line, mod))
    return edges


def is_upward(src: str, dst: str) -> bool:
    """Whether ``src`` importing ``dst`` goes against :data:`LAYER_ORDER` (a layer it does not
    know counts as upward: a new layer must be placed in the order first)."""
    if dst in ANYONE_MAY_IMPORT or src == dst:
        return False
    if src not in LAYER_ORDER or dst not in LAYER_ORDER:
        return True
    return LAYER_ORDER[dst] > LAYER_ORDER[src]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent / "ferlib")
    p.add_argument("--upward", action="store_true", help="only arrows against the layer order, with their lines")
    args = p.parse_args()
    edges = import_edges(args.root)
    if args.upward:
        bad = [e for e in edges if is_upward(e[0], e[1])]
        for src, dst, path, line, mod in bad:
            print(f"{src} -> {dst}: {path.relative_to(args.root.parent)}:{line} imports {mod}")
        print(f"{len(bad)} upward import(s)")
        return
    counts = Counter((s, d) for s, d, *_ in edges)
    for (src, dst), n in sorted(counts.items(), key=lambda kv: (LAYER_ORDER.get(kv[0][0], -1), kv[0])):
        mark = "  UPWARD" if is_upward(src, dst) else ""
        print(f"{src:>15} -> {dst:<15} {n:3d}{mark}")


if __name__ == "__main__":
    main()
