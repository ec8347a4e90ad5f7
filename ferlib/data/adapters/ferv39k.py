"""FERV39k: 38,935 in-the-wild clips from 22 scenes in 4 scenarios, 7 classes, Train → Test.

Layout as distributed::

    <root>/2_ClipsforFaceCrop/Action/Sad/0010/*.jpg      face frames, one folder a clip
    <root>/4_setups/All_scenes/train_All.csv
    <root>/4_setups/All_scenes/test_All.csv

Split files: one clip a line, ``<scene>/<Emotion>/<clip> <Emotion>`` separated by a space, no
header (``Action/Sad/0010 Sad``); the path is relative to the clip folder. A first line whose
label is not a class name is taken for a header and skipped; any later unknown label raises
naming the file, line and value. ``delimiter`` (default: any whitespace), ``split_dir``,
``clips_dir`` and ``split_files`` override the layout; without ``split_dir`` / ``clips_dir`` the
candidates in :data:`SPLIT_DIRS` / :data:`CLIP_DIRS` are tried in order.

Index: ``clip_id`` ``Action_Sad_0010``, ``scene`` = the first path component (for per-scene
breakdowns), ``split`` ``train`` / ``test``. FERV39k has no subject ids: ``subject`` is the clip
id. Classes in DFEW's order (:data:`~ferlib.data.adapters.base.DFER7`). A listed clip whose frame
folder is missing raises unless ``allow_missing=True``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from ferlib.data.adapters.base import (
    DFER7,
    Adapter,
    LabelError,
    LayoutError,
    build_index,
    first_existing,
    name_to_class,
    report_missing,
    require_dir,
    require_file,
)
from ferlib.data.index import ClipIndex, safe_clip_id

FERV39K_CLASSES: tuple[str, ...] = DFER7
SPLIT_DIRS: tuple[str, ...] = ("4_setups/All_scenes", "All_scenes", "FERV39k/4_setups/All_scenes", "Annotation", "EmoLabel", ".")
CLIP_DIRS: tuple[str, ...] = ("2_ClipsforFaceCrop", "2_ClipsforFaceCrop/2_ClipsforFaceCrop", "FERV39k/2_ClipsforFaceCrop", "Image/CropFace/2_ClipsforFaceCrop")


def read_split_file(path: Path, delimiter: str | None = None) -> list[tuple[str, str, str]]:
    """``(relative clip path, class name, "file line n")`` for each line of a FERV39k split file."""
    require_file(path, "a FERV39k split file")
    out = []
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.strip().split(delimiter) if p.strip()]
        where = f"{path} line {n}"
        if len(parts) < 2:
            raise LayoutError(f"{where}: expected '<scene>/<Emotion>/<clip> <Emotion>', found {line.strip()!r}")
        rel, label = parts[0].replace("\\", "/").strip("/"), parts[-1]
        try:
            name = name_to_class(label, FERV39K_CLASSES, where)
        except LabelError:
            if not out and n == 1:  # a header line
                continue
            raise
        out.append((rel, name, where))
    if not out:
        raise LayoutError(f"{path} lists no clips")
    return out


def ferv39k_index(
    root: Path,
    split_dir: str | None = None,
    clips_dir: str | None = None,
    split_files: Mapping[str, str] | None = None,
    delimiter: str | None = None,
    allow_missing: bool = False,
) -> ClipIndex:
    """Index FERV39k's train and test clips with their scene (see the module docstring)."""
    split_files = dict(split_files or {"train": "train_All.csv", "test": "test_All.csv"})
    first_name = next(iter(split_files.values()))
    if split_dir is None:
        found = first_existing(root, [f"{d}/{first_name}" for d in SPLIT_DIRS], f"FERV39k's split file {first_name}", is_dir=False, override="split_dir")
        split_root = found.parent
    else:
        split_root = require_dir(root / split_dir, "FERV39k's split folder")
    clip_root = require_dir(root / clips_dir, "FERV39k's clip folders") if clips_dir else first_existing(
        root, CLIP_DIRS, "FERV39k's clip folders (<root>/2_ClipsforFaceCrop/<scene>/<Emotion>/<clip>/)", override="clips_dir"
    )
    records, missing, total = [], [], 0
    for split, name in split_files.items():
        for rel, label, _where in read_split_file(split_root / name, delimiter):
            total += 1
            source = clip_root / rel
            if not source.exists():
                missing.append(rel)
                continue
            clip_id = safe_clip_id(rel)
            records.append(
                {
                    "clip_id": clip_id,
                    "label_name": label,
                    "subject": clip_id,
                    "source": str(source),
                    "split": split,
                    "scene": rel.split("/")[0],
                }
            )
    report_missing(missing, total, "FERV39k clips in the split files", allow_missing, f"looked in {clip_root}")
    return build_index(records, FERV39K_CLASSES, "ferv39k", root)


ADAPTER = Adapter(
    name="ferv39k",
    classes=FERV39K_CLASSES,
    protocol=("train_test", {"train": "train", "test": "test"}),
    builder=ferv39k_index,
    description="FERV39k: 38,935 in-the-wild clips, 22 scenes, 7 classes; train (31,088) → test (7,847), UAR + WAR",
)
