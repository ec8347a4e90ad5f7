"""Notebook 01's helpers (no dlib except one test): its inputs (ferlib.synth.demo_videos, ferlib.data.folder),
what the preprocessing did (ferlib.analysis.preprocessing: landmark error, report tables) and its figures
(ferlib.viz.preprocessing)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ferlib.data.index import ClipIndex  # noqa: E402
from ferlib.data.landmarks68 import MEAN_SHAPE, REGIONS  # noqa: E402
from ferlib.data.store import FLAG_NO_FACE, ClipStore  # noqa: E402
from ferlib.preprocess.face import ClipFaces, NoFaceError  # noqa: E402
from ferlib.analysis import preprocessing as ap  # noqa: E402
from ferlib.data import folder  # noqa: E402
from ferlib.synth import demo_videos  # noqa: E402
from ferlib.viz import preprocessing as vp  # noqa: E402


def _face(t: int = 5, size: int = 64, scale: float = 20.0) -> np.ndarray:
    return np.tile(MEAN_SHAPE * scale + [size / 2, size * 0.4], (t, 1, 1)).astype(np.float32)


def _clip(clip_id: str = "c", t: int = 5, size: int = 64) -> ap.InspectedClip:
    lm = _face(t, size)
    flags = np.zeros(t, np.uint8)
    flags[-1] = FLAG_NO_FACE
    faces = ClipFaces(boxes=np.tile([10, 10, 50, 54], (t, 1)).astype(np.float32), landmarks=lm, flags=flags,
                      scores=np.full(t, 1.5, np.float32))
    crops = np.zeros((t, 32, 32, 3), np.uint8)
    return ap.InspectedClip(clip_id, np.full((t, size, size, 3), 120, np.uint8), faces, crops, lm / 2,
                            np.zeros((t, 2, 3)))


def test_overlay_has_one_row_per_clip_and_a_crop_column():
    fig = vp.detection_overlay_figure([_clip("a"), _clip("b")], [_face(), None], n_frames=3)
    assert len(fig.axes) == 2 * (3 + 1)
    assert "no face" in fig.axes[2].get_title()  # the last frame is flagged
    plt.close(fig)
    fig = vp.detection_overlay_figure([_clip(t=2)], n_frames=4)  # fewer frames than panels: the rest is blank
    assert len(fig.axes) == 5 and not fig.axes[2].axison
    plt.close(fig)


def test_overlay_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one clip"):
        vp.detection_overlay_figure([])
    with pytest.raises(ValueError, match="n_frames must be >= 1"):
        vp.detection_overlay_figure([_clip()], n_frames=0)
    with pytest.raises(ValueError, match="1 clips but 2 ground-truth"):
        vp.detection_overlay_figure([_clip()], [None, None])
    with pytest.raises(ValueError, match="ground truth must be"):
        vp.detection_overlay_figure([_clip()], [np.zeros((5, 5, 2))])
    broken = _clip()
    broken.faces.landmarks = broken.faces.landmarks[:, :10]
    with pytest.raises(ValueError, match="must agree"):
        vp.detection_overlay_figure([broken])


def test_landmark_errors_known_answer():
    truth = _face(t=2, scale=20.0)  # inter-ocular distance 20 px
    px, iod = ap.landmark_errors(truth + [3.0, 4.0], truth)
    np.testing.assert_allclose(px, 5.0, rtol=1e-6)
    np.testing.assert_allclose(iod, 0.25, rtol=1e-5)
    with pytest.raises(ValueError, match=r"\(T, 68, 2\)"):
        ap.landmark_errors(truth[:, :5], truth[:, :5])
    with pytest.raises(ValueError, match="inter-ocular distance is 0"):
        ap.landmark_errors(np.zeros((1, 68, 2)), np.zeros((1, 68, 2)))


def test_error_table_and_figure_against_a_truth_store(tmp_path):
    store = ClipStore.create(tmp_path / "truth", "toy", ("happy",))
    t = 5
    store.write({"clip_id": "g", "label": 0, "label_name": "happy", "subject": "s", "source": "x", "split": ""},
                np.zeros((t, 64, 64, 3), np.uint8), _face(t), np.zeros(t, np.uint8),
                intensity=np.linspace(0, 1, t).astype(np.float32))
    clip = _clip("c", t)
    clip.faces.landmarks = clip.faces.landmarks + [0.0, 2.0]  # 2 px = 10 % IOD everywhere
    table = ap.landmark_error_table([clip], store, ["g"])
    assert list(table.index) == ["c", "all clips"]
    assert table.loc["c", "mean_px"] == pytest.approx(2.0) and table.loc["all clips", "mean_pct_iod"] == pytest.approx(10.0)
    assert table.loc["c", "no_face_frames"] == 1
    regions, frames = ap.landmark_error_data([clip], store, ["g"])
    assert len(regions) == len(REGIONS) and regions["error"].to_numpy() == pytest.approx([10.0] * len(REGIONS), rel=1e-4)
    assert list(frames["frame"]) == list(range(t)) and frames["intensity"].to_numpy() == pytest.approx(np.linspace(0, 1, t))
    assert np.isnan(ap.error_intensity_rho(frames))  # a constant error has no rank order
    grows = frames.assign(error=frames["error"] + frames["frame"])  # error rising with the intensity
    assert ap.error_intensity_rho(grows) == pytest.approx(1.0)
    assert np.isnan(ap.error_intensity_rho(grows.assign(intensity=np.nan)))  # no ground-truth intensity
    fig = vp.landmark_error_figure(regions, grows, ap.error_intensity_rho(grows))
    assert len(fig.axes) == 2 and "ground-truth expression intensity" in fig.axes[1].get_xlabel()
    bars = [p.get_height() for p in fig.axes[0].containers[0]]
    assert len(bars) == len(REGIONS) and bars == pytest.approx([10.0] * len(bars), rel=1e-4)
    assert len(fig.axes[1].collections[0].get_offsets()) == t  # one point per frame
    assert "Spearman ρ = 1.00" in fig.axes[1].get_legend().get_texts()[0].get_text()
    plt.close(fig)
    with pytest.raises(ValueError, match="need one ground-truth id per clip"):
        ap.landmark_error_data([clip], store, [])
    with pytest.raises(ValueError, match=r"missing columns \['intensity'\]"):
        vp.landmark_error_figure(regions, frames.drop(columns="intensity"))
    with pytest.raises(ValueError, match="1 clips but 2"):
        ap.landmark_error_table([clip], store, ["g", "g"])


def test_keypoint_and_heatmap_figures():
    img, lm = np.full((64, 64, 3), 128, np.uint8), _face(1)[0]
    fig = vp.keypoints_figure([img, img], [lm, lm], ["a", "b"])
    assert len(fig.axes) == 2 and fig.axes[0].get_title() == "a"
    assert len(fig.axes[0].texts) == 18  # one number per key-point
    plt.close(fig)
    maps = ap.keypoint_heatmaps(lm, img.shape[:2], grid=8)
    assert maps.shape == (18, 8, 8) and maps.max() <= 1 and (maps.reshape(18, -1).max(1) > 0.3).all()  # each peaks near its point
    fig = vp.heatmaps_figure(img, maps)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 19  # 18 maps and their maximum
    assert panels[0].images[1].get_array().shape == (8, 8)
    assert np.ma.getdata(panels[-1].images[1].get_array()) == pytest.approx(maps.max(0))
    plt.close(fig)
    with pytest.raises(ValueError, match=r"landmarks must be \(68, 2\)"):
        ap.keypoint_heatmaps(lm[:18], img.shape[:2])
    with pytest.raises(ValueError, match=r"maps must be \(18, grid, grid\)"):
        vp.heatmaps_figure(img, maps[:17])
    with pytest.raises(ValueError, match=r"image must be \(H, W, 3\)"):
        vp.keypoints_figure([img[..., 0]], [lm])
    with pytest.raises(ValueError, match="grid must be >= 2"):
        ap.keypoint_heatmaps(lm, img.shape[:2], grid=1)


def test_folder_index_and_limits(tmp_path):
    (tmp_path / "a" / "clip1.mp4").parent.mkdir()
    (tmp_path / "a" / "clip1.mp4").write_bytes(b"x")
    frames = tmp_path / "b" / "seq 2"
    frames.mkdir(parents=True)
    (frames / "0001.png").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a clip")
    index = folder.folder_index(tmp_path)
    assert index.clip_ids == ["a_clip1", "b_seq_2"] and index.classes == (folder.UNLABELLED,)
    limited = folder.limit_index(index, max_clips=1, max_frames=10)
    assert len(limited) == 1 and limited.df["frame_stop"].tolist() == [10]
    windows = ClipIndex.from_records([{"clip_id": "w", "label": 0, "subject": "s", "source": "v", "frame_start": 45,
                                       "frame_stop": 90}], ("happy",))
    assert folder.limit_index(windows, max_frames=16).df[["frame_start", "frame_stop"]].values.tolist() == [[45, 61]]
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no video files"):
        folder.folder_index(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="is not a folder of videos"):
        folder.folder_index(tmp_path / "missing")
    with pytest.raises(ValueError, match="max_clips and max_frames must be >= 0"):
        folder.limit_index(index, max_clips=-1)


def test_demo_videos_need_three_subjects(tmp_path):
    with pytest.raises(ValueError, match="n_subjects must be >= 3"):
        demo_videos.make_demo_videos(tmp_path, n_subjects=2)
    with pytest.raises(ValueError, match="no AFEW folder"):
        demo_videos.make_demo_videos(tmp_path, classes=("contempt",))


def test_demo_videos_made_twice_in_one_folder_index_the_same_clips(tmp_path):
    """A notebook run again calls make_demo_videos on its own folder: the AFEW copy is written anew."""
    from ferlib.data.adapters import load_index

    _, root = demo_videos.make_demo_videos(tmp_path, n_subjects=3, n_frames=2, side=64)
    first = load_index("afew", root).clip_ids
    _, again = demo_videos.make_demo_videos(tmp_path, n_subjects=3, n_frames=2, side=64)
    assert again == root and load_index("afew", again).clip_ids == first and len(first) == 5  # 3 clips + 2 bad


def test_the_face_less_video_decodes_but_has_no_face(tmp_path):
    path = demo_videos.write_no_face_video(tmp_path / "wall.avi", n_frames=3, side=96)
    with pytest.raises(NoFaceError, match="no face found in any of the 3 frames of .*wall.avi"):
        ap.inspect_clip(path)


def test_failures_table_reads_the_same_on_every_machine(tmp_path):
    """Sources relative to the source folder, and its absolute path in a reason shown as <source_root>."""
    src = tmp_path / "videos"
    (src / "Train").mkdir(parents=True)
    root = tmp_path / "store"
    root.mkdir()
    (root / "failures.csv").write_text(
        "clip_id,source,reason\n"
        f"a,{src / 'Train' / 'a.avi'},VideoReadError: cannot open video {src / 'Train' / 'a.avi'} (corrupt)\n"
        f"b,/elsewhere/b.avi,NoFaceError: no face in /elsewhere/b.avi\n")

    class Store:  # the one method failures_table reads
        def failures(self):
            return ClipStore.failures(type("S", (), {"root": root})())

    table = ap.failures_table(Store(), src)
    assert table.loc["a", "source"] == "Train/a.avi"
    assert table.loc["a", "reason"] == "VideoReadError: cannot open video <source_root>/Train/a.avi (corrupt)"
    assert table.loc["b", "source"] == "/elsewhere/b.avi" and "/elsewhere/b.avi" in table.loc["b", "reason"]
