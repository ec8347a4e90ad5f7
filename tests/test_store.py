import json

import numpy as np
import pytest

from ferlib.data import ClipStore, StoreError
from ferlib.data.store import FLAG_NO_FACE


def _row(cid="c1", label=1):
    return {"clip_id": cid, "label": label, "subject": "s1", "source": "src"}


def _clip(t=4, h=6, w=5):
    rng = np.random.default_rng(0)
    return rng.integers(0, 255, (t, h, w, 3), dtype=np.uint8), rng.random((t, 68, 2)).astype(np.float32)


def test_roundtrip_memory_mapped(tmp_path):
    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    frames, lm = _clip()
    flags = np.array([0, FLAG_NO_FACE, 0, 0], np.uint8)
    store.write(_row(), frames, lm, flags, intensity=np.linspace(0, 1, 4))
    rec = ClipStore.open(tmp_path / "s").read("c1")
    assert isinstance(rec.frames, np.memmap)
    np.testing.assert_array_equal(rec.frames, frames)
    np.testing.assert_allclose(rec.landmarks, lm)
    assert rec.flags[1] == FLAG_NO_FACE and rec.label == 1 and rec.meta["label_name"] == "b"
    idx = store.index()
    assert idx.clip_ids == ["c1"] and idx.classes == ("a", "b")


def test_write_is_atomic_when_interrupted(tmp_path, monkeypatch):
    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    frames, lm = _clip()
    calls = {"n": 0}
    real_save = np.save

    def failing_save(path, arr):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed mid-write")
        real_save(path, arr)

    monkeypatch.setattr(np, "save", failing_save)
    with pytest.raises(KeyboardInterrupt):
        store.write(_row(), frames, lm)
    monkeypatch.setattr(np, "save", real_save)
    assert not store.has("c1") and store.clip_ids() == []
    assert list((tmp_path / "s" / "clips").iterdir()) == []


def test_overwrite_replaces_and_refuses_by_default(tmp_path):
    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    frames, lm = _clip()
    store.write(_row(), frames, lm)
    with pytest.raises(StoreError, match="already in"):
        store.write(_row(), frames, lm)
    store.write(_row(label=0), frames[:2], lm[:2], overwrite=True)
    assert store.read("c1").n_frames == 2 and store.read("c1").label == 0


def test_truncated_entry_names_the_file(tmp_path):
    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    frames, lm = _clip()
    store.write(_row(), frames, lm)
    path = tmp_path / "s" / "clips" / "c1" / "frames.npy"
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(StoreError, match="frames.npy.*truncated or corrupt"):
        ClipStore.open(tmp_path / "s").read("c1")


