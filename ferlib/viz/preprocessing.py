"""What notebook 01 shows of the preprocessing: videos to run it on, what it found, how well.

The preprocessing itself is :mod:`ferlib.preprocess` (dlib detection → 68 landmarks → eye-level
alignment → crop, :func:`~ferlib.preprocess.pipeline.preprocess_index`); this module only feeds
it and looks at its output:

* **inputs** — :func:`make_demo_videos` writes generated clips as an AFEW-style copy
  (``Train|Val/<Emotion>/<clip>.avi``, MJPG-compressed) with their ground truth kept aside, plus a
  corrupt file and a valid video without a face, so that the failures report is never empty;
  :func:`folder_index` indexes any folder of the user's own videos; :func:`limit_index` keeps a
  few clips and frames of a large data set;
* **inspection** — :func:`inspect_clip` repeats one clip's pipeline in memory and keeps what the
  store drops: the source frames, detector boxes and scores, and the landmarks in source pixels;
* **accuracy** — :func:`landmark_errors` compares detected landmarks with the generator's ground
  truth, in pixels and in % of the inter-ocular distance (the 300-W convention), a number none of
  the papers reports for its preprocessing; :func:`landmark_error_table` and
  :func:`landmark_error_figure` summarise it per clip, per facial region and against the
  expression intensity of each frame;
* **report** — :func:`status_table` (every clip: stored or failed, why) and
  :func:`failures_table` (the store's ``failures.csv``);
* **KP-GCN-MSA inputs** — :func:`keypoints_figure` (the 18 key-points, their regions, graph
  and cheek triangles, paper 002 Sec. 3.1.1 / Fig. 2) and :func:`heatmaps_figure` (the 18
  Gaussian maps Aʲ of eq. 2 on the feature-map grid).

Coordinates are ``(x, y)`` pixels, iBUG-68 order, as everywhere in ferlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import cv2
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ferlib.data.index import ClipIndex, safe_clip_id
from ferlib.data.landmarks68 import REGIONS as LANDMARK_REGIONS
from ferlib.data.landmarks68 import inter_ocular
from ferlib.data.store import FLAG_INTERPOLATED, FLAG_NO_FACE, ClipStore
from ferlib.preprocess.align import align_crop_clip
from ferlib.preprocess.face import ClipFaces, track_faces
from ferlib.preprocess.keypoints import (
    CHEEK_TRIANGLES,
    KEYPOINT_EDGES,
    KEYPOINT_NAMES,
    REGIONS as KEYPOINT_REGIONS,
    gaussian_heatmaps,
    select_keypoints,
)
from ferlib.preprocess.pipeline import PreprocessConfig, resolve_source
from ferlib.preprocess.video import IMAGE_EXTENSIONS, VIDEO_EXTENSIONS, read_frames
from ferlib.viz.style import OURS_COLOR, palette

#: file names (inside the AFEW-style copy) of the two bad videos :func:`make_demo_videos` adds
CORRUPT_VIDEO = Path("Train") / "Happy" / "corrupt_video.avi"
NO_FACE_VIDEO = Path("Train") / "Neutral" / "no_face_video.avi"
UNLABELLED = "unlabelled"

#: iBUG regions named by image side (iBUG's "right" brow/eye is the subject's right, on the image's
#: left), matching the key-point names of :mod:`ferlib.preprocess.keypoints`
REGION_LABELS = {"jaw": "jaw", "right_brow": "brow, image left", "left_brow": "brow, image right",
                 "nose_bridge": "nose bridge", "nose_lower": "nose, lower", "right_eye": "eye, image left",
                 "left_eye": "eye, image right", "outer_lip": "outer lip", "inner_lip": "inner lip"}


# -- inputs ------------------------------------------------------------------------------------
def write_no_face_video(path: str | Path, n_frames: int = 8, size: int = 128, fps: int = 25) -> Path:
    """A valid MJPG video of ``n_frames`` ``size × size`` frames showing a scene without a face
    (a shaded wall and a drifting box): it decodes fine, so its failure is the detector's
    "no face", not a decoding error."""
    if n_frames < 1 or size < 16:
        raise ValueError(f"need n_frames >= 1 and size >= 16, got {n_frames} and {size}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (size, size))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path} (MJPG codec missing?)")
    y, x = np.mgrid[0:size, 0:size]
    wall = (90 + 60 * x / size + 30 * y / size).astype(np.uint8)
    for t in range(n_frames):
        frame = np.stack([wall, wall * 0.9, wall * 0.7], axis=-1).astype(np.uint8)
        left = int(size * (0.15 + 0.4 * t / max(1, n_frames)))
        cv2.rectangle(frame, (left, size // 3), (left + size // 4, size // 3 + size // 5), (40, 70, 150), -1)
        writer.write(np.ascontiguousarray(frame))
    writer.release()
    return path


def make_demo_videos(
    out_dir: str | Path,
    synth_profile: str = "lab",
    n_subjects: int = 3,
    classes: Sequence[str] = ("happy",),
    n_frames: int = 8,
    size: int = 128,
    seed: int = 0,
) -> tuple[ClipStore, Path]:
    """Generated clips written as a real data set's videos, with their ground truth.

    Writes ``<out_dir>/truth`` (a generated clip store: frames, landmarks ``(T, 68, 2)`` and
    intensity per clip) and ``<out_dir>/afew`` (the same clips as ``Train|Val/<Emotion>/<clip_id>.avi``,
    the AFEW layout, subjects split 80/20), then adds :data:`CORRUPT_VIDEO` (bytes that are not a
    video) and :data:`NO_FACE_VIDEO` (:func:`write_no_face_video`). ``n_subjects >= 3`` so that the
    Val split is not empty. Returns the ground-truth store and the layout's root, which
    ``ferlib.data.adapters.load_index("afew", root)`` indexes like a real copy of AFEW.
    """
    from ferlib.synth.export import AFEW_FOLDERS, export_layout
    from ferlib.synth.generate import SynthConfig, generate

    if n_subjects < 3:
        raise ValueError(f"n_subjects must be >= 3 (one subject goes to the Val split), got {n_subjects}")
    unknown = [c for c in classes if c not in AFEW_FOLDERS]
    if unknown:
        raise ValueError(f"classes {unknown} have no AFEW folder; choose among {sorted(AFEW_FOLDERS)}")
    out = Path(out_dir)
    cfg = SynthConfig(n_subjects=n_subjects, profile=synth_profile, classes=tuple(classes), n_frames=n_frames,
                      size=size, seed=seed)
    truth = generate(out / "truth", cfg, progress=False)
    layout = out / "afew"
    export_layout(truth, layout, "afew")
    (layout / CORRUPT_VIDEO).parent.mkdir(parents=True, exist_ok=True)
    (layout / CORRUPT_VIDEO).write_bytes(b"RIFF\x00\x10\x00\x00AVI LIST" + bytes(range(256)) * 4)
    write_no_face_video(layout / NO_FACE_VIDEO, n_frames, size)
    return truth, layout


def folder_index(root: str | Path, dataset: str = "") -> ClipIndex:
    """Every video file and every folder of frames under ``root`` (recursively) as one clip.

    For a user's own videos that follow no data set's layout: the clips get the single class
    ``"unlabelled"``, ``subject`` = clip id, ``split`` ``""``; ``clip_id`` is the path relative to
    ``root`` made file-name safe. Raises ``FileNotFoundError`` naming ``root`` when it holds no clip.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a folder of videos")
    sources: list[Path] = []
    for p in sorted(root.rglob("*")):
        if p.name.startswith("."):
            continue
        if p.is_file() and p.suffix.lower() in VIDEO_EXTENSIONS:
            sources.append(p)
        elif p.is_dir() and any(f.suffix.lower() in IMAGE_EXTENSIONS for f in p.iterdir() if f.is_file()):
            sources.append(p)
    if not sources:
        raise FileNotFoundError(
            f"no video files ({sorted(VIDEO_EXTENSIONS)}) and no folders of images under {root}")
    records = [{"clip_id": safe_clip_id(str(p.relative_to(root).with_suffix(""))), "label_name": UNLABELLED,
                "subject": safe_clip_id(str(p.relative_to(root).with_suffix(""))), "source": str(p)}
               for p in sources]
    return ClipIndex.from_records(records, (UNLABELLED,), dataset or root.name)


