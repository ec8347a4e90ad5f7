"""``check-store``: every kind of damage is found, named, and turns the exit status non-zero."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ferlib.cli import main as cli_main
from ferlib.data.check import check_store
from ferlib.data.store import ClipStore

CLASSES = ("a", "b")


@pytest.fixture
def store(tmp_path) -> ClipStore:
    """Six good clips of 4 frames of 8x8 and an empty failures.csv (as preprocess leaves it)."""
    s = ClipStore.create(tmp_path / "s", "toy", CLASSES)
    rng = np.random.default_rng(0)
    for i in range(6):
        s.write({"clip_id": f"c{i}", "label": i % 2, "subject": "p", "source": f"c{i}.avi"},
                rng.integers(0, 255, (4, 8, 8, 3), dtype=np.uint8), rng.random((4, 68, 2)) * 8,
                intensity=np.linspace(0, 1, 4))
    s.settle_failures()
    return s


def test_a_sound_store_passes(store, capsys):
    report = check_store(store.root)
    assert report.ok and (report.entries, report.good, report.failures_listed) == (6, 6, 0)
    assert cli_main(["check-store", str(store.root)]) == 0
    assert "6 entries, 6 good, 0 listed in failures.csv: OK" in capsys.readouterr().out


def test_every_kind_of_damage_is_reported(store, capsys):
    clips = store.root / "clips"
    (clips / "c0" / "meta.json").unlink()  # incomplete
    lm = clips / "c1" / "landmarks.npy"
    lm.write_bytes(lm.read_bytes()[:-100])  # truncated
    bad = np.load(clips / "c2" / "landmarks.npy")
    bad[1, 3, 0], bad[3, 0, 1] = np.nan, -np.inf
    np.save(clips / "c2" / "landmarks.npy", bad)  # non-finite
    np.save(clips / "c3" / "flags.npy", np.zeros(5, np.uint8))  # mis-shaped
    meta = json.loads((clips / "c4" / "meta.json").read_text())
    meta["label"] = 7
    (clips / "c4" / "meta.json").write_text(json.dumps(meta))  # label outside the classes
    (clips / "c5" / "intensity.npy").unlink()  # an array meta.json lists is gone
    (clips / ".tmp-c9-0badf00d").mkdir()  # a killed writer's leftover: a note only
    store.record_failure("c3", "c3.avi", "NoFaceError")  # a stored clip listed as failed
    report = check_store(store.root)
    assert not report.ok and report.entries == 6 and report.good == 0
    by_kind = {k: report.bad_clips(k) for k in report.kinds()}
    assert by_kind == {"incomplete": ["c0", "c5"], "truncated": ["c1"], "non-finite": ["c2"], "changed": ["c2"], "shape": ["c3"],
                       "label": ["c4"], "failures": []}
    text = str(report)
    assert f"[non-finite] {clips / 'c2' / 'landmarks.npy'}: NaN or inf in 2 of 4 frames [1, 3]" in text
    assert f"[incomplete] {clips / 'c0'}: no meta.json" in text and f"[truncated] {lm}" in text
    assert "[failures]" in text and "lists 1 clips that are stored: ['c3']" in text
    assert "note: " in text and ".tmp-c9-0badf00d is left over" in text
    assert cli_main(["check-store", str(store.root), "--quiet"]) == 1
    assert "0 good" in capsys.readouterr().out


def test_failures_csv_that_disagrees_or_is_unreadable(store):
    store.record_failure("x", "x.avi", "NoFaceError")
    store.record_failure("x", "x.avi", "NoFaceError")
    report = check_store(store.root)
    assert report.failures_listed == 2 and [p.message for p in report.problems] == ["lists clips more than once: ['x']"]
    (store.root / "failures.csv").write_text("who,what\n1,2\n")
    assert "has columns ['who', 'what']" in str(check_store(store.root))
    (store.root / "failures.csv").unlink()
    report = check_store(store.root)
    assert report.ok and "no failures.csv" in report.notes[0]


def test_not_a_store(tmp_path, capsys):
    (tmp_path / "x").mkdir()
    report = check_store(tmp_path / "x")
    assert report.kinds() == {"store": 1} and "store.json is missing" in str(report)
    assert cli_main(["check-store", str(tmp_path / "x")]) == 1
    capsys.readouterr()
    assert cli_main(["check-store", str(tmp_path / "gone")]) == 2  # a missing folder is a user's error, not a problem
    err = capsys.readouterr().err
    assert f"{tmp_path / 'gone'}: no such folder" in err and "store.json" in err and "problems" not in err
    (tmp_path / "f").write_text("")
    assert cli_main(["check-store", str(tmp_path / "f")]) == 2 and "is a file, not a folder" in capsys.readouterr().err


def test_oversized_and_foreign_arrays(store):
    clips = store.root / "clips"
    with open(clips / "c0" / "frames.npy", "ab") as f:
        f.write(b"\0" * 10)  # bytes after the array's data
    np.save(clips / "c1" / "landmarks.npy", np.zeros((4, 68, 2), np.float64))  # right shape, wrong dtype
    report = check_store(store.root)
    assert report.kinds() == {"corrupt": 1, "shape": 1}
    assert "frames.npy: is " in str(report) and "holds float64 [4, 68, 2], meta.json expects float32" in str(report)
