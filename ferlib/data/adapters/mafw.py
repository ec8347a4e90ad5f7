"""MAFW: 10,045 in-the-wild clips, 11 single-label classes, official 5 folds.

Layout as distributed::

    <root>/data/clips/00019.mp4 …                    videos (or data/frames/00019/*.jpg)
    <root>/Train & Test Set/single/no_caption/set_1/train.txt, test.txt … set_5/

Split files: one clip a line, ``<clip file> <label>`` separated by whitespace, no header
(``00019.mp4 anger``); labels are names (anger, disgust, fear, happiness, neutral, sadness,
surprise, contempt, anxiety, helplessness, disappointment) in any common spelling, or — when the
copy uses numbers — codes given by ``codes`` (e.g. ``{1: "anger", …}``). An unknown label raises
naming the file, line and value. Without ``split_dir`` the candidates in :data:`SPLIT_DIRS` are
tried (the folder that holds ``set_1``); without ``clips_glob`` those in :data:`CLIP_GLOBS`
(frame folders before videos). A listed clip with no file raises unless ``allow_missing=True``.

Index: ``clip_id`` ``00019``, ``fold`` = the set whose *test* list holds the clip (protocol
``official_folds``). MAFW has no subject ids in these lists: ``subject`` is the clip id.
Classes in MAFW's order: AN, DI, FE, HA, NE, SA, SU, CO, AX, HL, DS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

from ferlib.data.adapters.base import (
    Adapter,
    LabelError,
    LayoutError,
    assign_folds,
    build_index,
    code_to_class,
    first_existing,
    name_to_class,
    parse_code,
    fold_records,
    require_dir,
    require_file,
)
from ferlib.data.index import ClipIndex

MAFW_CLASSES: tuple[str, ...] = (
    "anger", "disgust", "fear", "happy", "neutral", "sad", "surprise",
    "contempt", "anxiety", "helplessness", "disappointment",
)
SPLIT_DIRS: tuple[str, ...] = (
    "Train & Test Set/single/no_caption",
    "Train_Test_Set/single/no_caption",
    "single/no_caption",
    "split/single/no_caption",
    "Labels/single/no_caption",
)
CLIP_GLOBS: tuple[str, ...] = ("data/frames/*", "frames/*", "data/clips/*", "clips/*", "data/*", "*")


def read_list(path: Path, codes: Mapping[int, str] | None = None, delimiter: str | None = None) -> list[tuple[str, str, str]]:
    """``(clip, class name, "file line n")`` for each line of one MAFW ``train.txt`` / ``test.txt``."""
    require_file(path, "a MAFW split list")
    out = []
    for n, line in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.strip().split(delimiter) if p.strip()]
        where = f"{path} line {n}"
        if len(parts) < 2:
            raise LayoutError(f"{where}: expected '<clip> <label>', found {line.strip()!r}")
        clip, label = Path(parts[0].replace("\\", "/")).name, parts[1]
        clip = clip.rsplit(".", 1)[0] if "." in clip else clip
        if label.lstrip("+-").replace(".", "", 1).isdigit():
            if codes is None:
                raise LabelError(f"{where}: numeric label {label!r}; this copy uses codes, pass codes={{1: 'anger', …}}")
            name = code_to_class(parse_code(label, where), codes, where)
        else:
            name = name_to_class(label, MAFW_CLASSES, where)
        out.append((clip, name, where))
    return out


def mafw_index(
    root: Path,
    split_dir: str | None = None,
    folds: Sequence[int] = (1, 2, 3, 4, 5),
    set_pattern: str = "set_{k}",
    train_file: str = "train.txt",
    test_file: str = "test.txt",
    clips_glob: str | Sequence[str] | None = None,
    codes: Mapping[int, str] | None = None,
    delimiter: str | None = None,
    allow_missing: bool = False,
) -> ClipIndex:
    """Index MAFW's single-label clips with their official test fold (see the module docstring)."""
    first_set = set_pattern.format(k=folds[0])
    if split_dir is None:
        splits = first_existing(root, [f"{d}/{first_set}" for d in SPLIT_DIRS], f"MAFW's split lists ({first_set}/{test_file})", override="split_dir").parent
    else:
        splits = require_dir(root / split_dir, "MAFW's split folder (…/single/no_caption)")
    lists = {
        name: {k: read_list(splits / set_pattern.format(k=k) / name, codes, delimiter) for k in folds}
        for name in (train_file, test_file)
    }
    labels = assign_folds(lists[test_file], lists[train_file])
    globs = [clips_glob] if isinstance(clips_glob, str) else list(clips_glob or CLIP_GLOBS)
    records = fold_records(root, labels, globs, "MAFW", "split lists", allow_missing)
    return build_index(records, MAFW_CLASSES, "mafw", root)


ADAPTER = Adapter(
    name="mafw",
    classes=MAFW_CLASSES,
    protocol=("official_folds", {"column": "fold"}),
    builder=mafw_index,
    description="MAFW: 10,045 in-the-wild clips, 11 single-label classes, official 5-fold CV (UAR + WAR)",
)
