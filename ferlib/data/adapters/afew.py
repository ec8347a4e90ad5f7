"""AFEW (Acted Facial Expressions in the Wild, EmotiW): movie clips, 7 classes, Train → Val.

Layout as distributed (AFEW 7.0 / 8.0)::

    <root>/Train/Angry/000046280.avi …
    <root>/Val/Happy/000149120.avi …

Expression folders: Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise (any common spelling; an
unknown folder raises naming it). A clip is a video file or, for copies already turned into
frames or aligned faces, a folder of images (``Train/Angry/000046280/*.jpg``). Split folders are
overridable: ``split_dirs={"train": "Train_AFEW", "val": "Val_AFEW"}``. The test set's labels are
not public and it is not indexed.

AFEW has no subject ids (actors recur across clips but are not annotated): ``subject`` is the
clip id, so subject-level protocols treat every clip as its own subject; the official protocol is
the fixed Train → Val split, which does not need subjects.

Index: ``clip_id`` ``train_000046280``, ``source`` the video (or frame folder), ``split``
``train`` / ``val``. Classes in DFEW's order (:data:`~ferlib.data.adapters.base.DFER7`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ferlib.data.adapters.base import DFER7, Adapter, build_index, clip_sources, first_existing, name_to_class
from ferlib.data.index import ClipIndex, safe_clip_id

AFEW_CLASSES: tuple[str, ...] = DFER7


SPLIT_DIRS: dict[str, tuple[str, ...]] = {"train": ("Train", "Train_AFEW", "train"), "val": ("Val", "Val_AFEW", "val")}


def afew_index(root: Path, split_dirs: Mapping[str, str] | None = None) -> ClipIndex:
    """Index the labelled AFEW splits under ``root`` (see the module docstring).

    Without ``split_dirs`` each split's folder is the first of :data:`SPLIT_DIRS` that exists.
    """
    candidates = {k: (v,) for k, v in split_dirs.items()} if split_dirs else SPLIT_DIRS
    records = []
    for split, rels in candidates.items():
        split_root = first_existing(root, rels, f"the AFEW {split} split (<root>/{rels[0]}/<Emotion>/*.avi)", override="split_dirs")
        for emo_dir in sorted(p for p in split_root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            label = name_to_class(emo_dir.name, AFEW_CLASSES, f"expression folder {emo_dir}")
            for clip in clip_sources(emo_dir):
                clip_id = safe_clip_id(f"{split}_{clip.stem if clip.is_file() else clip.name}")
                records.append(
                    {"clip_id": clip_id, "label_name": label, "subject": clip_id, "source": str(clip), "split": split}
                )
    return build_index(records, AFEW_CLASSES, "afew", root)


ADAPTER = Adapter(
    name="afew",
    classes=AFEW_CLASSES,
    protocol=("train_test", {"train": "train", "test": "val"}),
    builder=afew_index,
    description="AFEW 8.0: movie clips, 7 classes with neutral; Train (773) → Val (383)",
)
