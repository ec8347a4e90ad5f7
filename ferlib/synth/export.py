"""Write generated clips in the on-disk layout of each real data set, as its authors distribute it.

``export_layout(store, out, layout)`` writes every clip of a generated store whose class the data
set has, in that data set's folders, media form, annotation files and protocol structure, so that
the data set's adapter, ``preprocess`` and ``reproduce`` run on it exactly as on a real copy (the
adapters' docstrings are the specification). Splits and folds are drawn **by subject** (sorted
subject ids; the generated set has identities where the real in-the-wild sets have none), so every
protocol stays subject-independent. Clips whose class the data set lacks are skipped. Beside the
data set's own files the export writes :data:`EXPORT_IDS` (media file → generated clip id), so
that a clip indexed from the layout finds its ground truth (:func:`exported_ids`).

=========  ==========================================================================================
layout     what is written
=========  ==========================================================================================
ckplus     ``cohn-kanade-images/S005/001/S005_001_00000001.png`` + ``Emotion/S005/001/…_emotion.txt``
           (CK+'s code as ``   5.0000000e+00``; 7 classes with contempt, no neutral)
oulu       ``OriginalImg/VL/Strong/P001/Happiness/000.jpeg`` (VL, Strong; 6 classes)
mmi        ``Sessions/<n>/S001-001.avi`` + ``session.xml`` (subject, frontal view ``0``) + the annotation
           ``S001-001.xml`` with ``<Metatag Name="Emotion" Value="4"/>`` (MMI's codes 1–6)
afew       ``Train_AFEW/Happy/000000001.avi`` and ``Val_AFEW/…`` (MJPG; 7 classes with neutral);
           the last fifth of the subjects is Val
dfew       ``Clip/clip_224x224/00001/00001_00001.jpg`` + ``EmoLabel_DataSplit/{train,test}(single-labeled)/
           set_1..5.csv`` (``video_name,label``, DFEW's codes 1–7); fold k tests the k-th fifth of the subjects
ferv39k    ``2_ClipsforFaceCrop/<scene>/<Emotion>/0001/0001.jpg`` + ``4_setups/All_scenes/{train,test}_All.csv``
           (``Action/Sad/0001 Sad``); a scene per subject from :data:`FERV39K_SCENES` (names for
           illustration); the last fifth of the subjects is test
mafw       ``data/clips/00001.mp4`` + ``Train & Test Set/single/no_caption/set_1..5/{train,test}.txt``
           (``00001.mp4 happiness``); fold k tests the k-th fifth of the subjects
affwild2   ``cropped_aligned/<video>/00001.jpg`` + ``EXPR_Set/{Train_Set,Validation_Set}/<video>.txt``
           (the header, then a code a line); one video per subject, its clips back to back in
           class order, so a class's clips form one run; the last fifth of the subjects is
           Validation. The adapter cuts ``window``-frame samples of one label (45 by default: make
           clips long enough, or several a class, or pass ``window``)
=========  ==========================================================================================
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from ferlib.data.store import ClipStore

CKPLUS_CODES = {"anger": 1, "contempt": 2, "disgust": 3, "fear": 4, "happy": 5, "sad": 6, "surprise": 7}
OULU_FOLDERS = {"anger": "Anger", "disgust": "Disgust", "fear": "Fear", "happy": "Happiness", "sad": "Sadness",
                "surprise": "Surprise"}
MMI_CODES = {"anger": 1, "disgust": 2, "fear": 3, "happy": 4, "sad": 5, "surprise": 6}
AFEW_FOLDERS = {"anger": "Angry", "disgust": "Disgust", "fear": "Fear", "happy": "Happy", "neutral": "Neutral",
                "sad": "Sad", "surprise": "Surprise"}
DFEW_CODES = {"happy": 1, "sad": 2, "neutral": 3, "anger": 4, "surprise": 5, "disgust": 6, "fear": 7}
FERV39K_FOLDERS = AFEW_FOLDERS
FERV39K_SCENES = ("Action", "DailyLife", "Interview", "Talkshow")
MAFW_NAMES = {"anger": "anger", "disgust": "disgust", "fear": "fear", "happy": "happiness", "neutral": "neutral",
              "sad": "sadness", "surprise": "surprise", "contempt": "contempt"}
AFFWILD2_HEADER = ("Neutral", "Anger", "Disgust", "Fear", "Happiness", "Sadness", "Surprise", "Other")
AFFWILD2_CODES = {"neutral": 0, "anger": 1, "disgust": 2, "fear": 3, "happy": 4, "sad": 5, "surprise": 6}

_MMI_SESSION = """<?xml version="1.0" encoding="utf-8"?>
<session sessionId="{sid}">
  <subject id="{subject}" />
  <track id="0" type="Video" view="0" filename="{stem}.avi" fps="{fps}" />
  <annotation id="1" type="FACS" filename="{stem}.xml" />