def limit_index(index: ClipIndex, max_clips: int = 0, max_frames: int = 0) -> ClipIndex:
    """At most ``max_clips`` clips spread evenly over the index (0 = all), each cut to its first
    ``max_frames`` frames (0 = all; a window's ``frame_start`` is kept and its length capped)."""
    if max_clips < 0 or max_frames < 0:
        raise ValueError(f"max_clips and max_frames must be >= 0, got {max_clips} and {max_frames}")
    df = index.df
    if max_clips and len(df) > max_clips:
        rows = np.unique(np.round(np.linspace(0, len(df) - 1, max_clips)).astype(int))
        df = df.iloc[rows]
    df = df.copy()
    if max_frames:
        start = pd.to_numeric(df.get("frame_start", pd.Series(np.nan, index=df.index)), errors="coerce").fillna(0)
        stop = pd.to_numeric(df.get("frame_stop", pd.Series(np.nan, index=df.index)), errors="coerce")
        capped = start + max_frames
        df["frame_start"] = start.astype(int)
        df["frame_stop"] = np.where(stop.isna(), capped, np.minimum(stop.fillna(np.inf), capped)).astype(int)
    return ClipIndex(df, index.classes, index.dataset)


# -- inspection --------------------------------------------------------------------------------
@dataclass
class InspectedClip:
    """One clip through the pipeline, keeping the source side (T frames)."""

    clip_id: str
    frames: np.ndarray  #: (T, H, W, 3) uint8 RGB source frames
    faces: ClipFaces  #: boxes (T, 4), landmarks (T, 68, 2) in source pixels, flags, detector scores
    crops: np.ndarray  #: (T, S, S, 3) uint8 aligned crops (what the store keeps)
    crop_landmarks: np.ndarray  #: (T, 68, 2) landmarks in crop pixels
    transforms: np.ndarray  #: (T, 2, 3) source → crop


