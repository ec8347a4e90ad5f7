"""pyproject.toml and environment.yml must list the same dependencies."""

import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")


def _norm(req: str) -> str:
    return req.replace(" ", "").lower()


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_norm(r) for r in project["dependencies"]}
    for extra in project["optional-dependencies"].values():
        wanted |= {_norm(r) for r in extra}
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    have = {_norm(r) for r in pip_section}
    assert have == wanted, f"only in environment.yml: {sorted(have - wanted)}; only in pyproject: {sorted(wanted - have)}"


def test_torch_is_not_pinned_to_one_version():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    torch_req = next(r for r in project["dependencies"] if r.startswith("torch>") or r.startswith("torch="))
    assert "==" not in torch_req


def test_seaborn_and_jupyterlab_are_installed_by_the_standard_set_up():
    """The figures draw with seaborn and the notebooks open in JupyterLab: both come with a plain
    ``pip install -e .`` (and ``make install``), not only with an extra."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    names = {_norm(r).split(">")[0].split("=")[0].split("<")[0].split("!")[0] for r in project["dependencies"]}
    assert {"seaborn", "jupyterlab", "matplotlib", "ipykernel"} <= names
    assert "lab" not in project["optional-dependencies"]