</session>
"""
_MMI_ANNOTATION = """<?xml version="1.0" encoding="utf-8"?>
<ActionUnits>
  <Metatag Name="Emotion" Value="{code}" />
</ActionUnits>
"""


class _Clips:
    """The store's clips of the classes a layout keeps, in index order, with their subject's rank."""

    def __init__(self, store: ClipStore, keep: set[str]) -> None:
        self.store = store
        self.rows = [r for r in store.index().df.itertuples() if r.label_name in keep]
        self.subjects = sorted({str(r.subject) for r in store.index().df.itertuples()})
        self.rank = {s: i for i, s in enumerate(self.subjects)}
        self.written: list[tuple[str, str]] = []

    def __iter__(self) -> Iterator[tuple[object, np.ndarray]]:
        for row in self.rows:
            yield row, self.store.read(row.clip_id, mmap=False).frames[..., ::-1]  # RGB → BGR for OpenCV

    def fold(self, subject: object, k: int = 5) -> int:
        """1…k: the fifth (for k = 5) of the sorted subjects that ``subject`` falls in."""
        return self.rank[str(subject)] * k // len(self.subjects) + 1

    def held_out(self, subject: object) -> bool:
        """Whether ``subject`` is in the last fifth of the sorted subjects (Val / test; at least one
        subject of two or more)."""
        return self.rank[str(subject)] >= round(0.8 * len(self.subjects))

    def record(self, media: Path, row: object) -> None:
        """Note that ``row``'s clip became ``media`` (a file or frame folder), for :data:`EXPORT_IDS`."""
        self.written.append((str(media), str(row.clip_id)))


def _number(subject: object) -> int:
    digits = "".join(ch for ch in str(subject) if ch.isdigit())
    return int(digits) if digits else 0