def inspect_clip(source: str | Path, config: PreprocessConfig = PreprocessConfig(), frame_start: int | None = None,
                 frame_stop: int | None = None, clip_id: str = "") -> InspectedClip:
    """Run one clip through the same steps as :func:`ferlib.preprocess.pipeline.preprocess_clip`
    (decode → :func:`track_faces` → :func:`align_crop_clip`) and keep the source frames, boxes,
    scores and source-pixel landmarks that the clip store does not hold."""
    frames = read_frames(source, frame_start, frame_stop, config.frame_step)
    faces = track_faces(frames, config.detector(), config.detect_every, source=str(source))
    crops, lms, transforms = align_crop_clip(frames, faces.boxes, faces.landmarks, config.size, config.extend,
                                             config.align, config.smooth, config.antialias, config.crop_box)
    return InspectedClip(clip_id or Path(source).stem, frames, faces, crops, lms, transforms)


def inspect_stored(index: ClipIndex, store: ClipStore, config: PreprocessConfig, clip_ids: Sequence[str] | None = None,
                   source_root: str | Path | None = None) -> list[InspectedClip]:
    """:func:`inspect_clip` for the clips of ``index`` that the store holds (all, or ``clip_ids``),
    with each row's frame range; clips the store lacks (failed ones) are left out."""
    rows = index.df.set_index("clip_id")
    wanted = [c for c in (clip_ids if clip_ids is not None else index.clip_ids) if store.has(c)]
    out = []
    for cid in wanted:
        row = rows.loc[cid]
        start, stop = row.get("frame_start"), row.get("frame_stop")
        start = None if start is None or pd.isna(start) else int(start)
        stop = None if stop is None or pd.isna(stop) else int(stop)
        out.append(inspect_clip(resolve_source(str(row["source"]), source_root), config, start, stop, cid))
    return out


