"""Every notebook runs headlessly with papermill in the smoke profile, and rejects bad parameters."""

import json
from pathlib import Path

import papermill as pm
import pytest

from ferlib.run_notebooks import notebooks, stale, stamp

NOTEBOOKS = notebooks()


def test_notebooks_are_parameterised_and_carry_the_outputs_of_their_cells():
    """The committed notebooks hold the demo's outputs, made from their committed cells
    (``make demo`` stamps them; ``python -m ferlib.run_notebooks --check`` also compares ferlib's sources)."""
    assert NOTEBOOKS, "no notebooks found"
    for nb in NOTEBOOKS:
        cells = json.loads(nb.read_text())["cells"]
        assert any("parameters" in c.get("metadata", {}).get("tags", []) for c in cells), f"{nb.name} has no parameters cell"
        outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
        assert any("image/png" in o.get("data", {}) for o in outputs), f"{nb.name} shows no figure"
    assert stale(NOTEBOOKS, code=False) == []


def test_the_stamp_goes_stale_when_a_cell_or_the_code_changes(tmp_path):
    nb = tmp_path / NOTEBOOKS[0].name
    nb.write_text(NOTEBOOKS[0].read_text())
    stamp(nb, "demo")
    assert stale([nb]) == []
    data = json.loads(nb.read_text())
    data["metadata"]["ferlib"]["code"] = "0" * 64
    nb.write_text(json.dumps(data))
    assert stale([nb], code=False) == [] and "ferlib's sources changed" in stale([nb])[0]
    data["cells"][0]["source"] = ["edited"]
    nb.write_text(json.dumps(data))
    assert "its cells changed" in stale([nb], code=False)[0]
    stamp(nb, "smoke")
    assert "'smoke' profile" in stale([nb], code=False)[0]


@pytest.fixture(scope="module")
def shared(tmp_path_factory):
    """Data and runs shared by the notebooks of one test session, as in `make demo` (the method
    notebooks train, the analysis notebooks read their runs)."""
    return tmp_path_factory.mktemp("workbook")


def smoke_parameters(nb: Path, shared: Path, figures: Path, **extra) -> dict:
    offered = {"profile": "smoke", "figures_dir": str(figures), "data_dir": str(shared / "data"),
               "runs_dir": str(shared / "runs"), **extra}
    declared = pm.inspect_notebook(str(nb))
    return {k: v for k, v in offered.items() if k in declared}


@pytest.mark.slow
@pytest.mark.parametrize("nb", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_in_smoke_profile(nb, tmp_path, shared):
    figures = tmp_path / "figures"
    pm.execute_notebook(str(nb), str(tmp_path / nb.name), cwd=str(nb.parent.parent), progress_bar=False,
                        parameters=smoke_parameters(nb, shared, figures))
    pngs = list(figures.glob("*.png"))
    assert pngs, f"{nb.name} wrote no figure"
    assert all(p.stat().st_size > 5000 for p in pngs)


@pytest.mark.slow
def test_bad_parameter_fails_in_the_first_cell(tmp_path):
    nb = NOTEBOOKS[0]
    with pytest.raises(pm.PapermillExecutionError, match="notebook parameter profile='fast' is not allowed"):
        pm.execute_notebook(str(nb), str(tmp_path / nb.name), cwd=str(nb.parent.parent), progress_bar=False,
                            parameters={"profile": "fast", "figures_dir": str(tmp_path), "data_dir": str(tmp_path)})


@pytest.mark.slow
def test_redrawing_without_runs_names_the_missing_run(tmp_path):
    nb = next(p for p in NOTEBOOKS if p.name.startswith("02"))
    with pytest.raises(pm.PapermillExecutionError, match="no finished run in .*fer_gcn"):
        pm.execute_notebook(str(nb), str(tmp_path / nb.name), cwd=str(nb.parent.parent), progress_bar=False,
                            parameters=smoke_parameters(nb, tmp_path, tmp_path / "figures", train=False))
