"""Each real layout as distributed, and the renamed copies the field's code expects, indexed
without options (replicas with tiny real media from :mod:`replicas`)."""

from __future__ import annotations

import csv
import warnings

import pytest

from ferlib.data.adapters import load_index
from ferlib.data.adapters.base import LeftOutWarning
from ferlib.options import parse_key_value
from replicas import AFEW_VARIANTS, AFFWILD2_RELEASES, make_affwild2, make_afew, make_dfew_authors, make_mmi


def _quiet(name, root, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LeftOutWarning)
        return load_index(name, root, **kw)


def test_mmi_as_distributed_reads_the_emotion_metatag_and_keeps_only_frontal_views(tmp_path):
    truth = make_mmi(tmp_path)
    with pytest.warns(LeftOutWarning, match=r"mmi: 1 clip\(s\) .* left out .*unknown emotion code 7"):
        index = load_index("mmi", tmp_path)
    got = index.df.set_index("clip_id")
    assert got["label_name"].to_dict() == truth  # profile (1), dual (2), AU-only and code 7 are not rows
    assert got["subject"].tolist() == ["S001", "S001", "S005"] and set(got["view"]) == {"frontal"}
    assert got.loc["1766", "source"].endswith("1766/S001-066.avi")
    assert [r["clip_id"] for r in index.left_out] == ["1804"] and "S006-004.xml" in index.left_out[0]["reason"]
    every = _quiet("mmi", tmp_path, view=None)
    assert sorted(every.df["view"]) == ["frontal", "frontal", "frontal", "frontal and profile", "profile"]


def test_mmi_options_from_the_command_line_text(tmp_path):
    make_mmi(tmp_path)
    opts = dict(parse_key_value(t) for t in ("view=profile", "emotion_codes={1: anger, 2: disgust, 7: fear}",
                                             "parse=ferlib.data.adapters.mmi:parse_session_xml"))
    index = load_index("mmi", tmp_path, **opts)
    assert index.df.set_index("clip_id")["label_name"].to_dict() == {"1801": "disgust"}
    with pytest.raises(ValueError, match=r"parse='nowhere:nothing': expected a function"):
        load_index("mmi", tmp_path, parse="nowhere:nothing")


@pytest.mark.parametrize("variant", sorted(AFEW_VARIANTS))
def test_afew_distributed_and_renamed_copies_index_every_clip(tmp_path, variant):
    truth = make_afew(tmp_path, variant)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # both splits found, the stray feature folder ignored: no warning
        index = load_index("afew", tmp_path)
    got = index.df.set_index("clip_id")
    assert got["label_name"].to_dict() == truth
    assert sorted(set(got["split"])) == ["train", "val"] and (got["split"] == "val").sum() == 6
    assert not any("AlignedFaces" in s for s in got["source"])


@pytest.mark.parametrize("release", sorted(AFFWILD2_RELEASES))
def test_affwild2_releases_index_every_window(tmp_path, release):
    truth = make_affwild2(tmp_path, release)
    index = load_index("affwild2", tmp_path, window=3)
    got = index.df.set_index("clip_id")
    assert got["label_name"].to_dict() == truth
    assert got["split"].to_dict() == {"1-30-1280x720_000001": "train", "video2_000001": "train",
                                      "118-30-640x480_000001": "val"}
    assert got["source"].str.endswith(f"{AFFWILD2_RELEASES[release][2]}/video2").sum() == 1


@pytest.mark.parametrize("videos", [False, True])
def test_dfew_as_its_authors_code_lays_it_out(tmp_path, videos):
    truth = make_dfew_authors(tmp_path, videos=videos)
    index = load_index("dfew", tmp_path)
    got = index.df.set_index("clip_id")
    order = ("happy", "sad", "neutral", "anger", "surprise", "disgust", "fear")
    assert {c: (order.index(got.loc[c, "label_name"]) + 1, got.loc[c, "fold"]) for c in got.index} == truth
    assert all("/data/" in s for s in got["source"])


def test_preprocessing_lists_the_left_out_clips_in_the_store(tmp_path):
    from ferlib.preprocess.pipeline import write_left_out

    make_mmi(tmp_path / "MMI")
    index = _quiet("mmi", tmp_path / "MMI")
    path = write_left_out(index, tmp_path)
    rows = list(csv.DictReader(path.open()))
    assert [r["clip_id"] for r in rows] == ["1804"] and rows[0]["source"].endswith("S006-004.avi")
    index.left_out = []
    assert write_left_out(index, tmp_path) is None and not path.exists()  # a stale list never stays


def test_every_adapter_option_has_a_command_line_form():
    import inspect

    from ferlib.data.adapters import ADAPTERS, get_adapter

    for name in (n for n in ADAPTERS if n != "london"):
        for p in list(inspect.signature(get_adapter(name).builder).parameters.values())[1:]:
            ann = str(p.annotation)
            assert "Callable" not in ann or "str" in ann, f"{name}: option {p.name} ({ann}) has no text form"
