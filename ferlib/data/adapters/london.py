"""Face Research Lab London Set (DeBruine & Jones 2017, CC BY 4.0): neutral and smiling photos of real people.

Layout as distributed (the full set has 102 faces; other poses are ignored)::

    <root>/neutral_front/001_03.jpg   one frontal neutral photo per face id
    <root>/smiling_front/001_08.jpg   the same person smiling
    <root>/london_info.csv            optional: face_id, face_age, face_gender, face_eth

The set holds photos, not videos; ferlib turns each person into two clips of a subject-independent
two-class temporal task (:data:`LONDON_CLASSES` = ``neutral``, ``happy``), rendered as neutral →
smile morphs with known per-frame intensity by :func:`ferlib.synth.london.build_london_store`
(this set's preprocessing step: photos → clip store).

Index (:func:`london_index`): two rows per face id with both photos, ``clip_id``
``london_001_neutral`` / ``london_001_happy``, ``subject`` the face id, ``source`` the photo the clip
is made of (the smiling photo for ``happy``), ``neutral_photo``, ``smile_photo``, and the
``london_info.csv`` columns when the file exists. Face ids with only one of the two photos are left
out with a warning naming them. Protocol: 10-fold subject-independent CV (``subject_kfold``).
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from ferlib.data.adapters.base import Adapter, LayoutError, found_near
from ferlib.data.index import ClipIndex

__all__ = ["ADAPTER", "LONDON_CLASSES", "london_index"]

LONDON_CLASSES: tuple[str, ...] = ("neutral", "happy")
PHOTO_EXTS: tuple[str, ...] = (".jpg", ".jpeg", ".png")


# -- index ----------------------------------------------------------------------------------------
def _photos_by_id(folder: Path, suffix: str) -> dict[str, Path]:
    """``{face_id: path}`` of ``<id><suffix>.<ext>`` files in ``folder``."""
    out = {}
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in PHOTO_EXTS and p.stem.endswith(suffix) and not p.name.startswith("."):
            out[p.stem[: -len(suffix)]] = p
    return out


def london_index(
    photos_root: str | Path | Sequence[str | Path],
    neutral_dir: str = "neutral_front",
    smiling_dir: str = "smiling_front",
    neutral_suffix: str = "_03",
    smiling_suffix: str = "_08",
    info_csv: str = "london_info.csv",
) -> ClipIndex:
    """Index of the photo pairs under ``photos_root``: a ``neutral`` and a ``happy`` row per face id.

    Several roots (e.g. the repository's two London folders): one index of them all; a face id in
    two of them raises naming both.

    Raises :class:`~ferlib.data.adapters.base.LayoutError` naming the folder when
    ``neutral_front/`` or ``smiling_front/`` is missing or holds no ``<id>_03`` / ``<id>_08`` photos.
    """
    if not isinstance(photos_root, (str, Path)):
        roots = [Path(r) for r in photos_root]
        if not roots:
            raise LayoutError("London set: no folder given (expected one or more London-layout roots)")
        parts = [london_index(r, neutral_dir, smiling_dir, neutral_suffix, smiling_suffix, info_csv) for r in roots]
        seen: dict[str, Path] = {}
        for root_, part in zip(roots, parts):
            for fid in sorted(set(part.df["subject"])):
                if fid in seen:
                    raise LayoutError(f"London set: face id {fid!r} is in both {seen[fid]} and {root_}; "
                                      "expected each person in one folder")
                seen[fid] = root_
        return ClipIndex.from_records([r for part in parts for r in part.df.to_dict("records")], LONDON_CLASSES, "london")
    root = Path(photos_root).expanduser()
    folders = {}
    for name, sub in (("neutral", neutral_dir), ("smiling", smiling_dir)):
        folder = root / sub
        if not folder.is_dir():
            raise LayoutError(
                f"London set: expected the folder {folder} (layout <root>/{neutral_dir}/NNN{neutral_suffix}.jpg and "
                f"<root>/{smiling_dir}/NNN{smiling_suffix}.jpg); {found_near(folder)}"
            )
        folders[name] = folder
    neutral = _photos_by_id(folders["neutral"], neutral_suffix)
    smiling = _photos_by_id(folders["smiling"], smiling_suffix)
    for what, found, folder, suffix in (("neutral", neutral, folders["neutral"], neutral_suffix), ("smiling", smiling, folders["smiling"], smiling_suffix)):
        if not found:
            raise LayoutError(f"London set: no {what} photos named NNN{suffix}.jpg in {folder}; {found_near(folder)}")
    unpaired = sorted(set(neutral) ^ set(smiling))
    if unpaired:
        warnings.warn(f"London set under {root}: face ids {unpaired[:10]} have only one of the two photos; they are left out", stacklevel=2)
    ids = sorted(set(neutral) & set(smiling))
    if not ids:
        raise LayoutError(f"London set: no face id has both a neutral photo in {folders['neutral']} and a smiling one in {folders['smiling']}")
    info = _read_info(root / info_csv)
    records = []
    for fid in ids:
        extra = info.get(fid, {})
        for label, source in (("neutral", neutral[fid]), ("happy", smiling[fid])):
            records.append({
                "clip_id": f"london_{fid}_{label}",
                "label_name": label,
                "subject": fid,
                "source": str(source.resolve()),
                "split": "",
                "neutral_photo": str(neutral[fid].resolve()),
                "smile_photo": str(smiling[fid].resolve()),
                **extra,
            })
    return ClipIndex.from_records(records, LONDON_CLASSES, "london")


def _read_info(path: Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    if "face_id" not in df.columns:
        return {}
    return {row["face_id"]: {k: v for k, v in row.items() if k != "face_id"} for row in df.to_dict("records")}


ADAPTER = Adapter(
    name="london",
    classes=LONDON_CLASSES,
    protocol=("subject_kfold", {"k": 10}),
    builder=london_index,
    description="Face Research Lab London Set: neutral → smile morphs of real faces (2 classes, known intensity); "
    "render the clips with ferlib.synth.london.build_london_store",
)
