"""A method is named only where it is declared: its model file, :mod:`ferlib.paper_numbers` (the papers'
numbers, keyed by method) and its own notebook (``spec.notebook``). Every other caller reads the registry
(:class:`ferlib.models.registry.MethodSpec`, :func:`ferlib.models.registry.methods`), so a new method needs no
edit of the callers' lists: there are none."""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: what is scanned (tests are not: they name methods to check them)
SCANNED = ("ferlib", "benchmarks", "notebooks")
#: files allowed to name any method, each with its reason (model files and notebooks come from the specs)
ALLOWED = {
    "ferlib/paper_numbers.py": "the papers' numbers, keyed by the method they are of",
}
#: the two exceptions: file → the methods it may name, and why
EXCEPTIONS: dict[str, tuple[set[str], str]] = {}  # file → (names it may use, why); none today


def _code_cells(path: Path) -> list[str]:
    """The code cells of a notebook, IPython magics and shell lines left out so that ast parses them."""
    cells = json.loads(path.read_text())["cells"]
    return ["\n".join(line for line in "".join(c["source"]).splitlines() if not line.lstrip().startswith(("%", "!")))
            for c in cells if c["cell_type"] == "code"]


def _sources(root: Path, dirs: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """``(relative path, where, python source)`` of every ``.py`` file and notebook code cell under ``dirs``
    (``where`` is the path, or ``path[cell i]`` for the i-th code cell)."""
    out = []
    for d in dirs:
        for path in sorted((root / d).rglob("*")):
            rel = path.relative_to(root).as_posix()
            if path.suffix == ".py":
                out.append((rel, rel, path.read_text()))
            elif path.suffix == ".ipynb" and ".ipynb_checkpoints" not in rel:
                out.extend((rel, f"{rel}[cell {i}]", cell) for i, cell in enumerate(_code_cells(path)))
    return out


def name_literals(root: Path, owners: dict[str, set[str]], dirs: tuple[str, ...] = SCANNED,
                  allowed: frozenset[str] = frozenset(ALLOWED)) -> list[str]:
    """``"path:line: 'name'"`` (sorted) for every string constant (f-string parts included) equal to a method name
    in a file that is neither one of the name's ``owners`` nor in ``allowed``."""
    found = []
    for rel, where, source in _sources(root, dirs):
        if rel in allowed:
            continue
        for node in ast.walk(ast.parse(source, filename=where)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in owners \
                    and rel not in owners[node.value]:
                found.append(f"{where}:{node.lineno}: {node.value!r}")
    return sorted(found)


def registered_owners() -> dict[str, set[str]]:
    """Method name → the files allowed to name it: its model file, its notebook and :data:`EXCEPTIONS`."""
    from ferlib.models.registry import available_methods, method_spec

    owners = {}
    for name in available_methods():
        spec = method_spec(name)
        model_file = Path(sys.modules[spec.factory.__module__].__file__).resolve().relative_to(REPO).as_posix()
        owners[name] = {model_file} | ({f"notebooks/{spec.notebook}"} if spec.notebook else set())
        owners[name] |= {path for path, (names, _) in EXCEPTIONS.items() if name in names}
    return owners


def test_scanner_finds_literals_outside_their_owners(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "nb").mkdir()
    (tmp_path / "pkg" / "alpha.py").write_text('NAME = "alpha"\n')
    (tmp_path / "pkg" / "caller.py").write_text(
        '"""Mentions alpha in prose only."""\nx = "alpha"\ny = f"{x}-alpha"\nz = f"alpha"\nw = "alphabet"\n')
    (tmp_path / "pkg" / "numbers.py").write_text('TABLE = {"alpha": 1}\n')
    cells = [{"cell_type": "code", "source": ["%matplotlib inline\n", "run('alpha')\n"]},
             {"cell_type": "markdown", "source": ["'alpha' in words"]}]
    (tmp_path / "nb" / "other.ipynb").write_text(json.dumps({"cells": cells}))
    (tmp_path / "nb" / "alpha.ipynb").write_text(json.dumps({"cells": cells}))
    owners = {"alpha": {"pkg/alpha.py", "nb/alpha.ipynb"}}

    found = name_literals(tmp_path, owners, dirs=("pkg", "nb"), allowed=frozenset({"pkg/numbers.py"}))

    # the docstring is a constant "Mentions alpha…", not equal to the name; "-alpha" is not the name either
    assert found == ["nb/other.ipynb[cell 0]:1: 'alpha'", "pkg/caller.py:2: 'alpha'", "pkg/caller.py:4: 'alpha'"]


def test_owners_are_the_model_files_and_notebooks():
    owners = registered_owners()
    assert owners["fan"] == {"ferlib/models/fan.py", "notebooks/03_fan.ipynb"}
    assert owners["kp_gcn_msa"] == {"ferlib/models/kp_gcn_msa.py", "notebooks/04_kp_gcn_msa.ipynb"}
    assert owners["r3d_18"] == {"ferlib/models/baselines.py"}
    for files in owners.values():
        assert all((REPO / f).is_file() for f in files), files


def test_no_method_is_named_outside_its_own_files():
    found = name_literals(REPO, registered_owners())
    assert not found, "read the method's MethodSpec (ferlib.models.registry) instead of naming it:\n" + "\n".join(found)


def test_registry_queries_read_the_specs():
    from ferlib.models.registry import MethodSpec, methods, method_spec, paper_methods

    assert paper_methods() == ("fer_gcn", "fan", "kp_gcn_msa", "stgcn")  # notebook order, 02 … 05
    # the cost table's rows, in the order notebook 10 listed them before the specs said it
    assert methods(lambda s: s.cost_row) == ("fer_gcn", "fan", "kp_gcn_msa", "stgcn", "cnn_mean", "cnn_lstm", "r3d_18")
    assert methods(lambda s: s.frame_cnn) == ("fer_gcn", "fan", "kp_gcn_msa", "cnn_mean", "cnn_score_fusion", "cnn_lstm",
                                              "cnn_gru")
    assert method_spec("fan").weight_keys == ("alpha", "alpha_beta") and method_spec("stgcn").weight_keys == ()
    fan = method_spec("fan")
    assert {(s.num_frames, s.sampler, s.test_sampler) for s in fan.profiles.values()} == {(3, "segments", "all")}
    assert (fan.recipes["ckplus"]["num_frames"][0], fan.recipes["ckplus"]["test_sampler"][0]) == (3, "all")
    with pytest.raises(ValueError, match="weight_claims clips must be one of"):
        MethodSpec(name="x", factory=lambda **_: None, profiles=fan.profiles, weight_claims=(("alpha", "elsewhere", "?"),))


def test_a_paper_figure_section_finds_its_method_through_the_item():
    from ferlib.models.registry import item_owner, method_spec

    owner = item_owner("FER-GCN", "Fig. 4")
    assert any(it.item == "Fig. 4" for it in method_spec(owner).papers.items)
    assert method_spec(owner).papers.paper.startswith("FER-GCN")
    with pytest.raises(ValueError, match="'Fig. 99': expected one method listing it"):
        item_owner("FER-GCN", "Fig. 99")
