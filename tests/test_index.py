import pandas as pd
import pytest

from ferlib.data import ClipIndex, canonical_class, safe_clip_id
from ferlib.data.labels import class_index


def _records():
    return [
        {"clip_id": "a1", "label_name": "happy", "subject": "1", "source": "x"},
        {"clip_id": "a2", "label_name": "sad", "subject": "2", "source": "y", "fold": 1},
    ]


def test_from_records_and_csv_roundtrip(tmp_path):
    idx = ClipIndex.from_records(_records(), ("happy", "sad"), "toy")
    assert idx.labels.tolist() == [0, 1] and idx.class_counts().tolist() == [1, 1]
    idx.to_csv(tmp_path / "i.csv")
    back = ClipIndex.from_csv(tmp_path / "i.csv")
    assert back.classes == ("happy", "sad") and back.dataset == "toy"
    assert back.df["subject"].tolist() == ["1", "2"]


def test_validation_errors():
    with pytest.raises(ValueError, match="missing columns"):
        ClipIndex(pd.DataFrame({"clip_id": ["a"]}), ("x",))
    with pytest.raises(ValueError, match="unknown class 'angry'"):
        ClipIndex.from_records([{"clip_id": "a", "label_name": "angry", "subject": "1", "source": "x"}], ("happy",))
    recs = _records()
    recs[1]["clip_id"] = "a1"
    with pytest.raises(ValueError, match="duplicate clip ids"):
        ClipIndex.from_records(recs, ("happy", "sad"))
    with pytest.raises(ValueError, match=r"\[A-Za-z0-9_.-\]"):
        ClipIndex.from_records([{"clip_id": "a/b", "label": 0, "subject": "1", "source": "x"}], ("happy",))


def test_class_names():
    assert canonical_class("Angry") == "anger" and canonical_class("Happiness") == "happy"
    assert class_index(("anger", "happy"), "HAPPY") == 1
    with pytest.raises(ValueError, match="unknown class name 'grumpy'"):
        canonical_class("grumpy")
    assert safe_clip_id("Train/Angry/001.avi") == "Train_Angry_001.avi"
