"""ferlib's layers import downstream only: data ← preprocess / synth ← models ← train ← analysis ← experiments ←
viz ← workbook ← notebooks / CLI (the order and the parser are benchmarks/import_graph.py's, which prints the
arrows)."""

from __future__ import annotations

import ast
import importlib.util
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "ferlib"


def _load_graph():
    spec = importlib.util.spec_from_file_location("import_graph", REPO / "benchmarks" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("import_graph", module)
    spec.loader.exec_module(module)
    return module


graph = _load_graph()

#: imports of ferlib inside functions, each with its reason (anything else goes at the module's top)
LATE_IMPORTS = {
    ("ferlib/models/registry.py", "ferlib.models"): "importing the package registers every model file (a plug-in load)",
    ("ferlib/train/config.py", "ferlib.train.recipes"): "recipes import TrainConfig to check their fields (a cycle inside train)",
    ("ferlib/synth/randomise.py", "ferlib.synth.photo"): "a cycle inside synth: photo randomises, randomise jitters with photo's similarity",
}


def write(root: Path, rel: str, text: str = "") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_no_import_goes_upward():
    bad = [f"{p.relative_to(REPO)}:{line} ({src} -> {dst}) imports {mod}"
           for src, dst, p, line, mod in graph.import_edges(PACKAGE) if graph.is_upward(src, dst)]
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_every_module_has_a_place_in_the_order():
    layers = {graph.layer_of(p, PACKAGE) for p in PACKAGE.rglob("*.py")}
    unplaced = sorted(layers - set(graph.LAYER_ORDER) - graph.ANYONE_MAY_IMPORT)
    assert not unplaced, f"place {unplaced} in LAYER_ORDER of benchmarks/import_graph.py"


@pytest.mark.parametrize("leaf", sorted(graph.ANYONE_MAY_IMPORT - {"__init__"}))
def test_what_anyone_may_import_imports_nothing_of_ferlib(leaf):
    path = PACKAGE / f"{leaf}.py"
    assert path.is_file(), path
    assert graph.imported_modules(path, PACKAGE) == [], f"{leaf}.py must stay a leaf: every layer imports it"


def test_the_check_catches_upward_and_relative_imports(tmp_path):
    pkg = tmp_path / "ferlib"
    write(pkg, "__init__.py")
    write(pkg, "data/__init__.py")
    write(pkg, "data/index.py", "import numpy\nfrom ferlib.paper_numbers import X\n")
    write(pkg, "data/adapters/london.py", "def f():\n    from ferlib.synth.photo import warp\n")
    write(pkg, "models/trunks.py", "from ..train import pretrain\nfrom . import base\n")
    write(pkg, "viz/weights.py", "import ferlib.workbook\nfrom ferlib.analysis import runs\n")
    write(pkg, "workbook.py", "from ferlib.viz import weights\n")
    edges = {(s, d, m) for s, d, _, _, m in graph.import_edges(pkg)}
    assert ("models", "train", "ferlib.train") in edges  # relative import resolved
    assert ("models", "models", "ferlib.models") not in edges  # same layer: not an arrow
    upward = sorted((s, d) for s, d, *_ in graph.import_edges(pkg) if graph.is_upward(s, d))
    assert upward == [("data", "synth"), ("models", "train"), ("viz", "workbook")]


def test_experiments_sit_above_analysis_and_below_viz(tmp_path):
    """Experiments (generate, train, evaluate) may use training and measurements; nothing below
    them may reach up to them (the trunk files of the models are made there, and loaded below)."""
    pkg = tmp_path / "ferlib"
    write(pkg, "__init__.py")
    write(pkg, "experiments/pretrain.py", "from ferlib.train import engine\nfrom ferlib.analysis import weights\n")
    write(pkg, "models/trunks.py", "from ferlib.experiments.pretrain import frame_pretrained\n")
    write(pkg, "analysis/runs.py", "from ferlib.experiments import transfer\n")
    write(pkg, "viz/transfer.py", "from ferlib.experiments import transfer\n")
    upward = sorted((s, d) for s, d, *_ in graph.import_edges(pkg) if graph.is_upward(s, d))
    assert upward == [("analysis", "experiments"), ("models", "experiments")]
    assert (PACKAGE / "experiments" / "pretrain.py").is_file() and not (PACKAGE / "models" / "pretrain.py").exists()


def late_imports(path: Path) -> list[tuple[str, int]]:
    """Imports of ferlib below the module's top level (in functions, classes, methods)."""
    tree = ast.parse(path.read_text())
    top = {id(n) for n in tree.body}
    for node in tree.body:  # imports under a top-level `if`/`try` are still module-level
        if isinstance(node, (ast.If, ast.Try)):
            top |= {id(n) for n in ast.walk(node)}
    out = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and id(node) not in top:
            mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            out += [(m, node.lineno) for m in mods if m.split(".")[0] == "ferlib"]
    return out


def test_imports_of_ferlib_sit_at_the_module_top():
    found = [(str(p.relative_to(REPO)), m, line) for p in sorted(PACKAGE.rglob("*.py")) for m, line in late_imports(p)]
    unexplained = [f"{f}:{line} imports {m} inside a function" for f, m, line in found if (f, m) not in LATE_IMPORTS]
    assert not unexplained, "\n".join(unexplained)


def test_the_late_import_check_sees_one(tmp_path):
    write(tmp_path, "m.py", "import ferlib.data\ntry:\n    import ferlib.x\nexcept ImportError:\n    pass\n"
                            "def f():\n    from ferlib.train import engine\n")
    assert late_imports(tmp_path / "m.py") == [("ferlib.train", 7)]
