"""What a preprocessing run did, measured: one clip's pipeline kept in memory, landmark accuracy against
the generator's ground truth, and which clips were stored or failed (notebook 01).

* **inspection** — :func:`inspect_clip` repeats one clip's pipeline in memory and keeps what the
  store drops: the source frames, detector boxes and scores, and the landmarks in source pixels;
  :func:`inspect_stored` does it for the clips a store holds;
* **accuracy** — :func:`landmark_errors` compares detected landmarks with the generator's ground
  truth, in pixels and in % of the inter-ocular distance (the 300-W convention), a number none of
  the papers reports for its preprocessing; :func:`landmark_error_table` summarises it per clip
  and names the worst facial region; :func:`landmark_error_data` gives it per region and per frame
  beside the frame's expression intensity, :func:`error_intensity_rho` their Spearman correlation
  (:func:`ferlib.viz.preprocessing.landmark_error_figure` draws them);
* **key-points** — :func:`keypoint_heatmaps`: the 18 Gaussian maps of KP-GCN-MSA eq. 2 of one face
  (:func:`ferlib.viz.preprocessing.heatmaps_figure` draws them); :func:`flag_note` words a frame's
  preprocessing flag;
* **report** — :func:`status_table` (every clip: stored or failed, why) and
  :func:`failures_table` (the store's ``failures.csv``).

Coordinates are ``(x, y)`` pixels, iBUG-68 order, as everywhere in ferlib.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from ferlib.data.index import ClipIndex
from ferlib.data.landmarks68 import REGIONS as LANDMARK_REGIONS
from ferlib.data.landmarks68 import inter_ocular
from ferlib.data.store import FLAG_INTERPOLATED, FLAG_NO_FACE, ClipStore
from ferlib.preprocess.align import align_crop_clip
from ferlib.preprocess.face import ClipFaces, track_faces
from ferlib.preprocess.keypoints import gaussian_heatmaps, select_keypoints
from ferlib.preprocess.pipeline import PreprocessConfig, resolve_source
from ferlib.preprocess.video import read_frames

__all__ = ["REGION_LABELS", "InspectedClip", "inspect_clip", "inspect_stored", "landmark_errors", "landmark_error_table",
           "landmark_error_data", "error_intensity_rho", "keypoint_heatmaps", "flag_note", "status_table",
           "failures_table"]

#: iBUG regions named by image side (iBUG's "right" brow/eye is the subject's right, on the image's
#: left), matching the key-point names of :mod:`ferlib.preprocess.keypoints`
REGION_LABELS = {"jaw": "jaw", "right_brow": "brow, image left", "left_brow": "brow, image right",
                 "nose_bridge": "nose bridge", "nose_lower": "nose, lower", "right_eye": "eye, image left",
                 "left_eye": "eye, image right", "outer_lip": "outer lip", "inner_lip": "inner lip"}


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
    crops, lms, transforms = align_crop_clip(frames, faces.boxes, faces.landmarks, config.side, config.extend,
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


def landmark_error_data(clips: Sequence[InspectedClip], truth: ClipStore,
                        truth_ids: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The landmark error of each clip against its ground truth ``truth_ids[i]`` in ``truth``, in % IOD:
    ``regions`` (one row a clip and facial region: ``clip``, ``region`` (a :data:`REGION_LABELS`
    label, iBUG order), ``error``: the region's mean) and ``frames`` (one row a frame: ``clip``,
    ``frame``, ``error``: the frame's mean over the 68 points, ``intensity``: its ground-truth
    expression intensity, NaN where the store has none)."""
    if not clips or len(clips) != len(truth_ids):
        raise ValueError(f"need one ground-truth id per clip and at least one clip, got {len(clips)} and {len(truth_ids)}")
    regions, frames = [], []
    for clip, tid in zip(clips, truth_ids):
        rec = truth.read(tid)
        t = len(clip.frames)
        _, iod = landmark_errors(clip.faces.landmarks, np.asarray(rec.landmarks)[:t])
        regions += [{"clip": clip.clip_id, "region": REGION_LABELS[name], "error": float(100 * iod[:, list(idx)].mean())}
                    for name, idx in LANDMARK_REGIONS.items()]
        inten = np.asarray(rec.intensity, np.float64)[:t] if rec.intensity is not None else np.full(t, np.nan)
        frames.append(pd.DataFrame({"clip": clip.clip_id, "frame": np.arange(t), "error": 100 * iod.mean(axis=1),
                                    "intensity": inten}))
    return pd.DataFrame(regions), pd.concat(frames, ignore_index=True)


def error_intensity_rho(frames: pd.DataFrame) -> float:
    """Spearman's ρ between each frame's landmark error and its ground-truth intensity (``frames`` of
    :func:`landmark_error_data`; frames without an intensity left out); NaN with fewer than 3 such
    frames or where either is constant (no rank order to correlate)."""
    ok = frames[np.isfinite(frames["intensity"]) & np.isfinite(frames["error"])]
    if len(ok) < 3 or np.ptp(ok["intensity"]) == 0 or np.ptp(ok["error"]) == 0:
        return float("nan")
    return float(spearmanr(ok["intensity"], ok["error"]).statistic)


def keypoint_heatmaps(landmarks: np.ndarray, image_hw: tuple[int, int], grid: int = 14, sigma: float = 1.0) -> np.ndarray:
    """The 18 Gaussian attention maps Aʲ (KP-GCN-MSA paper eq. 2) of one face, ``(18, grid, grid)``:
    key-points of the ``(68, 2)`` pixel ``landmarks`` of an image of ``image_hw`` pixels, on the
    ``grid × grid`` feature-map cells the model pools (14 for the paper's 112-px input at output
    stride 8); ``sigma`` in cells."""
    if np.shape(landmarks) != (68, 2):
        raise ValueError(f"landmarks must be (68, 2) pixel x/y of the image, got {np.shape(landmarks)}")
    if grid < 2:
        raise ValueError(f"grid must be >= 2 cells, got {grid}")
    kp = select_keypoints(np.asarray(landmarks, np.float32))
    return gaussian_heatmaps(kp, (grid, grid), tuple(image_hw), sigma).numpy()


def flag_note(flag: int) -> str:
    """What a frame's preprocessing flag says, in words (``""`` for a detected face)."""
    if flag & FLAG_NO_FACE:
        return "no face: box carried over"
    if flag & FLAG_INTERPOLATED:
        return "propagated"
    return ""


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
    relative to ``source_root`` when they lie under it, and the reasons' mentions of that folder as
    ``<source_root>`` (so the table reads the same on every machine)."""
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
        table["reason"] = table["reason"].astype(str).str.replace(str(root), "<source_root>", regex=False)
    return table.set_index("clip_id") if len(table) else table
