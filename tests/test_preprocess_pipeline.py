"""Filling a clip store: one clip end to end, failures report, atomic writes, resume, workers, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ferlib.assets import ASSETS
from ferlib.cli import main as cli_main
from ferlib.data.index import ClipIndex
from ferlib.data.landmarks68 import MEAN_SHAPE, inter_ocular
from ferlib.data.store import FLAG_INTERPOLATED, FLAG_NO_FACE, ClipStore
from ferlib.preprocess import pipeline
from ferlib.preprocess.align import transform_points
from ferlib.preprocess.face import NoFaceError
from ferlib.preprocess.pipeline import PreprocessConfig, ProcessedClip, preprocess_clip, preprocess_index

FIXTURES = ASSETS
VIDEOS = FIXTURES / "videos"
CLASSES = ("happy", "sad")


def _needs(path: Path) -> None:
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the real-face material ships in assets/")


def _index(rows: list[dict], dataset: str = "toy") -> ClipIndex:
    full = [{"label": i % 2, "subject": f"s{i}", "split": "", **r} for i, r in enumerate(rows)]
    return ClipIndex.from_records(full, CLASSES, dataset)


def _fake_clip(t: int = 3, size: int = 16) -> ProcessedClip:
    return ProcessedClip(
        frames=np.full((t, size, size, 3), 9, np.uint8),
        landmarks=np.tile(MEAN_SHAPE * 4 + size / 2, (t, 1, 1)).astype(np.float32),
        flags=np.zeros(t, np.uint8),
        boxes=np.zeros((t, 4), np.float32),
        transforms=np.zeros((t, 2, 3)),
        source_shape=(40, 50),
    )


@pytest.fixture
def fake_preprocess(monkeypatch):
    """Replace the per-clip work by a recorder returning a tiny clip (no decoding, no dlib)."""
    calls: list[tuple] = []

    def fake(source, config, frame_start=None, frame_stop=None):
        calls.append((str(source), frame_start, frame_stop))
        if "bad" in str(source):
            raise NoFaceError(f"no face found in any of the 3 frames of {source}")
        return _fake_clip()

    monkeypatch.setattr(pipeline, "preprocess_clip", fake)
    return calls


# -- pipeline logic (no decoding) --------------------------------------------------------------
def test_resume_skips_done_and_failed_clips(tmp_path, fake_preprocess):
    index = _index([{"clip_id": "a", "source": "a.mp4"}, {"clip_id": "b", "source": "bad.mp4"},
                    {"clip_id": "c", "source": "c.mp4"}])
    first = preprocess_index(index, tmp_path / "store", workers=1, progress=False)
    assert (first.done, first.failed, first.skipped) == (2, 1, 0)
    store = ClipStore.open(tmp_path / "store")
    assert store.clip_ids() == ["a", "c"]
    failures = store.failures()
    assert failures[["clip_id", "source"]].values.tolist() == [["b", "bad.mp4"]]
    assert "NoFaceError" in failures["reason"][0] and "bad.mp4" in failures["reason"][0]

    fake_preprocess.clear()
    second = preprocess_index(index, tmp_path / "store", workers=1, progress=False)
    assert fake_preprocess == [] and (second.done, second.failed, second.skipped) == (0, 0, 3)

    third = preprocess_index(index, tmp_path / "store", workers=1, progress=False, retry_failed=True)
    assert [c[0] for c in fake_preprocess] == ["bad.mp4"] and third.failed == 1
    assert len(store.failures()) == 1  # the retried clip's old line was replaced, not duplicated


def test_a_clip_another_writer_stored_meanwhile_is_skipped_not_failed(tmp_path, monkeypatch):
    """What a worker of a killed earlier run did: it finished the clip while this run worked on it."""
    index = _index([{"clip_id": "a", "source": "a.mp4"}, {"clip_id": "b", "source": "b.mp4"}])

    def raced(source, config, frame_start=None, frame_stop=None):
        clip = _fake_clip()
        if str(source) == "a.mp4":
            ClipStore.open(tmp_path / "store").write({**index.df.iloc[0].to_dict()}, clip.frames, clip.landmarks)
        return clip

    monkeypatch.setattr(pipeline, "preprocess_clip", raced)
    summary = preprocess_index(index, tmp_path / "store", workers=1, progress=False)
    assert (summary.done, summary.skipped, summary.failed) == (1, 1, 0)
    store = ClipStore.open(tmp_path / "store")
    assert store.clip_ids() == ["a", "b"] and store.failures().empty
    assert (tmp_path / "store" / "failures.csv").read_text() == "clip_id,source,reason\n"


def test_failures_csv_is_rewritten_from_the_store(tmp_path, fake_preprocess):
    index = _index([{"clip_id": "a", "source": "a.mp4"}, {"clip_id": "b", "source": "bad.mp4"},
                    {"clip_id": "c", "source": "c.mp4"}])
    store = ClipStore.create(tmp_path / "store", "toy", CLASSES)
    clip = _fake_clip()
    store.write(index.df.iloc[0].to_dict(), clip.frames, clip.landmarks)
    store.record_failure("a", "a.mp4", "StoreError: clip 'a' is already in the store")  # a stale line: 'a' is stored
    store.record_failure("other", "x.mp4", "NoFaceError")  # not in this index: kept
    for retry in (False, True):
        summary = preprocess_index(index, store.root, workers=1, progress=False, retry_failed=retry)
        assert summary.failed == 1 and store.failures()["clip_id"].tolist() == ["other", "b"]
    assert store.clip_ids() == ["a", "c"]


def test_incomplete_entries_are_announced_and_re_created(tmp_path, fake_preprocess, capsys):
    index = _index([{"clip_id": "a", "source": "a.mp4"}, {"clip_id": "b", "source": "b.mp4"}])
    preprocess_index(index, tmp_path / "store", workers=1, progress=False)
    (tmp_path / "store" / "clips" / "b" / "meta.json").unlink()
    fake_preprocess.clear()
    summary = preprocess_index(index, tmp_path / "store", workers=1, progress=False)
    assert [c[0] for c in fake_preprocess] == ["b.mp4"] and (summary.done, summary.failed, summary.recreated) == (1, 0, 1)
    assert "1 incomplete entries (folders without meta.json) will be re-created: ['b']" in capsys.readouterr().err
    assert "1 incomplete entries (no meta.json) were found and redone" in str(summary)
    assert ClipStore.open(tmp_path / "store").clip_ids() == ["a", "b"]


def test_frame_range_columns_and_relative_sources(tmp_path, fake_preprocess):
    index = _index([{"clip_id": "w1", "source": "vid", "frame_start": 45, "frame_stop": 90},
                    {"clip_id": "w2", "source": "/abs/vid2", "frame_start": None, "frame_stop": None}])
    assert index.df["frame_start"].isna().any()  # pandas turns the missing ints into NaN
    preprocess_index(index, tmp_path / "store", workers=1, progress=False, source_root=tmp_path / "data")
    assert fake_preprocess == [(str(tmp_path / "data" / "vid"), 45, 90), ("/abs/vid2", None, None)]
    meta = ClipStore.open(tmp_path / "store").meta("w2")
    assert meta["frame_start"] is None and meta["extra"]["preprocess"]["side"] == 112
    assert meta["extra"]["source_width"] == 50


def test_a_failed_write_leaves_no_partial_entry_and_the_run_goes_on(tmp_path, fake_preprocess, monkeypatch):
    import ferlib.data.store as store_module

    real_save = np.save

    def failing_save(path, arr, *args, **kwargs):
        if Path(path).parent.name.startswith(".tmp-broken") and Path(path).name == "landmarks.npy":
            raise OSError("No space left on device")
        return real_save(path, arr, *args, **kwargs)

    monkeypatch.setattr(store_module.np, "save", failing_save)
    index = _index([{"clip_id": "broken", "source": "x.mp4"}, {"clip_id": "fine", "source": "y.mp4"}])
    summary = preprocess_index(index, tmp_path / "store", workers=1, progress=False)
    clips = tmp_path / "store" / "clips"
    assert sorted(p.name for p in clips.iterdir()) == ["fine"]  # no entry, no temp folder for "broken"
    assert summary.failed == 1 and "No space left" in summary.failures[0][1]
    assert ClipStore.open(tmp_path / "store").failures()["clip_id"].tolist() == ["broken"]


def test_a_killed_run_leftover_is_removed_and_never_read(tmp_path, fake_preprocess):
    store = ClipStore.create(tmp_path / "store", "toy", CLASSES)
    stale = store.root / "clips" / ".tmp-a-1234abcd"
    stale.mkdir()
    (stale / "frames.npy").write_bytes(b"half a file")
    assert store.clip_ids() == [] and not store.has("a")
    summary = preprocess_index(_index([{"clip_id": "a", "source": "a.mp4"}]), store.root, workers=1, progress=False)
    assert not stale.exists() and summary.done == 1 and store.clip_ids() == ["a"]


def test_bad_sources_land_in_the_failures_report(tmp_path):
    corrupt = tmp_path / "corrupt.avi"
    corrupt.write_bytes(b"RIFF" + bytes(500))
    index = _index([{"clip_id": "corrupt", "source": str(corrupt)}, {"clip_id": "gone", "source": str(tmp_path / "gone.mp4")}])
    summary = preprocess_index(index, tmp_path / "store", workers=1, progress=False)
    reasons = dict(summary.failures)
    assert summary.failed == 2 and summary.done == 0
    assert "VideoReadError" in reasons["corrupt"] and "corrupt.avi" in reasons["corrupt"]
    assert "FileNotFoundError" in reasons["gone"] and "gone.mp4" in reasons["gone"]
    assert len(ClipStore.open(tmp_path / "store").failures()) == 2


def test_options_are_checked_before_any_work(tmp_path):
    index = _index([{"clip_id": "a", "source": "a.mp4"}])
    with pytest.raises(TypeError, match="unknown preprocessing options.*'extnd'"):
        preprocess_index(index, tmp_path / "s", extnd=0.3)
    with pytest.raises(ValueError, match="detect_every must be >= 1"):
        preprocess_index(index, tmp_path / "s", detect_every=0)
    with pytest.raises(FileNotFoundError, match="nope.dat"):
        preprocess_index(index, tmp_path / "s", predictor=tmp_path / "nope.dat")


def crash_or_pass(row, config, store_root, source_root):
    """A worker task that kills its process for clips named ``crash*`` (a native crash, say)."""
    import os

    if row["clip_id"].startswith("crash"):
        os._exit(13)
    return {"clip_id": row["clip_id"], "status": "done", "reason": "", "n_frames": 1, "n_no_face": 0, "n_interpolated": 0}


def test_a_dying_worker_fails_only_its_own_clip():
    rows = [{"clip_id": c} for c in ("a", "b", "crash", "c", "d", "e")]
    results: list[dict] = []
    pipeline._run_pool(rows, PreprocessConfig(), "unused", None, 2, results.append, task=crash_or_pass)
    status = {r["clip_id"]: r["status"] for r in results}
    assert sorted(status) == ["a", "b", "c", "crash", "d", "e"]  # every clip reported exactly once
    assert len(results) == 6
    assert status.pop("crash") == "failed" and set(status.values()) == {"done"}
    assert "worker process died" in next(r["reason"] for r in results if r["clip_id"] == "crash")


# -- generated faces written as videos (no fixtures needed) ------------------------------------
@pytest.fixture(scope="module")
def synth_videos(tmp_path_factory):
    """Six generated clips (3 subjects x 2 classes) exported as AFEW-style .avi files, with their ground truth."""
    generate = pytest.importorskip("ferlib.synth.generate")
    export = pytest.importorskip("ferlib.synth.export")
    root = tmp_path_factory.mktemp("synth")
    truth = generate.generate(root / "truth", generate.SynthConfig(n_subjects=3, n_frames=6, side=64, classes=CLASSES),
                              progress=False)
    export.export_layout(truth, root / "afew", "afew")
    videos = {clip: root / "afew" / media for media, clip in export.exported_ids(root / "afew").items()}
    index = truth.index()
    index.df["source"] = [str(videos[c]) for c in index.df["clip_id"]]
    return truth, index, root


def test_synth_videos_land_in_the_store_near_their_ground_truth(synth_videos, tmp_path):
    truth, index, _ = synth_videos
    summary = preprocess_index(index, tmp_path / "store", side=64, workers=2, progress=False)
    assert summary.done == len(index) == 6 and summary.failed == 0
    store = ClipStore.open(tmp_path / "store")
    for cid in index.clip_ids:
        rec, gt = store.read(cid), truth.read(cid)
        assert rec.frames.shape == (6, 64, 64, 3) and rec.meta["label_name"] == gt.meta["label_name"]
        assert not (rec.flags & FLAG_NO_FACE).any()
        # the stored landmarks are the ground truth up to the crop's similarity transform
        direct = preprocess_clip(index.df.set_index("clip_id").loc[cid, "source"], PreprocessConfig(side=64))
        expected = transform_points(direct.transforms, gt.landmarks)
        np.testing.assert_allclose(direct.landmarks, rec.landmarks, atol=1e-4)  # workers give the same result
        error = np.linalg.norm(rec.landmarks - expected, axis=-1).mean(axis=-1)
        assert (error < 0.12 * inter_ocular(expected)).all(), error


def test_cli_preprocesses_an_index_csv(synth_videos, tmp_path, capsys):
    _, index, _ = synth_videos
    rows = index.df.copy()
    rows.loc[len(rows)] = {**rows.iloc[0].to_dict(), "clip_id": "broken", "source": str(tmp_path / "broken.avi")}
    (tmp_path / "broken.avi").write_bytes(b"garbage")
    ClipIndex(rows, index.classes, index.dataset).to_csv(tmp_path / "index.csv")
    rc = cli_main(["preprocess", "--index", str(tmp_path / "index.csv"), "--out", str(tmp_path / "store"),
                   "--side", "48", "--workers", "1", "--detect-every", "2", "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "6 clips written" in out and "1 failed" in out and str(tmp_path / "store") in out
    store = ClipStore.open(tmp_path / "store")
    assert store.read(index.clip_ids[0]).frames.shape[1:] == (48, 48, 3)
    assert store.read(index.clip_ids[0]).flags.tolist() == [0, FLAG_INTERPOLATED] * 3
    assert store.failures()["clip_id"].tolist() == ["broken"]


def test_cli_preprocesses_a_dataset_through_its_adapter(synth_videos, tmp_path, capsys):
    pytest.importorskip("ferlib.data.adapters")
    _, index, root = synth_videos
    rc = cli_main(["preprocess", "--dataset", "afew", "--root", str(root / "afew"), "--out", str(tmp_path / "store"),
                   "--side", "32", "--workers", "1", "--limit", "4", "--quiet"])
    assert rc == 0 and "4 clips written" in capsys.readouterr().out
    store = ClipStore.open(tmp_path / "store")
    assert store.dataset == "afew" and len(store.clip_ids()) == 4
    assert {store.meta(c)["split"] for c in store.clip_ids()} <= {"train", "val"}
    assert store.read(store.clip_ids()[0]).frames.shape == (6, 32, 32, 3)


def test_cli_takes_the_label_set_of_an_index_csv_from_classes_or_infers_it(tmp_path, fake_preprocess, capsys):
    rows = [{"clip_id": f"c{i}", "label": i % 2, "label_name": CLASSES[i % 2], "subject": "s", "source": f"c{i}.mp4",
             "split": ""} for i in range(3)]
    csv = tmp_path / "my.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)  # a hand-made CSV: no my.csv.json beside it
    base = ["preprocess", "--index", str(csv), "--workers", "1", "--quiet"]
    assert cli_main([*base, "--out", str(tmp_path / "s1"), "--classes", "happy,sad"]) == 0
    assert ClipStore.open(tmp_path / "s1").classes == CLASSES and len(ClipStore.open(tmp_path / "s1").clip_ids()) == 3
    capsys.readouterr()
    assert cli_main([*base, "--out", str(tmp_path / "s2")]) == 0
    err = capsys.readouterr().err
    assert "my.csv has no label set (my.csv.json is missing); inferred classes ['happy', 'sad']" in err
    assert ClipStore.open(tmp_path / "s2").classes == CLASSES
    assert cli_main([*base, "--out", str(tmp_path / "s3"), "--classes", "sad,happy"]) == 2  # label 0 is happy
    assert "clip 'c0' has label 0 but label_name 'happy', which is class 1 of ['sad', 'happy']" in capsys.readouterr().err
    pd.DataFrame(rows).drop(columns=["label"]).to_csv(csv, index=False)
    assert cli_main([*base, "--out", str(tmp_path / "s4"), "--classes", "sad,happy,neutral"]) == 0
    store = ClipStore.open(tmp_path / "s4")
    assert store.classes == ("sad", "happy", "neutral") and store.meta("c0")["label"] == 1
    assert not (tmp_path / "s3").exists()


def test_cli_needs_a_root_with_a_dataset(tmp_path, capsys):
    assert cli_main(["preprocess", "--dataset", "ckplus", "--out", str(tmp_path / "s")]) == 2
    assert "--dataset needs --root" in capsys.readouterr().err


# -- real videos (fixtures) --------------------------------------------------------------------
@pytest.mark.fixtures
def test_single_face_video_has_a_face_in_every_frame():
    _needs(VIDEOS)
    clip = preprocess_clip(VIDEOS / "single_face.mp4", PreprocessConfig(frame_step=6))
    assert clip.frames.shape == (12, 112, 112, 3) and clip.landmarks.shape == (12, 68, 2)
    assert clip.flags.tolist() == [0] * 12
    assert ((clip.landmarks > 0) & (clip.landmarks < 112)).all()


@pytest.mark.fixtures
def test_frames_without_a_face_are_flagged_and_kept():
    _needs(VIDEOS)
    # frames 60..83: the face leaves the picture at frame 72
    clip = preprocess_clip(VIDEOS / "face_noface.mov", PreprocessConfig(detect_max_side=480), 60, 84)
    assert clip.frames.shape[0] == 24  # T in = T out
    no_face = (clip.flags & FLAG_NO_FACE) > 0
    assert not no_face[:12].any() and no_face[12:].all()
    np.testing.assert_array_equal(clip.landmarks[12:], np.broadcast_to(clip.landmarks[11], (12, 68, 2)))
    np.testing.assert_array_equal(clip.transforms[12:], np.broadcast_to(clip.transforms[11], (12, 2, 3)))


@pytest.mark.fixtures
def test_video_without_faces_raises_a_clear_error():
    _needs(VIDEOS)
    with pytest.raises(NoFaceError, match=r"no face found in any of the 6 frames of .*no_face\.mp4"):
        preprocess_clip(VIDEOS / "no_face.mp4", PreprocessConfig(detect_max_side=480), 0, 6)


@pytest.mark.fixtures
def test_fixture_videos_through_the_pipeline(tmp_path):
    _needs(VIDEOS)
    index = _index([
        {"clip_id": "single", "source": "single_face.mp4", "frame_start": 0, "frame_stop": 9},
        {"clip_id": "leaves", "source": "face_noface.mov", "frame_start": 68, "frame_stop": 76},
        {"clip_id": "empty", "source": "no_face.mp4", "frame_start": 0, "frame_stop": 4},
    ])
    summary = preprocess_index(index, tmp_path / "store", workers=1, progress=False, source_root=VIDEOS,
                               detect_every=3, detect_max_side=480)
    assert (summary.done, summary.failed) == (2, 1)
    store = ClipStore.open(tmp_path / "store")
    assert store.clip_ids() == ["leaves", "single"]
    failures = store.failures()
    assert failures["clip_id"].tolist() == ["empty"] and "no_face.mp4" in failures["reason"][0]
    leaves = store.read("leaves")
    assert leaves.n_frames == 8 and ((leaves.flags & FLAG_NO_FACE) > 0).tolist() == [False] * 4 + [True] * 4
    assert store.read("single").flags.tolist() == [0, FLAG_INTERPOLATED, FLAG_INTERPOLATED] * 3
    assert store.meta("leaves")["extra"]["n_no_face"] == 4
    again = preprocess_index(index, tmp_path / "store", workers=1, progress=False, source_root=VIDEOS,
                             detect_every=3, detect_max_side=480)  # a resume takes the store's settings
    assert (again.done, again.skipped) == (0, 3)
