from __future__ import annotations

import pandas as pd
import pytest

from ferlib.analysis.groups import accuracy_by
from ferlib.data.index import ClipIndex


def test_accuracy_per_scene_counts_each_group(tmp_path):
    rows = [{"clip_id": f"c{i}", "source": f"c{i}.avi", "label": i % 2, "subject": f"s{i}", "split": "test"} for i in range(4)]
    index = ClipIndex.from_records(rows, ("happy", "sad"), "ferv39k")
    with pytest.raises(KeyError, match="no 'scene' column"):
        accuracy_by([], index)
    index.df["scene"] = ["Daily", "Daily", "Art", "Art"]
    (tmp_path / "f").mkdir()
    pd.DataFrame({"clip_id": index.clip_ids, "label": [0, 1, 0, 1], "pred": [0, 0, 0, 1]}).to_csv(tmp_path / "f" / "predictions.csv")
    out = accuracy_by([tmp_path / "f"], index)
    assert out.loc["Daily", "WAR"] == 50.0 and out.loc["Art", "WAR"] == 100.0
    assert out.loc["All", "WAR"] == 75.0 and out.loc["All", "clips"] == 4
