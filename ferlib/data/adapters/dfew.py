"""DFEW (Dynamic Facial Expressions in the Wild): 11,697 single-label movie clips, official 5 folds.

Layout as distributed::

    <root>/Clip/clip_224x224/00001/00001_00001.jpg …        face frames, one folder a clip
    <root>/Clip/original/…/00001.mp4                          (or the original videos)
    <root>/EmoLabel_DataSplit/train(single-labeled)/set_1.csv … set_5.csv
    <root>/EmoLabel_DataSplit/test(single-labeled)/set_1.csv  … set_5.csv

Or as its authors' code lays it out (the DFEW repository's loaders), detected without options::

    <root>/data/00001/00001_00001.jpg …       (or <root>/data/00001.mp4)
    <root>/label/single_trainset_1.csv … single_trainset_5.csv
    <root>/label/single_testset_1.csv  … single_testset_5.csv

:data:`DFEW_LAYOUTS` lists both; the first whose split folder holds the first fold's test file is
used (``split_dir`` / ``train_pattern`` / ``test_pattern`` override it).

Split files: CSV with a header ``video_name,label``; ``video_name`` is the clip number (``1`` or
``00001``, an extension is ignored), ``label`` a code 1–7 in DFEW's order Happy, Sad, Neutral,
Angry, Surprise, Disgust, Fear. A file without a header (first row already data) is read by
position (clip, label); ``id_column``, ``label_column`` and ``delimiter`` override the names.
An unknown code raises naming the file, line and value.

Clip files: the first of :data:`DFEW_CLIP_GLOBS` (or ``clips_glob``, one glob or a list) that
matches any folder or video whose name is a clip number; frame folders are preferred over videos
because they are tried first. A listed clip with no file raises unless ``allow_missing=True``.

Index: ``clip_id`` ``00001``, ``fold`` = the set whose *test* list holds the clip (protocol
``official_folds``). DFEW has no subject ids: ``subject`` is the clip id (the official folds, not
subjects, define the evaluation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import pandas as pd

from ferlib.data.adapters.base import (
    DFER7,
    Adapter,
    LabelError,
    LayoutError,
    assign_folds,
    build_index,
    code_to_class,
    parse_code,
    fold_records,
    require_dir,
    require_file,
)
from ferlib.data.index import ClipIndex

DFEW_CLASSES: tuple[str, ...] = DFER7
DFEW_CODES: dict[int, str] = {i + 1: name for i, name in enumerate(DFEW_CLASSES)}
DFEW_CLIP_GLOBS: tuple[str, ...] = (
    "Clip/clip_224x224/*",
    "Clip/clip_224x224_16f/*",
    "Clip/jpg_256/*",
    "Clip/clip_224x224/*/*",
    "Clip/original/*",
    "Clip/original/*/*",
    "Clip/*",
    "data/*",
    "data/*/*",
)
#: (split folder, train file pattern, test file pattern) of the layouts as distributed
DFEW_LAYOUTS: tuple[tuple[str, str, str], ...] = (
    ("EmoLabel_DataSplit", "train(single-labeled)/set_{k}.csv", "test(single-labeled)/set_{k}.csv"),
    ("label", "single_trainset_{k}.csv", "single_testset_{k}.csv"),
)


def clip_key(value: object) -> str:
    """DFEW clip number as its 5-digit name: ``1``, ``"00001"``, ``"00001.mp4"`` → ``"00001"``."""
    text = Path(str(value).strip()).stem if "." in str(value) else str(value).strip()
    return f"{int(text):05d}" if text.isdigit() else text


def read_split_csv(
    path: Path, id_column: str = "video_name", label_column: str = "label", delimiter: str = ","
) -> list[tuple[str, str, str]]:
    """``(clip, class name, "file line n")`` for each row of one DFEW split CSV."""
    require_file(path, "a DFEW split file")
    df = pd.read_csv(path, sep=delimiter, dtype=str, keep_default_na=False, skipinitialspace=True)
    first_row = 2
    cols = [str(c).strip() for c in df.columns]
    if id_column in cols and label_column in cols:
        ids, labels = df.iloc[:, cols.index(id_column)], df.iloc[:, cols.index(label_column)]
    elif len(cols) >= 2 and clip_key(cols[0]).isdigit():  # no header: the first row is data
        df = pd.read_csv(path, sep=delimiter, dtype=str, header=None, keep_default_na=False, skipinitialspace=True)
        ids, labels, first_row = df.iloc[:, 0], df.iloc[:, 1], 1
    else:
        raise LayoutError(f"{path}: expected columns {id_column!r} and {label_column!r} (delimiter {delimiter!r}); found {cols}")
    out = []
    for i, (clip, code) in enumerate(zip(ids, labels)):
        where = f"{path} line {i + first_row}"
        out.append((clip_key(clip), code_to_class(parse_code(code, where), DFEW_CODES, where), where))
    return out


def dfew_index(
    root: Path,
    split_dir: str | None = None,
    train_pattern: str | None = None,
    test_pattern: str | None = None,
    folds: Sequence[int] = (1, 2, 3, 4, 5),
    clips_glob: str | Sequence[str] | None = None,
    id_column: str = "video_name",
    label_column: str = "label",
    delimiter: str = ",",
    allow_missing: bool = False,
) -> ClipIndex:
    """Index DFEW's single-labelled clips with their official test fold (module docstring)."""
    first = next(iter(folds), 1)
    layout = next((lay for lay in DFEW_LAYOUTS if (root / (split_dir or lay[0]) / (test_pattern or lay[2]).format(k=first)).is_file()),
                  DFEW_LAYOUTS[0])
    split_dir, train_pattern, test_pattern = split_dir or layout[0], train_pattern or layout[1], test_pattern or layout[2]
    splits = require_dir(root / split_dir, "DFEW's split files (<root>/EmoLabel_DataSplit/{train,test}(single-labeled)/set_*.csv, "
                                             "or <root>/label/single_{train,test}set_*.csv)")
    read = lambda pattern, k: read_split_csv(splits / pattern.format(k=k), id_column, label_column, delimiter)  # noqa: E731
    labels = assign_folds({k: read(test_pattern, k) for k in folds}, {k: read(train_pattern, k) for k in folds})
    globs = [clips_glob] if isinstance(clips_glob, str) else list(clips_glob or DFEW_CLIP_GLOBS)
    records = fold_records(root, labels, globs, "DFEW", "split files", allow_missing)
    if any(r["fold"] < 0 for r in records) and not any(r["fold"] >= 0 for r in records):
        raise LabelError(f"no DFEW clip is in any test list under {splits}")
    return build_index(records, DFEW_CLASSES, "dfew", root)


ADAPTER = Adapter(
    name="dfew",
    classes=DFEW_CLASSES,
    protocol=("official_folds", {"column": "fold"}),
    builder=dfew_index,
    description="DFEW: 11,697 single-label in-the-wild clips, 7 classes, official 5-fold CV (UAR + WAR)",
)
