"""CK+ (Extended Cohn-Kanade): posed sequences from neutral to apex, 7 labelled expressions.

Layout as distributed::

    <root>/cohn-kanade-images/S005/001/S005_001_00000001.png …   one frame folder per sequence
    <root>/Emotion/S005/001/S005_001_00000011_emotion.txt         one float, e.g. "   3.0000000e+00"

Label codes (CK+ numbering): 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness,
7 surprise (0 = neutral never occurs in the files). Only sequences with an ``*_emotion.txt`` are
indexed (327 of 593 in the real set); the others have no expression label.

Index: one row a labelled sequence; ``clip_id`` ``S005_001``, ``subject`` ``S005``, ``source``
the frame folder, ``n_frames``. Protocol: FAN's fold rule (subjects sorted ascending, rank r →
fold r mod 10: ``fan_ckplus``); ``subject_kfold`` (k = 10, class-stratified) is the alternative.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Mapping

from ferlib.data.adapters.base import (
    IMAGE_EXTS,
    Adapter,
    LabelError,
    LayoutError,
    build_index,
    code_to_class,
    first_existing,
    glob_or_fail,
    list_frames,
    parse_code,
    require_dir,
)
from ferlib.data.index import ClipIndex
from ferlib.data.labels import BASIC7

CKPLUS_CLASSES: tuple[str, ...] = BASIC7
CKPLUS_CODES: dict[int, str] = {1: "anger", 2: "contempt", 3: "disgust", 4: "fear", 5: "happy", 6: "sad", 7: "surprise"}


def read_emotion_file(path: Path, codes: Mapping[int, str] = CKPLUS_CODES) -> str:
    """Class name in one CK+ ``*_emotion.txt`` (a single float code)."""
    tokens = path.read_text(errors="replace").split()
    if len(tokens) != 1:
        raise LabelError(f"{path}: expected one label value, found {tokens[:5]!r}")
    return code_to_class(parse_code(tokens[0], str(path)), codes, str(path))


IMAGE_DIRS: tuple[str, ...] = ("cohn-kanade-images", "extended-cohn-kanade-images/cohn-kanade-images", "CK+/cohn-kanade-images")
LABEL_DIRS: tuple[str, ...] = ("Emotion", "Emotion_labels/Emotion", "Emotion_labels", "CK+/Emotion")


def ckplus_index(
    root: Path,
    images_dir: str | None = None,
    labels_dir: str | None = None,
    label_glob: str = "S*/*/*_emotion.txt",
    codes: Mapping[int, str] | None = None,
) -> ClipIndex:
    """Index the labelled CK+ sequences under ``root`` (see the module docstring for the layout).

    Without ``images_dir`` / ``labels_dir`` the folders of :data:`IMAGE_DIRS` / :data:`LABEL_DIRS`
    are tried in order (releases nest them differently).
    """
    codes = dict(CKPLUS_CODES if codes is None else codes)
    images = (require_dir(root / images_dir, "the CK+ frame folders") if images_dir else
              first_existing(root, IMAGE_DIRS, "the CK+ frame folders (<root>/cohn-kanade-images/S*/*/…png)", override="images_dir"))
    labels = (require_dir(root / labels_dir, "the CK+ label folders") if labels_dir else
              first_existing(root, LABEL_DIRS, "the CK+ label folders (<root>/Emotion/S*/*/*_emotion.txt)", override="labels_dir"))
    records = []
    for label_file in glob_or_fail(labels, label_glob, "CK+ emotion label files"):
        subject, seq = label_file.parent.parent.name, label_file.parent.name
        frames_dir = images / subject / seq
        if not frames_dir.is_dir():
            raise LayoutError(f"{label_file} labels sequence {subject}/{seq}, but its frame folder {frames_dir} is missing")
        frames = list_frames(frames_dir, IMAGE_EXTS)
        if not frames:
            raise LayoutError(f"expected frames matching {frames_dir}/*.png for the labelled sequence {subject}/{seq}; the folder is empty")
        records.append(
            {
                "clip_id": f"{subject}_{seq}",
                "label_name": read_emotion_file(label_file, codes),
                "subject": subject,
                "source": str(frames_dir),
                "split": "",
                "n_frames": len(frames),
            }
        )
    dup = [cid for cid, n in Counter(r["clip_id"] for r in records).items() if n > 1]
    if dup:
        raise LabelError(f"more than one *_emotion.txt for sequence(s) {sorted(dup)[:5]} under {labels}")
    return build_index(records, CKPLUS_CLASSES, "ckplus", root)


ADAPTER = Adapter(
    name="ckplus",
    classes=CKPLUS_CLASSES,
    protocol=("fan_ckplus", {"k": 10}),
    builder=ckplus_index,
    description="CK+: 327 labelled posed sequences, 118 subjects, 7 classes (with contempt, without neutral)",
    other_protocols={"subject_kfold": {"k": 10}},
)
