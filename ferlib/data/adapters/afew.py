"""AFEW (Acted Facial Expressions in the Wild, EmotiW): movie clips, 7 classes, Train → Val.

Layout as distributed (AFEW 7.0 / 8.0)::

    <root>/Train_AFEW/Angry/000046280.avi …      (the zips unpack to Train_AFEW / Val_AFEW; also Train / Val)
    <root>/Val_AFEW/Happy/000149120.avi …

and the renamed copies the field's best-known code expects, detected without options:
``train`` / ``validation`` (Former-DFER) and ``train_afew`` / ``val_afew`` (Emotion-FAN, frame
folders). Folders of the distribution that are not expressions — an unzipped
``AlignedFaces_LBPTOP_Points`` (EmotiW's aligned faces and LBP-TOP features) inside a split
folder — are ignored (:data:`IGNORED_DIRS`).

Expression folders: Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise (any common spelling; an
unknown folder raises naming it). A clip is a video file or, for copies already turned into
frames or aligned faces, a folder of images (``Train/Angry/000046280/*.jpg``). Split folders are
overridable: ``split_dirs={"train": "Train_AFEW", "val": "Val_AFEW"}`` (each one named must
exist). Without ``split_dirs`` whichever of the two splits exist are indexed, with a warning
naming a split that is missing (the official Train → Val protocol needs both); neither raises.
The test set's labels are not public and it is not indexed.

AFEW has no subject ids (actors recur across clips but are not annotated): ``subject`` is the
clip id, so subject-level protocols treat every clip as its own subject; the official protocol is
the fixed Train → Val split, which does not need subjects.

Index: ``clip_id`` ``<split>_<expression folder>_<clip>`` (``train_Angry_000046280``: file names
repeat across expression folders, so the folder is part of the id), ``source`` the video (or
frame folder), ``split`` ``train`` / ``val``. Classes in DFEW's order (:data:`~ferlib.data.adapters.base.DFER7`).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Mapping

from ferlib.data.adapters.base import (
    DFER7,
    Adapter,
    LayoutError,
    build_index,
    clip_sources,
    first_existing,
    found_near,
    name_to_class,
)
from ferlib.data.index import ClipIndex, safe_clip_id

AFEW_CLASSES: tuple[str, ...] = DFER7


SPLIT_DIRS: dict[str, tuple[str, ...]] = {
    "train": ("Train", "Train_AFEW", "train", "train_afew"),
    "val": ("Val", "Val_AFEW", "val", "validation", "Validation", "val_afew"),
}
#: folders inside a split folder that are not expressions (matched by name prefix, any case)
IGNORED_DIRS: tuple[str, ...] = ("alignedfaces_lbptop_points", "__macosx")


def afew_index(root: Path, split_dirs: Mapping[str, str] | None = None) -> ClipIndex:
    """Index the labelled AFEW splits under ``root`` (see the module docstring).

    Without ``split_dirs`` each split's folder is the first of :data:`SPLIT_DIRS` that exists, and a
    split with none is left out with a warning.
    """
    if split_dirs:
        roots = {split: first_existing(root, (rel,), f"the AFEW {split} split (<root>/{rel}/<Emotion>/*.avi)",
                                       override="split_dirs") for split, rel in split_dirs.items()}
    else:
        roots = {split: next((root / r for r in rels if (root / r).is_dir()), None) for split, rels in SPLIT_DIRS.items()}
        if not any(roots.values()):
            tried = {split: [str(root / r) for r in rels] for split, rels in SPLIT_DIRS.items()}
            raise LayoutError(f"expected an AFEW split folder (<root>/Train/<Emotion>/*.avi or <root>/Val/…) at one of {tried}; "
                              f"{found_near(root)} (pass split_dirs=… for another layout)")
        missing = [s for s, r in roots.items() if r is None]
        if missing:
            found = ", ".join(f"{s} ({r})" for s, r in roots.items() if r is not None)
            looked = "; ".join(f"{s}: {list(SPLIT_DIRS[s])}" for s in missing)
            warnings.warn(f"afew: indexing only the split(s) found under {root}: {found}; no folder for {looked}. "
                          "The official protocol trains on train and tests on val; pass split_dirs=… if a split lives "
                          "elsewhere", stacklevel=3)
    records = []
    for split, split_root in roots.items():
        if split_root is None:
            continue
        for emo_dir in sorted(p for p in split_root.iterdir() if p.is_dir() and not p.name.startswith(".")
                              and not p.name.lower().startswith(IGNORED_DIRS)):
            label = name_to_class(emo_dir.name, AFEW_CLASSES, f"expression folder {emo_dir}")
            for clip in clip_sources(emo_dir):
                clip_id = safe_clip_id(f"{split}_{emo_dir.name}_{clip.stem if clip.is_file() else clip.name}")
                records.append(
                    {"clip_id": clip_id, "label_name": label, "subject": clip_id, "source": str(clip), "split": split}
                )
    return build_index(records, AFEW_CLASSES, "afew", root)


ADAPTER = Adapter(
    name="afew",
    classes=AFEW_CLASSES,
    protocol=("train_test", {"train": "train", "test": "val"}),
    builder=afew_index,
    description="AFEW 8.0: movie clips, 7 classes with neutral; Train (773) → Val (381)",
)