def _images(folder: Path, frames: np.ndarray, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        if not cv2.imwrite(str(folder / name.format(i=i, i1=i + 1)), np.ascontiguousarray(f)):
            raise RuntimeError(f"OpenCV cannot write {folder / name.format(i=i, i1=i + 1)}")


def _video(path: Path, frames: np.ndarray, fourcc: str, fps: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {path} (codec {fourcc} missing?)")
    for f in frames:
        writer.write(np.ascontiguousarray(f))
    writer.release()


def _text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def _ckplus(clips: _Clips, out: Path, fps: int) -> int:
    seq_of: dict[str, int] = {}
    for row, frames in clips:
        subj = f"S{_number(row.subject):03d}"
        seq_of[subj] = seq_of.get(subj, 0) + 1
        seq = f"{seq_of[subj]:03d}"
        _images(out / "cohn-kanade-images" / subj / seq, frames, f"{subj}_{seq}_{{i1:08d}}.png")
        clips.record(Path("cohn-kanade-images") / subj / seq, row)
        _text(out / "Emotion" / subj / seq / f"{subj}_{seq}_{len(frames):08d}_emotion.txt",
              f"   {CKPLUS_CODES[row.label_name]:.7e}\n")
    return len(clips.rows)


def _oulu(clips: _Clips, out: Path, fps: int) -> int:
    for row, frames in clips:
        rel = Path("OriginalImg") / "VL" / "Strong" / f"P{_number(row.subject):03d}" / OULU_FOLDERS[row.label_name]
        _images(out / rel, frames, "{i:03d}.jpeg")
        clips.record(rel, row)
    return len(clips.rows)


def _mmi(clips: _Clips, out: Path, fps: int) -> int:
    take: dict[int, int] = {}
    for k, (row, frames) in enumerate(clips, start=1):
        subject = _number(row.subject)
        take[subject] = take.get(subject, 0) + 1
        sid, stem = 100 + k, f"S{subject:03d}-{take[subject]:03d}"
        folder = out / "Sessions" / str(sid)
        _video(folder / f"{stem}.avi", frames, "MJPG", fps)
        clips.record(folder.relative_to(out) / f"{stem}.avi", row)
        _text(folder / "session.xml", _MMI_SESSION.format(sid=sid, subject=subject, stem=stem, fps=fps))
        _text(folder / f"{stem}.xml", _MMI_ANNOTATION.format(code=MMI_CODES[row.label_name]))
    return len(clips.rows)


def _afew(clips: _Clips, out: Path, fps: int) -> int:
    for k, (row, frames) in enumerate(clips, start=1):
        split = "Val_AFEW" if clips.held_out(row.subject) else "Train_AFEW"
        rel = Path(split) / AFEW_FOLDERS[row.label_name] / f"{k:09d}.avi"
        _video(out / rel, frames, "MJPG", fps)
        clips.record(rel, row)
    return len(clips.rows)


def _dfew(clips: _Clips, out: Path, fps: int) -> int:
    lines: dict[int, list[str]] = {f: [] for f in range(1, 6)}
    for k, (row, frames) in enumerate(clips, start=1):
        _images(out / "Clip" / "clip_224x224" / f"{k:05d}", frames, f"{k:05d}_{{i1:05d}}.jpg")
        clips.record(Path("Clip") / "clip_224x224" / f"{k:05d}", row)
        lines[clips.fold(row.subject)].append(f"{k:05d},{DFEW_CODES[row.label_name]}")
    for f in range(1, 6):
        train = [line for g in range(1, 6) if g != f for line in lines[g]]
        for split, rows in (("train", train), ("test", lines[f])):
            _text(out / "EmoLabel_DataSplit" / f"{split}(single-labeled)" / f"set_{f}.csv",
                  "video_name,label\n" + "".join(r + "\n" for r in rows))
    return len(clips.rows)


def _ferv39k(clips: _Clips, out: Path, fps: int) -> int:
    lists: dict[str, list[str]] = {"train": [], "test": []}
    count: dict[tuple[str, str], int] = {}
    for row, frames in clips:
        scene = FERV39K_SCENES[clips.rank[str(row.subject)] % len(FERV39K_SCENES)]
        emotion = FERV39K_FOLDERS[row.label_name]
        count[scene, emotion] = count.get((scene, emotion), 0) + 1
        rel = f"{scene}/{emotion}/{count[scene, emotion]:04d}"
        _images(out / "2_ClipsforFaceCrop" / rel, frames, "{i1:04d}.jpg")
        clips.record(Path("2_ClipsforFaceCrop") / rel, row)
        lists["test" if clips.held_out(row.subject) else "train"].append(f"{rel} {emotion}")
    for split, rows in lists.items():
        _text(out / "4_setups" / "All_scenes" / f"{split}_All.csv", "".join(r + "\n" for r in rows))
    return len(clips.rows)


def _mafw(clips: _Clips, out: Path, fps: int) -> int:
    lines: dict[int, list[str]] = {f: [] for f in range(1, 6)}
    for k, (row, frames) in enumerate(clips, start=1):
        _video(out / "data" / "clips" / f"{k:05d}.mp4", frames, "mp4v", fps)
        clips.record(Path("data") / "clips" / f"{k:05d}.mp4", row)
        lines[clips.fold(row.subject)].append(f"{k:05d}.mp4 {MAFW_NAMES[row.label_name]}")
    for f in range(1, 6):
        train = [line for g in range(1, 6) if g != f for line in lines[g]]
        folder = out / "Train & Test Set" / "single" / "no_caption" / f"set_{f}"
        _text(folder / "train.txt", "".join(r + "\n" for r in train))
        _text(folder / "test.txt", "".join(r + "\n" for r in lines[f]))
    return len(clips.rows)


def _affwild2(clips: _Clips, out: Path, fps: int) -> int:
    by_subject: dict[str, list[tuple[object, np.ndarray]]] = {}
    for row, frames in clips:
        by_subject.setdefault(str(row.subject), []).append((row, frames))
    for subject, items in by_subject.items():
        items.sort(key=lambda item: AFFWILD2_CODES[item[0].label_name])  # a class's clips back to back: one run
        video = f"{100 + clips.rank[subject]}-30-{items[0][1].shape[2]}x{items[0][1].shape[1]}"
        start = 1
        for row, f in items:  # frames start..start+T-1 of the video (its 0000i.jpg)
            clips.record(Path("cropped_aligned") / video / f"{start:05d}-{start + len(f) - 1:05d}", row)
            start += len(f)
        _images(out / "cropped_aligned" / video, np.concatenate([f for _, f in items]), "{i1:05d}.jpg")
        codes = [str(AFFWILD2_CODES[row.label_name]) for row, f in items for _ in range(len(f))]
        split = "Validation_Set" if clips.held_out(subject) else "Train_Set"
        _text(out / "EXPR_Set" / split / f"{video}.txt", ",".join(AFFWILD2_HEADER) + "\n" + "\n".join(codes) + "\n")
    return len(clips.rows)


#: layout name → (the classes it keeps, its writer)
_WRITERS: dict[str, tuple[set[str], Callable[[_Clips, Path, int], int]]] = {
    "ckplus": (set(CKPLUS_CODES), _ckplus),
    "oulu": (set(OULU_FOLDERS), _oulu),
    "mmi": (set(MMI_CODES), _mmi),
    "afew": (set(AFEW_FOLDERS), _afew),
    "dfew": (set(DFEW_CODES), _dfew),
    "ferv39k": (set(FERV39K_FOLDERS), _ferv39k),
    "mafw": (set(MAFW_NAMES), _mafw),
    "affwild2": (set(AFFWILD2_CODES), _affwild2),
}
LAYOUTS = tuple(_WRITERS)
#: the one file of an export that a real copy does not have: which generated clip each media file is
EXPORT_IDS = "export.csv"


def check_export(out_dir: str | Path, layout: str) -> Path:
    """``out_dir`` as a Path; raises ``ValueError`` for an unknown ``layout`` or a folder that already
    holds files (two exports never mix) — what ``synth --export`` checks before generating."""
    if layout not in _WRITERS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    out = Path(out_dir)
    if out.is_dir() and any(out.iterdir()):
        raise ValueError(f"--export folder {out} is not empty: export into a new folder")
    return out


def export_layout(store: ClipStore, out_dir: str | Path, layout: str = "ckplus", fps: int = 25) -> int:
    """Write the clips of ``store`` whose class ``layout`` has under ``out_dir`` in that data set's
    layout (the module's table); returns the number of clips written. Raises ``ValueError`` for an
    unknown layout, or when ``out_dir`` already holds files (two exports never mix)."""
    out = check_export(out_dir, layout)
    keep, writer = _WRITERS[layout]
    clips = _Clips(store, keep)
    written = writer(clips, out, fps)
    _text(out / EXPORT_IDS, "source,clip_id\n" + "".join(f"{m},{c}\n" for m, c in clips.written))
    return written


def exported_ids(root: str | Path) -> dict[str, str]:
    """``{exported media path (relative to root): generated clip id}`` from :data:`EXPORT_IDS`: how
    a clip indexed from the layout finds its ground truth in the generated store."""
    path = Path(root) / EXPORT_IDS
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: {root} is not an export of a generated store")
    lines = path.read_text(encoding="utf-8").splitlines()[1:]
    return dict(line.rsplit(",", 1) for line in lines if line)
