"""The papers' tables and figures: one list in the method specs, the README's table written from it,
and every file an item claims present in figures/."""

from __future__ import annotations

import pytest

from ferlib.gallery import README, _block, missing_files, paper_items, render
from ferlib.models.registry import PaperItem


def test_the_four_papers_have_39_items_each_once():
    items = paper_items()
    assert len(items) == 39
    assert not items.duplicated(["paper", "item"]).any()
    assert items.groupby("paper").size().sort_values().tolist() == [2, 5, 10, 22]


def test_every_claimed_file_is_in_figures_and_the_readme_agrees():
    items = paper_items()
    assert missing_files(items) == []
    assert _block(README.read_text(encoding="utf-8")) == render(items), "run python -m ferlib.gallery"


def test_an_item_says_what_it_is_and_what_makes_it():
    with pytest.raises(ValueError, match="kind 'chart' is not one of"):
        PaperItem("Fig. 9", "t-SNE", "chart")
    with pytest.raises(ValueError, match="names what makes it"):
        PaperItem("Table 9", "ablation", "table")
    with pytest.raises(ValueError, match="a diagram has no files"):
        PaperItem("Fig. 2", "architecture", "diagram", files=("x.png",))


def test_a_missing_file_is_named(tmp_path):
    items = paper_items()
    missing = missing_files(items, tmp_path)
    assert len(missing) == sum(len(f) for f in items["files"]) and "07_fer_gcn_intensity.png" in " ".join(missing)
