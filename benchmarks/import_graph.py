"""Which of ferlib's layers import which: one line per arrow ``importer -> imported (count)``.

    python benchmarks/import_graph.py [--root ferlib] [--upward] [--cycles]

An arrow counts the import statements (``import ferlib.x`` / ``from ferlib.x import …`` /
relative imports, at module top or inside functions) in the files of one layer that name another
layer. Layers are ferlib's sub-packages and top-level modules (``ferlib/workbook.py`` is the layer
``workbook``). ``--upward`` prints only the arrows that go against the order of
:data:`LAYER_ORDER` (the same rule as ``tests/test_layers.py``). Every view ends with the import
cycles between modules (not only layers; late imports count), ``--cycles`` prints only those:
``no import cycle between modules`` or one line per cycle (exit status 1).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections import Counter
from pathlib import Path

#: the layers from the bottom up (ferlib's design: data ← preprocess ← synth ← models ← train ←
#: analysis (measurements) ← experiments (generate, train and evaluate) ← viz ← workbook ← notebooks / CLI);
#: a layer may import layers of a lower or the same rank (the entry points at the top share one). ``synth``
#: sits above ``preprocess``: generated clips are framed as real faces are (dlib box, eye-level crop), and
#: what makes clips from photos or writes demo videos (``synth.london``, ``synth.demo_videos``) generates,
#: so it lives in ``synth``
LAYER_ORDER: dict[str, int] = {
    "data": 0,
    "preprocess": 1,
    "synth": 2,
    "models": 3,
    "train": 4,
    "analysis": 5,
    "experiments": 6,
    "viz": 7,
    "notebook_params": 8,
    "workbook": 9,
    "reproduce": 10,
    "run_notebooks": 10,
    "readme_results": 10,
    "gallery_runs": 10,
    "gallery": 10,
    "cli": 10,
    "synth_samples": 10,
    "__main__": 10,
}
#: modules that import nothing of ferlib, which every layer may import: the papers' numbers (data),
#: the command line's key=value dialect, the real-face material's paths, the generated data's versions, the
#: package's own ``__init__`` (its version)
ANYONE_MAY_IMPORT = {"paper_numbers", "options", "profiles", "progress", "assets", "versions", "__init__"}


def layer_of(path: Path, root: Path) -> str:
    """The layer a file of the package belongs to: its first path part below ``root``
    (``ferlib/viz/weights.py`` → ``viz``; ``ferlib/workbook.py`` → ``workbook``)."""
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def _imports(path: Path, root: Path) -> list[tuple[str, int, list[str]]]:
    """``(dotted ferlib module, line, imported names)`` of every import statement in ``path`` that
    names ferlib (``names`` is empty for ``import ferlib.x``)."""
    pkg = root.name
    tree = ast.parse(path.read_text(), str(path))
    here = [pkg, *path.relative_to(root).with_suffix("").parts]  # ferlib.viz.weights
    out: list[tuple[str, int, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno, []) for a in node.names if a.name.split(".")[0] == pkg]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                base = here[:-node.level] if path.stem != "__init__" else here[:len(here) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.split(".")[0] != pkg:
                continue
            if mod == pkg:  # from ferlib import viz
                out += [(f"{pkg}.{a.name}", node.lineno, []) for a in node.names]
            else:
                out.append((mod, node.lineno, [a.name for a in node.names]))
    return out


def imported_modules(path: Path, root: Path) -> list[tuple[str, int]]:
    """``(dotted ferlib module, line)`` of every import statement in ``path`` that names ferlib."""
    return [(mod, line) for mod, line, _ in _imports(path, root)]

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


def module_name(path: Path, root: Path) -> str:
    """The dotted name of a file of the package (``ferlib/viz/weights.py`` → ``ferlib.viz.weights``,
    ``ferlib/viz/__init__.py`` → ``ferlib.viz``)."""
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_graph(root: Path) -> dict[str, set[str]]:
    """Module → the package's modules it imports (anywhere in the file). ``from ferlib.x import y``
    names the module ``ferlib.x.y`` when that is a module, else ``ferlib.x``. An import of one of the
    module's own enclosing packages is no arrow: Python imports those before the module anyway (a
    package's ``__init__`` that imports its modules, which import the package, is a plug-in load)."""
    paths = {module_name(p, root): p for p in sorted(root.rglob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        out: set[str] = set()
        for mod, _, names in _imports(path, root):
            subs = [f"{mod}.{n}" for n in names if f"{mod}.{n}" in paths]
            out |= set(subs) if subs and len(subs) == len(names) else {*subs, mod}
        graph[name] = {m for m in out if m in paths and m != name and not name.startswith(m + ".")}
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of ``graph``: each strongly connected component of more than one module
    (Tarjan's algorithm), sorted, as a list of module names."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(graph) + 100))
    try:
        for v in sorted(graph):
            if v not in index:
                visit(v)
    finally:
        sys.setrecursionlimit(limit)
    return sorted(cycles)


def is_upward(src: str, dst: str) -> bool:
    """Whether ``src`` importing ``dst`` goes against :data:`LAYER_ORDER` (a layer it does not
    know counts as upward: a new layer must be placed in the order first)."""
    if dst in ANYONE_MAY_IMPORT or src == dst:
        return False
    if src not in LAYER_ORDER or dst not in LAYER_ORDER:
        return True
    return LAYER_ORDER[dst] > LAYER_ORDER[src]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent / "ferlib")
    p.add_argument("--upward", action="store_true", help="only arrows against the layer order, with their lines")
    p.add_argument("--cycles", action="store_true", help="only the import cycles between modules")
    args = p.parse_args(argv)
    cycles = find_cycles(module_graph(args.root))
    report = [f"import cycle: {' <-> '.join(c)}" for c in cycles] or ["no import cycle between modules"]
    if args.cycles:
        print("\n".join(report))
        return 1 if cycles else 0
    edges = import_edges(args.root)
    if args.upward:
        bad = [e for e in edges if is_upward(e[0], e[1])]
        for src, dst, path, line, mod in bad:
            print(f"{src} -> {dst}: {path.relative_to(args.root.parent)}:{line} imports {mod}")
        print(f"{len(bad)} upward import(s)")
        print("\n".join(report))
        return 1 if cycles or bad else 0
    counts = Counter((s, d) for s, d, *_ in edges)
    for (src, dst), n in sorted(counts.items(), key=lambda kv: (LAYER_ORDER.get(kv[0][0], -1), kv[0])):
        mark = "  UPWARD" if is_upward(src, dst) else ""
        print(f"{src:>15} -> {dst:<15} {n:3d}{mark}")
    print("\n".join(report))
    return 1 if cycles else 0


if __name__ == "__main__":
    raise SystemExit(main())