# -- accuracy ----------------------------------------------------------------------------------
def landmark_errors(detected: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Point-to-point error of ``detected`` vs ``truth`` landmarks, both ``(T, 68, 2)`` pixels.

    Returns ``(error_px (T, 68), error_iod (T, 68))``: the Euclidean distance per landmark, and the
    same divided by the frame's ground-truth outer inter-ocular distance ``|p45 − p36|`` (×100 gives
    % IOD, the normalisation of the 300-W landmark benchmark)."""
    detected, truth = np.asarray(detected, np.float64), np.asarray(truth, np.float64)
    if detected.shape != truth.shape or detected.ndim != 3 or detected.shape[1:] != (68, 2):
        raise ValueError(f"detected and truth must both be (T, 68, 2), got {detected.shape} and {truth.shape}")
    err = np.linalg.norm(detected - truth, axis=-1)
    iod = inter_ocular(truth)
    if (iod <= 0).any():
        raise ValueError("ground-truth inter-ocular distance is 0 in some frame")
    return err, err / iod[:, None]


def landmark_error_table(clips: Sequence[InspectedClip], truth: ClipStore, truth_ids: Sequence[str]) -> pd.DataFrame:
    """Per clip (and ``all clips``): frames, frames without a detected face, mean ground-truth IOD in
    pixels, mean / 90th-percentile error in pixels of the source video and in % IOD, and the worst
    facial region (highest mean % IOD). ``truth_ids[i]`` is the ground-truth clip of ``clips[i]``."""
    if len(clips) != len(truth_ids):
        raise ValueError(f"{len(clips)} clips but {len(truth_ids)} ground-truth ids")
    rows, all_px, all_iod = [], [], []
    for clip, tid in zip(clips, truth_ids):
        gt = np.asarray(truth.read(tid).landmarks)[: len(clip.frames)]
        px, iod = landmark_errors(clip.faces.landmarks, gt)
        all_px.append(px.ravel())
        all_iod.append(iod.ravel())
        regions = {REGION_LABELS[name]: iod[:, list(idx)].mean() for name, idx in LANDMARK_REGIONS.items()}
        rows.append({"clip": clip.clip_id, "frames": len(clip.frames), "no_face_frames": clip.faces.n_no_face,
                     "iod_px": float(inter_ocular(gt).mean()), "mean_px": float(px.mean()),
                     "p90_px": float(np.quantile(px, 0.9)), "mean_pct_iod": float(100 * iod.mean()),
                     "p90_pct_iod": float(100 * np.quantile(iod, 0.9)), "worst_region": max(regions, key=regions.get)})
    if rows:
        px, iod = np.concatenate(all_px), np.concatenate(all_iod)
        rows.append({"clip": "all clips", "frames": sum(r["frames"] for r in rows),
                     "no_face_frames": sum(r["no_face_frames"] for r in rows),
                     "iod_px": float(np.mean([r["iod_px"] for r in rows])), "mean_px": float(px.mean()),
                     "p90_px": float(np.quantile(px, 0.9)), "mean_pct_iod": float(100 * iod.mean()),
                     "p90_pct_iod": float(100 * np.quantile(iod, 0.9)), "worst_region": ""})
    return pd.DataFrame(rows).set_index("clip").round(2) if rows else pd.DataFrame()


def landmark_error_figure(clips: Sequence[InspectedClip], truth: ClipStore, truth_ids: Sequence[str],
                          title: str = "") -> Figure:
    """Left: mean error in % IOD per facial region (seaborn ``barplot`` = all clips, ``stripplot``
    dots = single clips). Right: each frame's mean error against its ground-truth expression
    intensity (``regplot``; does the detector degrade at the apex?), with the Spearman
    correlation in the legend."""
    from scipy.stats import spearmanr

    if not clips or len(clips) != len(truth_ids):
        raise ValueError(f"need one ground-truth id per clip and at least one clip, got {len(clips)} and {len(truth_ids)}")
    names = list(LANDMARK_REGIONS)
    per_clip, frame_err, frame_int = [], [], []
    for clip, tid in zip(clips, truth_ids):
        rec = truth.read(tid)
        t = len(clip.frames)
        _, iod = landmark_errors(clip.faces.landmarks, np.asarray(rec.landmarks)[:t])
        per_clip.append([100 * iod[:, list(LANDMARK_REGIONS[n])].mean() for n in names])
        frame_err.append(100 * iod.mean(axis=1))
        inten = rec.intensity
        frame_int.append(np.asarray(inten)[:t] if inten is not None else np.full(t, np.nan))
    per_clip_arr = np.asarray(per_clip)
    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [1.4, 1]})
    long = pd.DataFrame([{"region": REGION_LABELS[n], "error": v} for row in per_clip_arr for n, v in zip(names, row)])
    order = [REGION_LABELS[n] for n in names]
    sns.barplot(data=long, x="region", y="error", order=order, color=OURS_COLOR, alpha=0.75, errorbar=None,
                label="mean over clips", ax=ax)
    sns.stripplot(data=long, x="region", y="error", order=order, color="black", size=3, alpha=0.6, jitter=0.25,
                  ax=ax)
    ax.plot([], [], ".", color="k", label="one clip")
    ax.set_xticks(range(len(order)), order, rotation=35, ha="right", fontsize=8)
    ax.set_ylabel("landmark error (% inter-ocular distance)")
    ax.set_xlabel("facial region (iBUG 68)")
    ax.grid(axis="x", visible=False)
    ax.set_ylim(0, 1.3 * float(np.nanmax(per_clip_arr)) if np.isfinite(per_clip_arr).any() else 1)
    ax.legend(fontsize=7, loc="upper center", ncol=2)  # in the headroom above the bars
    ax.set_title("error per region", fontsize=9)
    err, inten = np.concatenate(frame_err), np.concatenate(frame_int)
    ok = np.isfinite(inten)
    if ok.sum() >= 3 and np.ptp(inten[ok]) > 0:
        rho = spearmanr(inten[ok], err[ok]).statistic if np.ptp(err[ok]) > 0 else float("nan")
        sns.regplot(x=inten[ok], y=err[ok], ax=ax2, color=palette(3)[2], n_boot=200, seed=0, truncate=True,
                    scatter_kws={"s": 8, "alpha": 0.6, "linewidths": 0}, line_kws={"lw": 1.4},
                    label=f"one frame; Spearman ρ = {rho:.2f}")
        ax2.legend(fontsize=7, loc="upper left")
        ax2.set_title(f"per frame (n = {ok.sum()} frames)", fontsize=9)
    else:
        ax2.plot(np.arange(len(err)), err, ".", color=palette(3)[2], ms=4)
        ax2.set_title("per frame (no ground-truth intensity)", fontsize=9)
    ax2.set_xlabel("ground-truth expression intensity of the frame")
    ax2.set_ylabel("mean landmark error (% IOD)")
    fig.suptitle(title or "detected vs ground-truth landmarks", fontsize=10)
    fig.tight_layout()
    return fig


# -- report ------------------------------------------------------------------------------------
def status_table(index: ClipIndex, store: ClipStore) -> pd.DataFrame:
    """Every clip of ``index``: label, ``stored`` / ``failed`` / ``not done``, frames stored, frames
    without a face, frames whose landmarks were propagated, and the kind of failure (the full
    reason is in :func:`failures_table`)."""
    failures = store.failures().set_index("clip_id")["reason"].to_dict() if len(store.failures()) else {}
    rows = []
    for row in index.df.itertuples():
        rec = {"clip": row.clip_id, "label": row.label_name, "status": "not done", "frames": 0,
               "no_face_frames": 0, "propagated_frames": 0, "reason": ""}
        if store.has(row.clip_id):
            flags = np.asarray(store.read(row.clip_id).flags)
            rec.update(status="stored", frames=int(flags.size), no_face_frames=int(np.count_nonzero(flags & FLAG_NO_FACE)),
                       propagated_frames=int(np.count_nonzero(flags & FLAG_INTERPOLATED)))
        elif row.clip_id in failures:
            reason = str(failures[row.clip_id])
            rec.update(status="failed", reason=reason.split(":")[0] + " (see the failures report)")
        rows.append(rec)
    return pd.DataFrame(rows).set_index("clip")


def failures_table(store: ClipStore, source_root: str | Path | None = None) -> pd.DataFrame:
    """The store's failures report (``failures.csv``: clip, source, reason), sources shown
    relative to ``source_root`` when they lie under it."""
    table = store.failures().copy()
    if source_root is not None and len(table):
        root = Path(source_root).resolve()

        def rel(s: str) -> str:
            p = Path(s)
            try:
                return str(p.resolve().relative_to(root))
            except ValueError:
                return s

        table["source"] = table["source"].map(rel)
    return table.set_index("clip_id") if len(table) else table


# -- figures -----------------------------------------------------------------------------------
def _frame_positions(t: int, n: int) -> np.ndarray:
    return np.unique(np.round(np.linspace(0, t - 1, min(n, t))).astype(int))


def _flag_text(flag: int) -> str:
    if flag & FLAG_NO_FACE:
        return "no face: box carried over"
    if flag & FLAG_INTERPOLATED:
        return "propagated"
    return ""


def detection_overlay_figure(clips: Sequence[InspectedClip], truth: Sequence[np.ndarray | None] | None = None,
                             n_frames: int = 4, title: str = "") -> Figure:
    """One row per clip: ``n_frames`` source frames spread over the clip with the detector's box
    (yellow), the 68 detected landmarks (red) and, when given, the ground-truth landmarks
    ``truth[i]`` ``(T, 68, 2)`` (green); then the aligned crop of the last shown frame with its
    landmarks, as the clip store keeps it. ``len(clips) × (n_frames + 1)`` axes."""
    if not clips:
        raise ValueError("detection_overlay_figure needs at least one clip")
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    truth = list(truth) if truth is not None else [None] * len(clips)
    if len(truth) != len(clips):
        raise ValueError(f"{len(clips)} clips but {len(truth)} ground-truth entries")
    for clip, gt in zip(clips, truth):
        t = len(clip.frames)
        if clip.frames.ndim != 4 or clip.faces.landmarks.shape != (t, 68, 2) or clip.faces.boxes.shape != (t, 4):
            raise ValueError(f"clip {clip.clip_id}: frames (T, H, W, 3), boxes (T, 4) and landmarks (T, 68, 2) must "
                             f"agree, got {clip.frames.shape}, {clip.faces.boxes.shape}, {clip.faces.landmarks.shape}")
        if gt is not None and (np.ndim(gt) != 3 or np.shape(gt)[0] < t or np.shape(gt)[1:] != (68, 2)):
            raise ValueError(f"clip {clip.clip_id}: ground truth must be (>= {t}, 68, 2), got {np.shape(gt)}")
    rows, cols = len(clips), n_frames + 1
    fig, axes = plt.subplots(rows, cols, figsize=(2.1 * cols, 2.45 * rows + 0.5), squeeze=False)
    for r, (clip, gt) in enumerate(zip(clips, truth)):
        shown = _frame_positions(len(clip.frames), n_frames)
        for c in range(n_frames):
            ax = axes[r, c]
            ax.set_xticks([])
            ax.set_yticks([])
            if c >= len(shown):
                ax.axis("off")
                continue
            i = int(shown[c])
            ax.imshow(clip.frames[i])
            l, tp, rt, b = clip.faces.boxes[i]
            ax.add_patch(Rectangle((l - 0.5, tp - 0.5), rt - l + 1, b - tp + 1, fill=False, ec="yellow", lw=1.2))
            if gt is not None:
                ax.plot(gt[i, :, 0], gt[i, :, 1], "+", color="lime", ms=3, mew=0.7)
            ax.plot(clip.faces.landmarks[i, :, 0], clip.faces.landmarks[i, :, 1], ".", color="red", ms=2)
            score = clip.faces.scores[i]
            note = _flag_text(int(clip.faces.flags[i])) or (f"score {score:.2f}" if np.isfinite(score) else "")
            ax.set_title(f"frame {i}\n{note}", fontsize=7)
            if c == 0:
                ax.set_ylabel(clip.clip_id, fontsize=7)
        ax = axes[r, -1]
        i = int(shown[-1])
        ax.imshow(clip.crops[i])
        ax.plot(clip.crop_landmarks[i, :, 0], clip.crop_landmarks[i, :, 1], ".", color="red", ms=2)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"aligned crop {clip.crops.shape[1]} px\n(frame {i}, stored)", fontsize=7)
    handles = [plt.Line2D([], [], color="yellow", lw=1.2, label="dlib box"),
               plt.Line2D([], [], ls="", marker=".", color="red", label="detected landmarks")]
    if any(g is not None for g in truth):
        handles.append(plt.Line2D([], [], ls="", marker="+", color="lime", label="ground truth"))
    fig.legend(handles=handles, loc="lower center", ncol=len(handles), fontsize=8, frameon=False)
    fig.suptitle(title or "face detection and landmarks", fontsize=10)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


_REGION_COLOURS = {"upper_left": "tab:blue", "upper_right": "tab:orange", "lower": "tab:green", "nose bridge": "tab:purple"}


def _keypoint_colours() -> list[str]:
    colours = ["tab:purple"] * len(KEYPOINT_NAMES)
    for name, members in KEYPOINT_REGIONS.items():
        for k in members:
            colours[k] = _REGION_COLOURS[name]
    return colours


def _check_face(image: np.ndarray, landmarks: np.ndarray) -> None:
    if np.ndim(image) != 3 or np.shape(image)[2] != 3:
        raise ValueError(f"image must be (H, W, 3), got {np.shape(image)}")
    if np.shape(landmarks) != (68, 2):
        raise ValueError(f"landmarks must be (68, 2) pixel x/y of the image, got {np.shape(landmarks)}")


def keypoints_figure(images: Sequence[np.ndarray], landmarks: Sequence[np.ndarray], titles: Sequence[str] = (),
                     title: str = "") -> Figure:
    """The 18 KP-GCN-MSA key-points on each face ``images[i]`` ``(H, W, 3)`` with ``landmarks[i]``
    ``(68, 2)``: the 68 landmarks faint, the key-points numbered and coloured by fusion region
    (upper-left, upper-right, lower, nose bridge), the key-point graph's edges, and the two cheek
    triangles whose centroids are key-points 16 and 17 (paper 002 Sec. 3.1.1, 3.2)."""
    if not images or len(images) != len(landmarks):
        raise ValueError(f"need as many landmark sets as images (at least one), got {len(images)} and {len(landmarks)}")
    for img, lm in zip(images, landmarks):
        _check_face(img, lm)
    colours = _keypoint_colours()
    fig, axes = plt.subplots(1, len(images), figsize=(4.2 * len(images), 4.6), squeeze=False)
    for i, (img, lm) in enumerate(zip(images, landmarks)):
        ax = axes[0, i]
        lm = np.asarray(lm, np.float64)
        kp = select_keypoints(lm)
        ax.imshow(img)
        ax.plot(lm[:, 0], lm[:, 1], ".", color="white", ms=2, alpha=0.6)
        for a, b in KEYPOINT_EDGES:
            ax.plot(kp[[a, b], 0], kp[[a, b], 1], "-", color="white", lw=0.7, alpha=0.7)
        for tri in CHEEK_TRIANGLES:
            pts = lm[list(tri) + [tri[0]]]
            ax.plot(pts[:, 0], pts[:, 1], "--", color="yellow", lw=0.8)
        ax.scatter(kp[:, 0], kp[:, 1], s=28, c=colours, edgecolors="black", linewidths=0.5, zorder=3)
        for k, (x, y) in enumerate(kp):
            ax.annotate(str(k), (x, y), xytext=(3, -3), textcoords="offset points", fontsize=7, color="white",
                        fontweight="bold")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_xlabel(f"x (px, {img.shape[1]} wide)", fontsize=8)
        ax.set_ylabel(f"y (px, {img.shape[0]} high)", fontsize=8)
        if i < len(titles):
            ax.set_title(titles[i], fontsize=9)
    handles = [plt.Line2D([], [], ls="", marker="o", color=c, label=n.replace("_", "-"))
               for n, c in _REGION_COLOURS.items()]
    handles += [plt.Line2D([], [], color="white", lw=0.7, label="graph edge"),
                plt.Line2D([], [], color="yellow", ls="--", label="cheek triangle")]
    fig.legend(handles=handles, loc="lower center", ncol=6, fontsize=8, frameon=True, facecolor="0.85")
    fig.suptitle(title or "18 key-points of KP-GCN-MSA", fontsize=10)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def heatmaps_figure(image: np.ndarray, landmarks: np.ndarray, grid: int = 14, sigma: float = 1.0, title: str = "") -> Figure:
    """The 18 Gaussian attention maps Aʲ (paper 002 eq. 2) of one face, each on the ``grid × grid``
    feature-map cells the model pools (14 for the paper's 112-px input at output stride 8), drawn
    over the face; ``sigma`` in cells. The last panel holds their maximum. 19 image axes
    (a 4 × 5 grid, one axis left empty)."""
    _check_face(image, landmarks)
    if grid < 2:
        raise ValueError(f"grid must be >= 2 cells, got {grid}")
    h, w = image.shape[:2]
    kp = select_keypoints(np.asarray(landmarks, np.float32))
    maps = gaussian_heatmaps(kp, (grid, grid), (h, w), sigma).numpy()  # (18, grid, grid)
    grey = np.asarray(image, np.float32).mean(axis=-1)
    extent = (-0.5, w - 0.5, h - 0.5, -0.5)
    fig, axes = plt.subplots(4, 5, figsize=(10, 8.6))
    panels = [(maps[k], f"{k} {KEYPOINT_NAMES[k]}") for k in range(len(maps))] + [(maps.max(0), "max over the 18")]
    im = None
    for ax, (m, name) in zip(axes.flat, panels):
        ax.imshow(grey, cmap="gray", extent=extent, vmin=0, vmax=255)
        im = ax.imshow(np.ma.masked_less(m, 0.02), cmap="inferno", alpha=0.7, extent=extent, vmin=0, vmax=1,
                       interpolation="nearest")
        ax.set_title(name.replace("_", " "), fontsize=8)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in list(axes.flat)[len(panels):]:
        ax.axis("off")
    cax = axes.flat[-1].inset_axes((0.35, 0.08, 0.1, 0.84))
    fig.colorbar(im, cax=cax, label="Aʲ (1 at the key-point)")
    fig.suptitle(title or f"Gaussian heat-maps Aʲ on a {grid}×{grid} grid (σ = {sigma:g} cell)", fontsize=10)
    fig.tight_layout()
    return fig
