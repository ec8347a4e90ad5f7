"""Data-set adapters on tiny fake trees written in each data set's layout (zero-byte files where only paths matter)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from ferlib.data.adapters import ADAPTERS, LabelError, LayoutError, get_adapter, load_index
from ferlib.data.adapters.affwild2 import window_starts
from ferlib.data.adapters.base import natural_key
from ferlib.data.adapters.mmi import SessionMeta
from ferlib.data.protocols import PROTOCOLS, subject_overlap


def touch(path: Path, text: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- registry -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [n for n in ADAPTERS if n != "london"])
def test_every_adapter_has_classes_and_a_known_protocol(name):
    adapter = get_adapter(name)
    assert adapter.name == name
    assert len(set(adapter.classes)) == len(adapter.classes) >= 5
    assert adapter.protocol[0] in PROTOCOLS
    assert all(p in PROTOCOLS for p in adapter.other_protocols)


def test_registry_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        get_adapter("nope")
    with pytest.raises(LayoutError, match="is not a folder"):
        load_index("ckplus", tmp_path / "does-not-exist")
    with pytest.raises(ValueError, match=r"unknown override\(s\) \['colour'\]"):
        load_index("ckplus", tmp_path, colour="red")


def test_london_is_listed_and_lazily_loaded():
    assert "london" in ADAPTERS
    try:
        adapter = get_adapter("london")
    except ValueError as exc:  # the module is written elsewhere and may not be there yet
        assert "london" in str(exc)
        pytest.skip(f"london adapter not available: {exc}")
    assert adapter.name == "london" and set(adapter.classes) == {"neutral", "happy"}


# -- CK+ --------------------------------------------------------------------------------------
def make_ckplus(root: Path, n_subjects: int = 12) -> dict[str, str]:
    """Subjects S010, S020, …; 2 sequences each, the second unlabelled for odd subjects. Returns clip → label."""
    expected = {}
    for i in range(n_subjects):
        subject = f"S{10 * (i + 1):03d}"
        for s, seq in enumerate(("001", "002")):
            for f in range(1, 4 + s):
                touch(root / "cohn-kanade-images" / subject / seq / f"{subject}_{seq}_{f:08d}.png")
            if s == 1 and i % 2:
                continue
            code = 1 + (i + s) % 7
            touch(root / "Emotion" / subject / seq / f"{subject}_{seq}_{3 + s:08d}_emotion.txt", f"   {code:.7e}\n")
            expected[f"{subject}_{seq}"] = ("anger", "contempt", "disgust", "fear", "happy", "sad", "surprise")[code - 1]
    touch(root / "cohn-kanade-images" / ".DS_Store")
    return expected


def test_ckplus_index_labels_and_columns(tmp_path):
    expected = make_ckplus(tmp_path)
    index = load_index("ckplus", tmp_path)
    assert index.dataset == "ckplus"
    assert dict(zip(index.clip_ids, index.df["label_name"])) == expected
    assert len(index) == 18 and "S020_002" not in expected  # unlabelled sequences are left out
    got = index.df.set_index("clip_id")
    row = got.loc["S010_002"]
    assert row["subject"] == "S010" and row["n_frames"] == 4 and row["split"] == ""
    assert Path(row["source"]).is_absolute() and Path(row["source"]).name == "002"
    # CK+ numbering 1 = anger, 2 = contempt; label indexes BASIC7 (same order)
    assert (got.loc["S010_001", "label"], got.loc["S010_002", "label"]) == (0, 1)
    assert row["label_name"] == "contempt"


@pytest.mark.filterwarnings("ignore:The least populated class")
def test_ckplus_fan_folds_are_subject_independent(tmp_path):
    make_ckplus(tmp_path, n_subjects=12)
    adapter = get_adapter("ckplus")
    index = adapter.index(tmp_path)
    folds = adapter.splits(index)
    assert len(folds) == 10
    subjects = sorted(set(index.subjects))
    for f, split in enumerate(folds):
        assert not subject_overlap(index, split)
        assert set(index.subjects[split.test]) == {s for r, s in enumerate(subjects) if r % 10 == f}
    assert sorted(np.concatenate([s.test for s in folds]).tolist()) == list(range(len(index)))
    assert len(adapter.splits(index, "subject_kfold", k=3)) == 3


def test_ckplus_errors(tmp_path):
    with pytest.raises(LayoutError, match=r"cohn-kanade-images.*found in .*: \[\]"):
        load_index("ckplus", tmp_path)
    (tmp_path / "cohn-kanade-images" / "S005" / "001").mkdir(parents=True)
    (tmp_path / "Emotion").mkdir()
    with pytest.raises(LayoutError, match=r"Emotion/S\*/\*/\*_emotion.txt"):
        load_index("ckplus", tmp_path)
    bad = touch(tmp_path / "Emotion" / "S005" / "001" / "S005_001_00000003_emotion.txt", "8.0000000e+00")
    touch(tmp_path / "cohn-kanade-images" / "S005" / "001" / "S005_001_00000001.png")
    with pytest.raises(LabelError, match=rf"{bad.name}.*unknown label value 8"):
        load_index("ckplus", tmp_path)
    bad.write_text("3.0")
    touch(tmp_path / "Emotion" / "S006" / "001" / "S006_001_00000003_emotion.txt", "3.0")
    with pytest.raises(LayoutError, match=r"S006/001.*frame folder .* is missing"):
        load_index("ckplus", tmp_path)


# -- Oulu-CASIA ------------------------------------------------------------------------------
OULU_FOLDERS = ("Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise")


def make_oulu(root: Path, parts=(("VL", "Strong"), ("NI", "Dark")), n_subjects: int = 3) -> None:
    for mod, illum in parts:
        for p in range(1, n_subjects + 1):
            for emo in OULU_FOLDERS:
                for f in range(3):
                    touch(root / "OriginalImg" / mod / illum / f"P{p:03d}" / emo / f"{f:03d}.jpeg")


def test_oulu_default_is_vl_strong(tmp_path):
    make_oulu(tmp_path)
    index = load_index("oulu", tmp_path)
    assert len(index) == 18 and set(index.df["modality"]) == {"VL"} and set(index.df["illumination"]) == {"Strong"}
    row = index.df.set_index("clip_id").loc["VL_Strong_P002_Happiness"]
    assert row["label_name"] == "happy" and row["subject"] == "P002" and row["n_frames"] == 3
    assert index.class_counts().tolist() == [3] * 6


def test_oulu_parts_and_errors(tmp_path):
    make_oulu(tmp_path)
    with pytest.raises(LayoutError, match=r"NI/Strong part at .*OriginalImg/NI/Strong; found in .*NI: \['Dark/'\]"):
        load_index("oulu", tmp_path, modality=("VL", "NI"))
    assert len(load_index("oulu", tmp_path, modality="NI", illumination="Dark")) == 18
    touch(tmp_path / "OriginalImg" / "VL" / "Strong" / "P001" / "Boredom" / "000.jpeg")
    with pytest.raises(LabelError, match=r"Boredom.*unknown label 'Boredom'"):
        load_index("oulu", tmp_path)


def test_oulu_subject_kfold_needs_and_respects_subjects(tmp_path):
    make_oulu(tmp_path, parts=(("VL", "Strong"),), n_subjects=10)
    adapter = get_adapter("oulu")
    index = adapter.index(tmp_path)
    folds = adapter.splits(index)
    assert len(folds) == 10 and all(not subject_overlap(index, s) for s in folds)


# -- MMI ---------------------------------------------------------------------------------------
def mmi_session(root: Path, n: int, xml: str, video: str = "S001-001.avi") -> Path:
    touch(root / "Sessions" / str(n) / video)
    return touch(root / "Sessions" / str(n) / "session.xml", xml)


def test_mmi_parses_session_xml_variants(tmp_path):
    mmi_session(tmp_path, 2, '<?xml version="1.0"?><session sessionId="2" mediaFile="S001-002.avi"><subject id="1"/>'
                '<track view="Frontal"/><Metatag Name="Emotion" Value="4"/></session>', "S001-002.avi")
    mmi_session(tmp_path, 10, '<Session><Metatag name="emotion" value="6"/><Metatag name="Subject" value="S034"/></Session>', "S034-010.avi")
    mmi_session(tmp_path, 11, '<session><emotion>Sadness</emotion></session>', "S002-011.avi")  # subject from the video name
    mmi_session(tmp_path, 12, '<session><subject id="3"/><annotation type="FACS"/></session>', "S003-012.avi")  # AU only
    mmi_session(tmp_path, 13, '<session><subject id="3"/><track view="Profile"/><Metatag Name="Emotion" Value="1"/></session>', "S003-013.avi")
    index = load_index("mmi", tmp_path)
    got = index.df.set_index("clip_id")
    assert list(got.index) == ["2", "10", "11"]
    assert got["label_name"].tolist() == ["happy", "surprise", "sad"]
    assert got["subject"].tolist() == ["S001", "S034", "S002"]
    assert Path(got.loc["2", "source"]).name == "S001-002.avi"
    assert len(load_index("mmi", tmp_path, view=None)) == 4  # the profile session too


def test_mmi_errors_and_custom_parser(tmp_path):
    bad = mmi_session(tmp_path, 5, '<session><subject id="1"/><Metatag Name="Emotion" Value="9"/></session>')
    with pytest.raises(LayoutError, match=rf"no labelled clips.*1 clip\(s\) could not be labelled.*{bad}.*unknown emotion code 9"):
        load_index("mmi", tmp_path)  # an unknown code leaves its session out; with nothing else left, a layout error
    bad.write_text('<session><Metatag Name="Emotion" Value="2"/></session>')
    (bad.parent / "S001-001.avi").rename(bad.parent / "clip.avi")
    with pytest.raises(LayoutError, match="no subject id"):
        load_index("mmi", tmp_path)
    index = load_index("mmi", tmp_path, parse=lambda p: SessionMeta("disgust", "S077", None, None))
    assert index.df["subject"].tolist() == ["S077"] and index.df["label_name"].tolist() == ["disgust"]
    bad.write_text("<session><subject id='1'/></session>")
    with pytest.raises(LayoutError, match="no MMI session .* has an emotion label"):
        load_index("mmi", tmp_path)
    with pytest.raises(LayoutError, match="MMI session folders"):
        load_index("mmi", tmp_path / "Sessions")


# -- AFEW --------------------------------------------------------------------------------------
def test_afew_videos_and_frame_folders(tmp_path):
    touch(tmp_path / "Train" / "Angry" / "000046280.avi")
    touch(tmp_path / "Train" / "Happy" / "000123" / "001.jpg")
    touch(tmp_path / "Train" / "Happy" / "notes.txt")
    touch(tmp_path / "Val" / "Neutral" / "000149120.avi")
    adapter = get_adapter("afew")
    index = adapter.index(tmp_path)
    got = index.df.set_index("clip_id")
    assert sorted(got.index) == ["train_Angry_000046280", "train_Happy_000123", "val_Neutral_000149120"]
    assert got.loc["train_Happy_000123", "label_name"] == "happy" and got.loc["val_Neutral_000149120", "split"] == "val"
    assert (got.index == got["subject"]).all()  # AFEW has no subject ids
    (split,) = adapter.splits(index)
    assert index.df["clip_id"][split.test].tolist() == ["val_Neutral_000149120"]


def test_afew_same_file_name_in_two_expression_folders_gives_two_clips(tmp_path):
    touch(tmp_path / "Val" / "Happy" / "022.avi")
    touch(tmp_path / "Val" / "Neutral" / "022.avi")
    touch(tmp_path / "Train" / "Happy" / "022.avi")
    index = load_index("afew", tmp_path)
    got = dict(zip(index.clip_ids, index.df["source"]))
    assert got == {"train_Happy_022": str(tmp_path / "Train" / "Happy" / "022.avi"),
                   "val_Happy_022": str(tmp_path / "Val" / "Happy" / "022.avi"),
                   "val_Neutral_022": str(tmp_path / "Val" / "Neutral" / "022.avi")}


def test_afew_ids_that_still_collide_name_both_files(tmp_path):
    touch(tmp_path / "Val" / "Happy" / "022.avi")
    touch(tmp_path / "Val" / "Happy" / "022" / "001.jpg")  # the same clip as frames, beside the video
    touch(tmp_path / "Train" / "Sad" / "001.avi")
    with pytest.raises(LayoutError, match=r"'val_Happy_022' from \[.*Happy/022', .*Happy/022\.avi'\]"):
        load_index("afew", tmp_path)


def test_afew_indexes_whichever_splits_exist_and_says_so(tmp_path):
    touch(tmp_path / "Val" / "Happy" / "022.avi")
    touch(tmp_path / "Val" / "Sad" / "023.avi")
    with pytest.warns(UserWarning, match=r"only the split\(s\) found .*: val \(.*Val\); no folder for train: \['Train'"):
        index = load_index("afew", tmp_path)
    assert index.df["split"].tolist() == ["val", "val"] and len(index) == 2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        touch(tmp_path / "Train" / "Sad" / "001.avi")
        assert len(load_index("afew", tmp_path)) == 3  # both splits: no warning


def test_afew_errors(tmp_path):
    touch(tmp_path / "Test" / "x.avi")
    with pytest.raises(LayoutError, match=r"AFEW split folder .* at one of .*Train_AFEW.*Val_AFEW.*; found in .*: \['Test/'\].*split_dirs="):
        load_index("afew", tmp_path)
    touch(tmp_path / "Train" / "Angry" / "a.avi")
    with pytest.raises(LayoutError, match=r"AFEW val split .* at one of .*Val_Special.*split_dirs="):
        load_index("afew", tmp_path, split_dirs={"train": "Train", "val": "Val_Special"})  # named splits must exist
    touch(tmp_path / "Val" / "Bored" / "b.avi")
    with pytest.raises(LabelError, match="Bored"):
        load_index("afew", tmp_path)
    assert len(load_index("afew", tmp_path, split_dirs={"train": "Train"})) == 1


# -- DFEW --------------------------------------------------------------------------------------
def make_dfew(root: Path, n: int = 10, header: bool = True, videos: bool = False) -> dict[str, tuple[int, int]]:
    """Clips 1..n, clip i in test fold 1 + (i-1) % 5, label code 1 + (i-1) % 7. Returns clip → (code, fold)."""
    truth = {f"{i:05d}": (1 + (i - 1) % 7, 1 + (i - 1) % 5) for i in range(1, n + 1)}
    split_dir = root / "EmoLabel_DataSplit"
    for k in range(1, 6):
        for kind in ("train", "test"):
            rows = [(int(c), code) for c, (code, fold) in truth.items() if (fold == k) == (kind == "test")]
            lines = (["video_name,label"] if header else []) + [f"{c},{code}" for c, code in rows]
            touch(split_dir / f"{kind}(single-labeled)" / f"set_{k}.csv", "\n".join(lines) + "\n")
    for c in truth:
        if videos:
            touch(root / "Clip" / "original" / "part_1" / f"{c}.mp4")
        else:
            touch(root / "Clip" / "clip_224x224" / c / f"{c}_00001.jpg")
    return truth


def test_dfew_folds_and_labels(tmp_path):
    truth = make_dfew(tmp_path)
    adapter = get_adapter("dfew")
    index = adapter.index(tmp_path)
    got = index.df.set_index("clip_id")
    assert sorted(got.index) == sorted(truth)
    dfew_order = ("happy", "sad", "neutral", "anger", "surprise", "disgust", "fear")
    for clip, (code, fold) in truth.items():
        assert got.loc[clip, "fold"] == fold and got.loc[clip, "label_name"] == dfew_order[code - 1]
    assert got.loc["00004", "label_name"] == "anger" and got.loc["00004", "label"] == 3
    folds = adapter.splits(index)
    assert [len(s.test) for s in folds] == [2] * 5 and all(len(s.train) == 8 for s in folds)
    assert Path(got.loc["00001", "source"]).parent.name == "clip_224x224"


def test_dfew_headerless_csv_and_videos(tmp_path):
    truth = make_dfew(tmp_path, header=False, videos=True)
    index = load_index("dfew", tmp_path)
    assert len(index) == len(truth)
    assert index.df["source"].str.endswith(".mp4").all()


def test_dfew_two_videos_of_one_clip_number_are_named(tmp_path):
    make_dfew(tmp_path, videos=True)
    touch(tmp_path / "Clip" / "original" / "part_2" / "00003.mp4")
    with pytest.raises(LayoutError, match=r"clip '00003' matches more than one video .*part_1/00003.mp4.*part_2/00003.mp4"):
        load_index("dfew", tmp_path)
    # a frame folder beside the video of the same clip is the clip (frame folders are preferred)
    (tmp_path / "Clip" / "original" / "part_2" / "00003.mp4").unlink()
    touch(tmp_path / "Clip" / "original" / "part_1" / "00003" / "00003_00001.jpg")
    got = load_index("dfew", tmp_path).df.set_index("clip_id")
    assert got.loc["00003", "source"] == str(tmp_path / "Clip" / "original" / "part_1" / "00003")


def test_dfew_errors(tmp_path):
    with pytest.raises(LayoutError, match="EmoLabel_DataSplit"):
        load_index("dfew", tmp_path)
    make_dfew(tmp_path)
    bad = tmp_path / "EmoLabel_DataSplit" / "test(single-labeled)" / "set_2.csv"
    bad.write_text("video_name,label\n2,8\n")
    with pytest.raises(LabelError, match=r"set_2.csv line 2: unknown label value 8"):
        load_index("dfew", tmp_path)
    bad.write_text("video_name,label\n2,2\n1,1\n")
    with pytest.raises(ValueError, match="'00001' is in the test lists of fold 1 .* and fold 2"):
        load_index("dfew", tmp_path)
    bad.write_text("clip,emotion\n2,2\n")
    with pytest.raises(LayoutError, match=r"expected columns 'video_name' and 'label'.*\['clip', 'emotion'\]"):
        load_index("dfew", tmp_path)
    bad.write_text("video_name,label\n2,2\n7,7\n")
    (tmp_path / "Clip" / "clip_224x224" / "00007" / "00007_00001.jpg").unlink()
    (tmp_path / "Clip" / "clip_224x224" / "00007").rmdir()
    with pytest.raises(LayoutError, match=r"1 of 10 DFEW clips .* no clip file, e.g. \['00007'\]"):
        load_index("dfew", tmp_path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert len(load_index("dfew", tmp_path, allow_missing=True)) == 9
    assert any("00007" in str(w.message) for w in caught)
    (tmp_path / "EmoLabel_DataSplit" / "train(single-labeled)" / "set_5.csv").unlink()
    with pytest.raises(LayoutError, match=r"DFEW split file at .*train\(single-labeled\)/set_5.csv"):
        load_index("dfew", tmp_path)


# -- FERV39k -------------------------------------------------------------------------------------
def make_ferv39k(root: Path, header: bool = False) -> None:
    clips = {
        "train": [("Action/Sad/0010", "Sad"), ("Action/Happy/0003", "Happy"), ("DailyLife/Angry/0001", "Angry")],
        "test": [("Interview/Neutral/0042", "Neutral"), ("Action/Fear/0007", "Fear")],
    }
    for split, rows in clips.items():
        lines = (["name label"] if header else []) + [f"{p} {lab}" for p, lab in rows]
        touch(root / "4_setups" / "All_scenes" / f"{split}_All.csv", "\n".join(lines) + "\n")
        for p, _ in rows:
            touch(root / "2_ClipsforFaceCrop" / p / "0.jpg")


def test_ferv39k_scene_split_and_header(tmp_path):
    make_ferv39k(tmp_path, header=True)
    adapter = get_adapter("ferv39k")
    index = adapter.index(tmp_path)
    got = index.df.set_index("clip_id")
    assert got.loc["Action_Sad_0010", "scene"] == "Action" and got.loc["Action_Sad_0010", "label_name"] == "sad"
    assert got.loc["DailyLife_Angry_0001", "label_name"] == "anger"
    assert sorted(got.index[got["split"] == "test"]) == ["Action_Fear_0007", "Interview_Neutral_0042"]
    assert got.loc["Interview_Neutral_0042", "source"].endswith("2_ClipsforFaceCrop/Interview/Neutral/0042")
    (split,) = adapter.splits(index)
    assert len(split.train) == 3 and len(split.test) == 2


def test_ferv39k_errors(tmp_path):
    with pytest.raises(LayoutError, match=r"split file train_All.csv at one of .*4_setups/All_scenes/train_All.csv"):
        load_index("ferv39k", tmp_path)
    make_ferv39k(tmp_path)
    bad = tmp_path / "4_setups" / "All_scenes" / "test_All.csv"
    bad.write_text("Action/Fear/0007 Fear\nAction/Fear/0008 Bored\n")
    with pytest.raises(LabelError, match=r"test_All.csv line 2: unknown label 'Bored'"):
        load_index("ferv39k", tmp_path)
    bad.write_text("Action/Fear/0009 Fear\n")
    with pytest.raises(LayoutError, match=r"Action/Fear/0009"):
        load_index("ferv39k", tmp_path)


# -- MAFW --------------------------------------------------------------------------------------
MAFW_NAMES = ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise",
              "contempt", "anxiety", "helplessness", "disappointment")


def make_mafw(root: Path, n: int = 11) -> dict[str, tuple[str, int]]:
    truth = {f"{i:05d}": (MAFW_NAMES[(i - 1) % 11], 1 + (i - 1) % 5) for i in range(1, n + 1)}
    base = root / "Train & Test Set" / "single" / "no_caption"
    for k in range(1, 6):
        for kind in ("train", "test"):
            lines = [f"{c}.mp4 {lab}" for c, (lab, fold) in truth.items() if (fold == k) == (kind == "test")]
            touch(base / f"set_{k}" / f"{kind}.txt", "\n".join(lines) + "\n")
    for c in truth:
        touch(root / "data" / "clips" / f"{c}.mp4")
    return truth


def test_mafw_folds_and_eleven_classes(tmp_path):
    truth = make_mafw(tmp_path)
    adapter = get_adapter("mafw")
    index = adapter.index(tmp_path)
    got = index.df.set_index("clip_id")
    assert len(adapter.classes) == 11 and set(got["label_name"]) == set(adapter.classes)
    assert got.loc["00004", "label_name"] == "happy" and got.loc["00010", "label_name"] == "helplessness"
    assert got.loc["00010", "label"] == 9
    assert all(got.loc[c, "fold"] == f for c, (_, f) in truth.items())
    assert [len(s.test) for s in adapter.splits(index)] == [3, 2, 2, 2, 2]


def test_mafw_errors(tmp_path):
    with pytest.raises(LayoutError, match=r"MAFW's split lists \(set_1/test.txt\)"):
        load_index("mafw", tmp_path)
    make_mafw(tmp_path)
    bad = tmp_path / "Train & Test Set" / "single" / "no_caption" / "set_3" / "test.txt"
    bad.write_text("00003.mp4 fear\n00008.mp4 boredom\n")
    with pytest.raises(LabelError, match=r"set_3/test.txt line 2: unknown label 'boredom'"):
        load_index("mafw", tmp_path)
    bad.write_text("00003.mp4 3\n00008.mp4 8\n")
    with pytest.raises(LabelError, match=r"numeric label '3'; .* pass codes="):
        load_index("mafw", tmp_path)
    bad.write_text("00003.mp4 fear\n00008.mp4 surprise\n")
    with pytest.raises(LabelError, match=r"'00008' is labelled 'surprise' in .* but 'contempt' in .*set_1/train.txt"):
        load_index("mafw", tmp_path)


# -- Aff-Wild2 ---------------------------------------------------------------------------------
HEADER = "Neutral,Anger,Disgust,Fear,Happiness,Sadness,Surprise,Other"


def make_affwild2(root: Path, codes: list[int], video: str = "10-60-1280x720", split: str = "Train_Set",
                  skip_frames: tuple[int, ...] = (), header: bool = True) -> None:
    lines = ([HEADER] if header else []) + [str(c) for c in codes]
    touch(root / "EXPR_Set" / split / f"{video}.txt", "\n".join(lines) + "\n")
    for f in range(1, len(codes) + 1):
        if f not in skip_frames:
            touch(root / "cropped_aligned" / video / f"{f:05d}.jpg")


def test_window_starts_by_hand():
    labels = np.array([0, 0, 0, 0, 0, 1, 1, 1, -1, -1, 2, 2, 2, 2])
    assert window_starts(labels, 3, 3).tolist() == [0, 5, 10]
    assert window_starts(labels, 3, 1).tolist() == [0, 1, 2, 5, 10, 11]
    assert window_starts(labels, 6, 6).tolist() == []
    assert window_starts(np.full(4, -1), 2, 2).tolist() == []


def test_affwild2_windows_of_one_label(tmp_path):
    # frames 1-9 neutral (0), 10-13 disgust (2, not kept), 14-21 happy (4), 22 invalid, 23-26 sad (5)
    codes = [0] * 9 + [2] * 4 + [4] * 8 + [-1] + [5] * 4
    make_affwild2(tmp_path, codes, skip_frames=(3,))
    make_affwild2(tmp_path, [6] * 4, video="video2_left", split="Validation_Set", header=False)
    adapter = get_adapter("affwild2")
    index = adapter.index(tmp_path, window=4)
    got = index.df.set_index("clip_id")
    train = got[got["split"] == "train"]
    # frame 3 has no image: neutral runs are 1-2 (too short) and 4-9 → one window 4-7
    assert train["first_frame"].tolist() == [4, 14, 18, 23]
    assert train["label_name"].tolist() == ["neutral", "happy", "happy", "sad"]
    assert got.loc["video2_left_000001", "label_name"] == "surprise" and got.loc["video2_left_000001", "split"] == "val"
    assert (got["frame_stop"] - got["frame_start"] == 4).all() and (got["n_frames"] == 4).all()
    assert (train["subject"] == "10-60-1280x720").all()
    # frame_start/stop slice the folder's frames (frame 3 missing) to exactly the window's frames
    for _, row in train.iterrows():
        frames = sorted(Path(row["source"]).iterdir(), key=natural_key)[row["frame_start"]:row["frame_stop"]]
        assert [int(p.stem) for p in frames] == list(range(row["first_frame"], row["first_frame"] + 4))
    (split,) = adapter.splits(index)
    assert len(split.test) == 1 and len(split.train) == 4
    assert len(adapter.index(tmp_path, window=4, stride=2)) == 1 + 1 + 3 + 1 + 1
    assert len(adapter.index(tmp_path, window=4, max_windows_per_video=2)) == 3


def test_affwild2_errors(tmp_path):
    with pytest.raises(LayoutError, match="cropped_aligned"):
        load_index("affwild2", tmp_path)
    make_affwild2(tmp_path, [0, 0, 9, 0])
    make_affwild2(tmp_path, [0, 0], video="v2", split="Validation_Set")
    with pytest.raises(LabelError, match=r"10-60-1280x720.txt line 4: unknown label value 9"):
        load_index("affwild2", tmp_path, window=2)
    make_affwild2(tmp_path, [0, 0, 1, 1])
    touch(tmp_path / "EXPR_Set" / "Train_Set" / "no_frames.txt", HEADER + "\n0\n")
    with pytest.raises(LayoutError, match=r"1 of 3 Aff-Wild2 videos .* \['no_frames'\]"):
        load_index("affwild2", tmp_path, window=2)
    with pytest.raises(ValueError, match="window and stride must be positive"):
        load_index("affwild2", tmp_path, window=0)


def test_mmi_view_filter(tmp_path):
    mmi_session(tmp_path, 1, '<session><subject id="1"/><track view="Profile"/><Metatag Name="Emotion" Value="1"/></session>')
    with pytest.raises(LayoutError, match="all 1 labelled MMI sessions .* view other than 'frontal'; pass view=None"):
        load_index("mmi", tmp_path)
    mmi_session(tmp_path, 2, '<session><subject id="2"/><track view="0"/><Metatag Name="Emotion" Value="3"/></session>', "S002-002.avi")
    index = load_index("mmi", tmp_path)  # a numeric view code is not interpreted: kept
    assert index.clip_ids == ["2"] and index.df["label_name"].tolist() == ["fear"]


def test_ckplus_nested_label_folder(tmp_path):
    make_ckplus(tmp_path, n_subjects=2)
    (tmp_path / "Emotion_labels").mkdir()
    (tmp_path / "Emotion").rename(tmp_path / "Emotion_labels" / "Emotion")
    assert len(load_index("ckplus", tmp_path)) == 3
    with pytest.raises(LayoutError, match=r"CK\+ label folders at .*/Labels"):
        load_index("ckplus", tmp_path, labels_dir="Labels")