def test_refuses_unrelated_folder_and_foreign_store(tmp_path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    with pytest.raises(StoreError, match="not empty and is not a clip store"):
        ClipStore.create(tmp_path / "mine", "toy", ("a", "b"))
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
    ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    with pytest.raises(StoreError, match="refusing to mix"):
        ClipStore.create(tmp_path / "s", "other", ("a", "b"))
    with pytest.raises(StoreError, match="store.json is missing"):
        ClipStore.open(tmp_path / "mine")


def test_bad_shapes_are_rejected(tmp_path):
    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    frames, lm = _clip()
    with pytest.raises(ValueError, match="landmarks must be"):
        store.write(_row(), frames, lm[:, :5])
    with pytest.raises(ValueError, match="frames must be uint8"):
        store.write(_row(), frames.astype(np.float32), lm)
    with pytest.raises(ValueError, match="label 5 outside"):
        store.write(_row(label=5), frames, lm)


def test_failures_report_and_stale_tmp(tmp_path):
    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    store.record_failure("c9", "/x/c9.avi", "no face in any frame")
    store.record_failure("c8", "/x/c8.avi", "cannot decode")
    assert store.failures()["clip_id"].tolist() == ["c9", "c8"]
    (tmp_path / "s" / "clips" / ".tmp-c1-dead").mkdir()
    assert store.clip_ids() == [] and store.remove_stale_tmp() == 1


def test_meta_json_is_plain(tmp_path):
    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    frames, lm = _clip()
    store.write({**_row(), "fold": np.int64(3)}, frames, lm)
    meta = json.loads((tmp_path / "s" / "clips" / "c1" / "meta.json").read_text())
    assert meta["fold"] == 3 and meta["arrays"]["frames"] == [4, 6, 5, 3]


def test_an_entry_without_meta_json_is_named_not_dropped(tmp_path):
    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    frames, lm = _clip()
    for cid in ("c1", "c2", "c3"):
        store.write(_row(cid), frames, lm)
    (tmp_path / "s" / "clips" / "c2" / "meta.json").unlink()  # a copy cut short
    reopened = ClipStore.open(tmp_path / "s")
    assert reopened.incomplete() == ["c2"] and not reopened.has("c2")
    with pytest.raises(StoreError, match=r"1 entries .* incomplete \(no meta.json\): \[.*clips/c2'\]"):
        reopened.clip_ids()
    with pytest.raises(StoreError, match="clips/c2"):
        reopened.index()  # a fold of 2 instead of 3 is never returned
    reopened.write(_row("c2"), frames[:2], lm[:2])  # a writer re-creates the entry (no "already in")
    assert reopened.clip_ids() == ["c1", "c2", "c3"] and reopened.read("c2").n_frames == 2
    assert not list((tmp_path / "s" / "clips").glob(".tmp-*"))


def test_settle_failures_keeps_only_clips_that_are_not_stored(tmp_path):
    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    path = tmp_path / "s" / "failures.csv"
    assert store.settle_failures().empty and path.read_text() == "clip_id,source,reason\n"  # always written
    frames, lm = _clip()
    store.write(_row("c1"), frames, lm)
    store.record_failure("c1", "/x/c1.avi", "StoreError: clip 'c1' is already in the store")
    store.record_failure("c9", "/x/c9,v2.avi", 'NoFaceError: "quoted", two\nlines')
    store.record_failure("c9", "/x/c9,v2.avi", "cannot decode")
    table = store.settle_failures()
    assert table.values.tolist() == [["c9", "/x/c9,v2.avi", "cannot decode"]]
    assert ClipStore.open(tmp_path / "s").failures().values.tolist() == table.values.tolist()
    assert store.settle_failures(forget={"c9"}).empty and not list((tmp_path / "s").glob(".failures*"))


def test_a_create_killed_before_store_json_is_resumed(tmp_path):
    root = tmp_path / "s"
    (root / "clips").mkdir(parents=True)
    (root / ".store.json.0123abcd").write_text('{"form')  # what a kill between mkdir and rename leaves
    store = ClipStore.create(root, "toy", ("a", "b"))
    assert sorted(p.name for p in root.iterdir()) == ["clips", "store.json"] and store.clip_ids() == []
    (root / "store.json").unlink()
    (root / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="not empty and is not a clip store"):  # anything else is still refused
        ClipStore.create(root, "toy", ("a", "b"))


def test_settings_recorded_under_a_former_key_are_compared_under_the_new_one(tmp_path):
    root = tmp_path / "s"
    ClipStore.create(root, "d", ["a", "b"], settings=("preprocess", {"size": 48, "extend": 0.25}))  # an older store
    again = ClipStore.create(root, "d", ["a", "b"], settings=("preprocess", {"side": 48, "extend": 0.25}),
                             renamed={"size": "side"})
    assert again.settings("preprocess") == {"size": 48, "extend": 0.25}  # read as it was written, never rewritten
    with pytest.raises(StoreError, match=r"other preprocess settings \(side=48 there vs 64 now, from store\.json"):
        ClipStore.create(root, "d", ["a", "b"], settings=("preprocess", {"side": 64, "extend": 0.25}), renamed={"size": "side"})
    with pytest.raises(StoreError, match=r"side=None there vs 48 now, size=48 there vs None now"):  # no alias: both named
        ClipStore.create(root, "d", ["a", "b"], settings=("preprocess", {"side": 48, "extend": 0.25}))
