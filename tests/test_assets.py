"""A plain clone is complete: the real-face material ships in ``assets/`` with its licences, and
nothing the workbook runs reads a folder beside the repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferlib.assets import ASSETS, CANADA, LONDON, LONDON_MORE, VIDEOS, asset

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("folder", [LONDON, LONDON_MORE, CANADA, VIDEOS])
def test_each_asset_folder_carries_its_licence_and_is_attributed(folder: str) -> None:
    path = asset(folder)
    assert list(path.glob("LICENSE-*.txt")), f"{path} has no licence file"
    assert f"`{folder}/`" in (ASSETS / "README.md").read_text(), f"assets/README.md does not attribute {folder}/"


def test_london_folders_hold_disjoint_people_with_both_photos() -> None:
    ids = {}
    for folder in (LONDON, LONDON_MORE):
        neutral = {p.name.split("_")[0] for p in asset(folder, "neutral_front").glob("*.jpg")}
        smiling = {p.name.split("_")[0] for p in asset(folder, "smiling_front").glob("*.jpg")}
        assert neutral == smiling, folder
        ids[folder] = neutral
    assert (len(ids[LONDON]), len(ids[LONDON_MORE])) == (20, 41)
    assert not ids[LONDON] & ids[LONDON_MORE]


def test_a_missing_asset_names_the_path() -> None:
    with pytest.raises(FileNotFoundError, match="no_such_folder"):
        asset("no_such_folder")


def test_nothing_the_workbook_runs_reads_beside_the_repository() -> None:
    sources = [*REPO.joinpath("ferlib").rglob("*.py"), *REPO.joinpath("benchmarks").glob("*.py"),
               *REPO.joinpath("notebooks").glob("*.ipynb"), REPO / "Makefile", REPO / "README.md"]
    leaks = [str(p.relative_to(REPO)) for p in sources if "../shared" in p.read_text(encoding="utf-8")
             or '"shared" / "fixtures"' in p.read_text(encoding="utf-8")]
    assert not leaks, f"these read ../shared, which a clone does not have: {leaks}"
