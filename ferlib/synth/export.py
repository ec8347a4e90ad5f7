"""Write generated clips in the on-disk layouts of real data sets, for end-to-end preprocessing.

* ``ckplus`` — ``cohn-kanade-images/S<subj>/<seq>/S<subj>_<seq>_<frame:08d>.png`` plus
  ``Emotion/S<subj>/<seq>/S<subj>_<seq>_<last:08d>_emotion.txt`` holding CK+'s code (1 anger,
  2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness, 7 surprise) as ``   5.0000000e+00``.
* ``afew`` — ``Train/<Emotion>/<clip>.avi`` and ``Val/<Emotion>/<clip>.avi`` (folder names Angry,
  Disgust, Fear, Happy, Neutral, Sad, Surprise; AFEW has no contempt, so those clips are skipped);
  subjects are split 80/20 between Train and Val.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from ferlib.data.store import ClipStore

CKPLUS_CODES = {"anger": 1, "contempt": 2, "disgust": 3, "fear": 4, "happy": 5, "sad": 6, "surprise": 7}
AFEW_FOLDERS = {"anger": "Angry", "disgust": "Disgust", "fear": "Fear", "happy": "Happy", "neutral": "Neutral", "sad": "Sad", "surprise": "Surprise"}
LAYOUTS = ("ckplus", "afew")


def export_layout(store: ClipStore, out_dir: str | Path, layout: str = "ckplus", fps: int = 25) -> int:
    """Write every clip of ``store`` under ``out_dir`` in ``layout``; returns the clips written."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    out = Path(out_dir)
    index = store.index().df
    subjects = sorted(index["subject"].unique())
    val_subjects = set(subjects[int(round(0.8 * len(subjects))):])
    written = 0
    seq_of: dict[str, int] = {}
    for row in index.itertuples():
        rec = store.read(row.clip_id, mmap=False)
        frames_bgr = rec.frames[..., ::-1]
        if layout == "ckplus":
            if row.label_name not in CKPLUS_CODES:
                continue
            subj = "S" + "".join(ch for ch in row.subject if ch.isdigit()).zfill(3)
            seq_of[subj] = seq_of.get(subj, 0) + 1
            seq = f"{seq_of[subj]:03d}"
            img_dir = out / "cohn-kanade-images" / subj / seq
            img_dir.mkdir(parents=True, exist_ok=True)
            for i, f in enumerate(frames_bgr, start=1):
                cv2.imwrite(str(img_dir / f"{subj}_{seq}_{i:08d}.png"), f)
            emo_dir = out / "Emotion" / subj / seq
            emo_dir.mkdir(parents=True, exist_ok=True)
            (emo_dir / f"{subj}_{seq}_{len(frames_bgr):08d}_emotion.txt").write_text(f"   {CKPLUS_CODES[row.label_name]:.7e}\n")
        else:
            if row.label_name not in AFEW_FOLDERS:
                continue
            split = "Val" if row.subject in val_subjects else "Train"
            vid_dir = out / split / AFEW_FOLDERS[row.label_name]
            vid_dir.mkdir(parents=True, exist_ok=True)
            h, w = frames_bgr.shape[1:3]
            writer = cv2.VideoWriter(str(vid_dir / f"{row.clip_id}.avi"), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
            if not writer.isOpened():
                raise RuntimeError(f"OpenCV cannot write {vid_dir / (row.clip_id + '.avi')} (MJPG codec missing?)")
            for f in frames_bgr:
                writer.write(np.ascontiguousarray(f))
            writer.release()
        written += 1
    return written
