"""ferlib's layers import downstream only: data ← preprocess ← synth ← models ← train ← analysis ← experiments ←
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


def test_no_import_cycle_between_modules():
    cycles = graph.find_cycles(graph.module_graph(PACKAGE))
    assert not cycles, "modules that import each other:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_the_cycle_check_finds_a_cycle_through_a_late_import(tmp_path, capsys):
    pkg = tmp_path / "ferlib"
    write(pkg, "__init__.py")
    write(pkg, "train/__init__.py", "from ferlib.train.config import Config\n")  # a package importing its module
    write(pkg, "train/config.py", "import ferlib.train\ndef f():\n    from ferlib.train.recipes import get\n")
    write(pkg, "train/recipes.py", "from ferlib.train import config\n")
    write(pkg, "data/a.py", "from . import b\n")
    write(pkg, "data/b.py", "from ferlib.data.c import x\n")
    write(pkg, "data/c.py", "import numpy\nfrom ferlib import data, train\n")
    g = graph.module_graph(pkg)
    assert g["ferlib.train.recipes"] == {"ferlib.train.config"}  # `from package import module` names the module
    assert g["ferlib.train.config"] == {"ferlib.train.recipes"}  # its own package is no arrow
    assert g["ferlib.data.c"] == {"ferlib.train"}  # its own package (ferlib.data) is no arrow either
    assert graph.find_cycles(g) == [["ferlib.train.config", "ferlib.train.recipes"]]
    assert graph.main(["--root", str(pkg), "--cycles"]) == 1
    assert capsys.readouterr().out.strip() == "import cycle: ferlib.train.config <-> ferlib.train.recipes"
    write(pkg, "train/recipes.py", "")
    assert graph.find_cycles(graph.module_graph(pkg)) == []
    assert graph.main(["--root", str(pkg), "--cycles"]) == 0
    assert capsys.readouterr().out.strip() == "no import cycle between modules"


#: what ``viz`` may not import: it draws what ``analysis`` measured, never reads stores, generates
#: clips, trains or builds models itself
VIZ_MUST_NOT_IMPORT = ("data", "synth", "train", "models")


def viz_imports_below_analysis(root: Path) -> list[str]:
    """``file:line imports module`` for each import in ``root/viz`` of a layer in :data:`VIZ_MUST_NOT_IMPORT`."""
    out = []
    for path in sorted((root / "viz").rglob("*.py")):
        for mod, line in sorted(graph.imported_modules(path, root), key=lambda m: m[1]):
            parts = mod.split(".")
            if len(parts) > 1 and parts[1] in VIZ_MUST_NOT_IMPORT:
                out.append(f"{path.relative_to(root.parent)}:{line} imports {mod}")
    return out


def test_viz_only_draws_what_analysis_measured():
    found = viz_imports_below_analysis(PACKAGE)
    assert not found, "viz computes: move this into ferlib.analysis (or synth) and pass the result in:\n" + "\n".join(found)


def test_the_viz_check_names_each_import_of_data_synth_train_models(tmp_path):
    pkg = tmp_path / "ferlib"
    write(pkg, "viz/a.py", "import numpy\nfrom ferlib.analysis.weights import rho\nfrom ferlib.viz.style import DPI\n"
                           "from ferlib.data.store import ClipStore\n")
    write(pkg, "viz/b.py", "def f():\n    from ferlib import synth\n    from ..train import engine\n"
                           "import ferlib.models.fan\nfrom ferlib.preprocess.keypoints import NAMES\n")
    write(pkg, "analysis/c.py", "from ferlib.data.store import ClipStore\n")  # analysis may read stores
    assert viz_imports_below_analysis(pkg) == [
        "ferlib/viz/a.py:4 imports ferlib.data.store",
        "ferlib/viz/b.py:2 imports ferlib.synth",
        "ferlib/viz/b.py:3 imports ferlib.train",
        "ferlib/viz/b.py:4 imports ferlib.models.fan",
    ]
