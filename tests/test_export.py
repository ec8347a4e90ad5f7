"""The generated set written in each real data set's layout is indexed by that data set's adapter
with every clip, its class, and its split or fold, as a real copy would be."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ferlib.data.adapters import load_index
from ferlib.synth import SynthConfig, generate
from ferlib.synth.export import LAYOUTS, _WRITERS, export_layout

FRAMES = 4


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """10 subjects × 8 classes (with neutral and contempt), 4 frames of 32 px."""
    return generate(tmp_path_factory.mktemp("export") / "synth",
                    SynthConfig(n_subjects=10, n_frames=FRAMES, side=32, seed=3, include_neutral=True), progress=False)


OPTIONS = {"affwild2": {"window": FRAMES}}  # one window a clip: the generated clips are shorter than 45 frames


@pytest.mark.parametrize("layout", LAYOUTS)
def test_each_layout_is_indexed_with_every_clip_and_its_class(layout, store, tmp_path):
    keep = _WRITERS[layout][0]
    truth = Counter(str(n) for n in store.index().df["label_name"] if n in keep)
    written = export_layout(store, tmp_path / layout, layout)
    index = load_index(layout, tmp_path / layout, **OPTIONS.get(layout, {}))
    got = Counter(index.df["label_name"])
    if layout == "affwild2":  # the ST-GCN post's five classes; disgust and fear frames break runs
        truth = Counter({k: v for k, v in truth.items() if k in index.classes})
    assert written == sum(Counter(str(n) for n in store.index().df["label_name"] if n in keep).values())
    assert got == truth, f"{layout}: indexed {dict(got)}, wrote {dict(truth)}"


@pytest.mark.parametrize("layout", ["dfew", "mafw"])
def test_official_folds_test_each_clip_once_and_split_subjects(layout, store, tmp_path):
    export_layout(store, tmp_path / layout, layout)
    df = load_index(layout, tmp_path / layout).df
    assert sorted(df["fold"].unique().tolist()) == [1, 2, 3, 4, 5]
    assert df["clip_id"].is_unique
    # two of the ten generated subjects a fold: each fold tests the 8 (or 7) classes of 2 people
    assert df.groupby("fold").size().nunique() == 1


@pytest.mark.parametrize("layout,column,held", [("afew", "split", "val"), ("ferv39k", "split", "test"),
                                                ("affwild2", "split", "val")])
def test_train_and_held_out_splits_take_whole_subjects(layout, column, held, store, tmp_path):
    export_layout(store, tmp_path / layout, layout)
    df = load_index(layout, tmp_path / layout, **OPTIONS.get(layout, {})).df
    share = (df[column] == held).mean()
    assert 0.1 < share < 0.3, f"{layout}: {share:.2f} of the clips are {held}"


def test_subject_layouts_keep_the_generated_people(store, tmp_path):
    for layout in ("ckplus", "oulu", "mmi"):
        export_layout(store, tmp_path / layout, layout)
        assert load_index(layout, tmp_path / layout).df["subject"].nunique() == 10, layout


def test_export_refuses_an_unknown_layout_and_a_used_folder(store, tmp_path):
    with pytest.raises(ValueError, match="unknown layout 'casme'"):
        export_layout(store, tmp_path / "x", "casme")
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "file").write_text("")
    with pytest.raises(ValueError, match="is not empty"):
        export_layout(store, tmp_path / "used", "dfew")
