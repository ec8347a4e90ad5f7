"""README.md shows import paths that work and a layout that names the whole package."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()
FENCE = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
BLOCKS = FENCE.findall(README)


def import_statements(text: str) -> list[str]:
    """``from ferlib… import …`` and ``import ferlib…`` statements of ``text`` (a parenthesised
    import spanning lines is joined into one)."""
    out, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        line = lines[i].split("#")[0].strip()
        if re.match(r"(from\s+ferlib(\.\w+)*\s+import\s|import\s+ferlib(\.\w+)*(\s|,|$))", line):
            while line.count("(") > line.count(")") and i + 1 < len(lines):
                i += 1
                line += " " + lines[i].split("#")[0].strip()
            out.append(line)
        i += 1
    return out


def dotted_names(text: str) -> list[str]:
    """Every ``ferlib.a.b`` the text names (in prose, inline code or code blocks)."""
    return sorted({m.rstrip(".") for m in re.findall(r"\bferlib(?:\.[A-Za-z_]\w*)+", text)})


def resolve(name: str) -> object:
    """The module or attribute ``name`` names: the longest importable module prefix, then attributes."""
    parts = name.split(".")
    for k in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:k]))
        except ModuleNotFoundError:
            continue
        for attr in parts[k:]:
            obj = getattr(obj, attr)
        return obj
    raise ModuleNotFoundError(name)


IMPORTS = [s for block in BLOCKS for s in import_statements(block)]


def test_the_readme_shows_ferlib_imports():
    assert len(IMPORTS) >= 3, IMPORTS  # the JupyterLab section's example at least
    assert import_statements("x = 1\nfrom ferlib.viz.results import (a,\n    b)  # c\nimport ferlib\n") == \
        ["from ferlib.viz.results import (a, b)", "import ferlib"]


@pytest.mark.parametrize("statement", IMPORTS)
def test_every_import_in_a_code_block_works(statement):
    exec(statement, {})  # noqa: S102 - the README's own import line


@pytest.mark.parametrize("name", dotted_names(README))
def test_every_dotted_ferlib_name_resolves(name):
    try:
        resolve(name)
    except (ImportError, AttributeError) as e:
        pytest.fail(f"README.md names {name}, which does not exist: {e}")


def test_resolve_fails_on_a_wrong_name():
    with pytest.raises(AttributeError):
        resolve("ferlib.viz.results.no_such_figure")
    with pytest.raises(ModuleNotFoundError):
        resolve("ferlibx.viz")


@pytest.mark.parametrize("module", sorted({m for b in BLOCKS for m in re.findall(r"python -m (ferlib[\w.]*)", b)}))
def test_every_python_dash_m_module_exists(module):
    assert importlib.util.find_spec(module) is not None, f"README.md runs `python -m {module}`, which does not exist"


def test_the_layout_section_names_every_module_and_subpackage():
    section = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    layout = FENCE.findall(section)[0]
    pkg = REPO / "ferlib"
    wanted = [f"{p.name}/" for p in sorted(pkg.iterdir()) if (p / "__init__.py").is_file()]
    wanted += [p.name for p in sorted(pkg.glob("*.py")) if p.name not in ("__init__.py", "__main__.py")]
    missing = [w for w in wanted if not re.search(rf"(^|\s){re.escape(w)}(\s|$)", layout, re.M)]
    assert not missing, f"the README's layout section does not name {missing}"
