"""The notebooks' code, read without running it: one shared set-up line, one way to write figures and
tables, parameter names reserved for the parameters cell, no unused imports."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from ferlib.notebook_params import PARAMETERS
from ferlib.run_notebooks import notebooks

NOTEBOOKS = notebooks()
#: what a notebook must not do itself: check parameters one by one, or write files past nb.save
FORBIDDEN = {
    "a parameter check (start_notebook runs them)": re.compile(r"\b(check_choice|check_path|parse_list|parse_folds)\("),
    "a file written past nb.save": re.compile(r"\.savefig\(|\.to_csv\(|\.write_text\(|\bsave_figure\(|\bsave_table\(|"
                                              r"\.to_markdown\("),
}


def code_cells(path: Path) -> list[dict]:
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def source(cell: dict) -> str:
    text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(("%", "!")))


def assigned_names(tree: ast.AST) -> set[str]:
    """Names a cell binds at its top level: assignment, loop and ``with`` targets, imports, definitions."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            out.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return out


def unused_imports(code: str) -> list[str]:
    """Names imported anywhere in ``code`` that nothing in it reads."""
    tree = ast.parse(code)
    imported = {}
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for a in node.names:
                imported[(a.asname or a.name).split(".")[0]] = node.lineno
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted(name for name in imported if name not in read)


def test_the_unused_import_check_finds_one():
    assert unused_imports("import numpy as np\nfrom x import a, b\nprint(a)\n") == ["b", "np"]
    assert unused_imports("import matplotlib.pyplot as plt\nplt.show()\n") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_set_up_cell_checks_every_parameter_in_one_call(path):
    cells = code_cells(path)
    assert "parameters" in cells[0].get("metadata", {}).get("tags", []), f"{path.name}: the first code cell is not the parameters cell"
    calls = [i for i, c in enumerate(cells) if "start_notebook(globals()" in source(c)]
    assert calls == [1], f"{path.name}: start_notebook(globals(), …) must be called once, in the cell after the parameters (cells {calls})"
    line = next(s for s in source(cells[1]).splitlines() if "start_notebook(globals()" in s)
    assert line.startswith("nb = start_notebook(globals()") and line.count("(") == line.count(")"), \
        f"{path.name}: the set-up call is not one line: {line!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_cell_checks_parameters_or_writes_files_itself(path):
    for i, cell in enumerate(code_cells(path)):
        for what, pattern in FORBIDDEN.items():
            hit = pattern.search(source(cell))
            assert hit is None, f"{path.name} code cell {i}: {what}: {hit.group(0)!r}"
    text = "\n".join(source(c) for c in code_cells(path))
    assert "nb.save(" in text, f"{path.name} writes nothing through nb.save"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_parameters_are_known_and_only_the_parameters_cell_assigns_them(path):
    cells = code_cells(path)
    declared = assigned_names(ast.parse(source(cells[0])))
    unknown = sorted(declared - set(PARAMETERS))
    assert not unknown, f"{path.name} declares parameters without a rule in ferlib.notebook_params.PARAMETERS: {unknown}"
    for i, cell in enumerate(cells[1:], start=1):
        clash = sorted(assigned_names(ast.parse(source(cell))) & set(PARAMETERS))
        assert not clash, (f"{path.name} code cell {i} assigns {clash}, names reserved for notebook parameters "
                           "(re-running the set-up cell would check them)")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_unused_imports(path):
    code = "\n".join(source(c) for c in code_cells(path))
    assert unused_imports(code) == [], f"{path.name} imports names it never uses"
