"""The papers' tables and figures: one list in the method specs, the README's table written from it,
and every file an item claims present in figures/."""

from __future__ import annotations

import pytest

from ferlib.gallery import FIGURES, README, _block, missing_files, paper_items, render
from ferlib.gallery_runs import FOLDER, made_from, make_gallery, planned_files, store_name
from ferlib.models.registry import GALLERY, PaperItem


def test_the_four_papers_have_39_items_each_once():
    items = paper_items()
    assert len(items) == 39
    assert not items.duplicated(["paper", "item"]).any()
    assert items.groupby("paper").size().sort_values().tolist() == [2, 5, 10, 22]


def test_every_claimed_file_is_in_figures_and_the_readme_agrees():
    items = paper_items()
    missing = [m for m in missing_files(items) if f": {FOLDER}/" not in m]  # the gallery run's files: the next test
    assert missing == []
    assert _block(README.read_text(encoding="utf-8")) == render(items), "run python -m ferlib.gallery"


def test_the_gallery_runs_files_are_in_figures_once_it_has_run():
    """The gallery run's files are made by `make demo` (not committed with the code): skipped until
    `python -m ferlib.gallery --make` has written figures/gallery/, then every claimed file is there."""
    if not (FIGURES / FOLDER).is_dir():
        pytest.skip(f"{FIGURES / FOLDER} does not exist: run `python -m ferlib.gallery --make` (a step of make demo)")
    assert [m for m in missing_files(paper_items()) if f": {FOLDER}/" in m] == []


def test_every_item_the_gallery_makes_has_a_producer():
    items = paper_items()
    made = items[items["maker"].str.startswith(GALLERY)]
    assert len(made) >= 11 and made["made"].all()
    planned = set(planned_files())
    unplanned = [f"{r.paper} {r.item}: {f}" for r in made.itertuples() for f in r.files if f not in planned]
    assert unplanned == [], "claimed files the gallery run does not write"
    elsewhere = [f"{r.paper} {r.item}" for r in items.itertuples() if r.maker and not r.maker.startswith(GALLERY)
                 and any(f.startswith(f"{FOLDER}/") for f in r.files)]
    assert elsewhere == [], "files in figures/gallery/ claimed by an item the gallery run does not make"


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


def _says(folder, name: str, what: str) -> None:
    """The Markdown's first line and every CSV row say ``what`` the file was made from."""
    import pandas as pd

    assert what in (folder / f"{name}.md").read_text().splitlines()[0], name
    assert (pd.read_csv(folder / f"{name}.csv")["made from"].str.contains(what)).all(), name


def test_a_smoke_gallery_run_on_one_layout_writes_its_files_saying_what_they_are_from(tmp_path, monkeypatch):
    """Export → reproduce → the files, on MMI's layout (one method); a second call reads the run back."""
    monkeypatch.chdir(tmp_path)
    times = make_gallery("smoke", tmp_path / "figs", tmp_path / "work", layouts=["mmi", "dfew"], echo=lambda s: None)
    out = tmp_path / "figs" / FOLDER
    expected = planned_files(["mmi", "dfew"])
    assert sorted(str(p.relative_to(tmp_path / "figs")) for p in out.iterdir()) == sorted(expected)
    for name in ("fer_gcn_mmi_per_class", "fer_gcn_mmi_vs_paper", "dataset_sizes"):
        _says(out, name, "generated")
    _says(out, "fer_gcn_mmi_per_class", "generated, MMI layout, smoke profile")
    assert list(times.index) == ["mmi", "dfew", "(all)"] and times.loc["mmi", "fer_gcn (s)"] > 0
    sizes = __import__("pandas").read_csv(out / "dataset_sizes.csv", index_col=0)
    assert sizes.loc["dfew", "folds"] == 5 and sizes.loc["dfew", "paper: training clips"] == 9400
    fold = next((tmp_path / "work" / "runs" / "mmi" / "fer_gcn").glob("full@smoke/*/metrics.json"))
    stamp = fold.stat().st_mtime_ns
    make_gallery("smoke", tmp_path / "again", tmp_path / "work", layouts=["mmi"], echo=lambda s: None)
    assert fold.stat().st_mtime_ns == stamp  # the finished run is read back, not trained again
    _says(tmp_path / "again" / FOLDER, "fer_gcn_mmi_per_class", "generated, MMI layout, smoke profile")


def test_a_copy_has_its_own_store_and_runs_and_its_files_say_real_data(tmp_path):
    assert store_name("afew") == "afew" and store_name("afew", tmp_path).startswith("afew-real-")
    assert store_name("afew", tmp_path / "a") != store_name("afew", tmp_path / "b")
    assert made_from("ferv39k", "demo") == "generated, FERV39k layout, demo profile"
    assert made_from("oulu", "demo", real=True) == "real data, Oulu-CASIA copy, demo profile"


@pytest.mark.slow
def test_a_smoke_gallery_run_on_a_copy_says_real_data(tmp_path, monkeypatch):
    """A copy given with ``roots`` (here an MMI-layout export standing in for one) is run into its
    own store and labelled real data; the generated run beside it is not read back for it."""
    from ferlib.synth import SynthConfig, generate
    from ferlib.synth.export import export_layout

    monkeypatch.chdir(tmp_path)
    store = generate(tmp_path / "synth", SynthConfig(n_subjects=5, n_frames=8, side=64, seed=3, course="lab-return"),
                     progress=False)
    export_layout(store, tmp_path / "MMI", "mmi")
    make_gallery("smoke", tmp_path / "figs", tmp_path / "work", roots={"mmi": tmp_path / "MMI"}, layouts=["mmi"],
                 echo=lambda s: None)
    _says(tmp_path / "figs" / FOLDER, "fer_gcn_mmi_per_class", "real data, MMI copy, smoke profile")
    assert [p.name for p in (tmp_path / "work" / "stores").iterdir()] == [store_name("mmi", tmp_path / "MMI")]
    assert not (tmp_path / "work" / "exports").exists()  # a copy is not exported


def test_bad_gallery_input_is_named_before_anything_is_written(tmp_path):
    with pytest.raises(ValueError, match="gallery profile 'paper': expected one of"):
        make_gallery("paper", tmp_path / "f", tmp_path / "w")
    with pytest.raises(ValueError, match="the gallery has no layout 'ckplus'"):
        make_gallery("smoke", tmp_path / "f", tmp_path / "w", layouts=["ckplus"])
    with pytest.raises(FileNotFoundError, match=r"--root afew=.*nowhere: not a folder"):
        make_gallery("smoke", tmp_path / "f", tmp_path / "w", roots={"afew": tmp_path / "nowhere"})
    with pytest.raises(ValueError, match="runs no data set 'ckplus'"):
        make_gallery("smoke", tmp_path / "f", tmp_path / "w", roots={"ckplus": tmp_path})
    assert list(tmp_path.iterdir()) == []
