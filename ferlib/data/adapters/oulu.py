"""Oulu-CASIA NIR&VIS: 80 subjects × 6 posed expressions, neutral → apex, under 2 cameras × 3 lights.

Layout as distributed::

    <root>/OriginalImg/VL/Strong/P001/Anger/000.jpeg …   one frame folder per sequence
    <root>/OriginalImg/NI/Dark/P001/Happiness/…           (cameras VL, NI; lights Strong, Weak, Dark)

Expression folders: Anger, Disgust, Fear, Happiness, Sadness, Surprise (any common spelling is
accepted; an unknown folder name raises naming the folder). The papers use the visible-light,
strong-illumination part (480 sequences) — the default; ``modality`` and ``illumination`` take
one name or a list (e.g. ``illumination=("Strong", "Weak", "Dark")``).

Index: ``clip_id`` ``VL_Strong_P001_Anger``, ``subject`` ``P001``, ``source`` the frame folder,
``n_frames``, and ``modality`` / ``illumination`` columns. Protocol: 10-fold subject-independent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ferlib.data.adapters.base import (
    IMAGE_EXTS,
    Adapter,
    LayoutError,
    build_index,
    glob_or_fail,
    list_frames,
    name_to_class,
    require_dir,
)
from ferlib.data.index import ClipIndex

OULU_CLASSES: tuple[str, ...] = ("anger", "disgust", "fear", "happy", "sad", "surprise")


def _as_list(value: str | Sequence[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def oulu_index(
    root: Path,
    image_dir: str = "OriginalImg",
    modality: str | Sequence[str] = "VL",
    illumination: str | Sequence[str] = "Strong",
    subject_glob: str = "P*",
) -> ClipIndex:
    """Index Oulu-CASIA sequences of the chosen camera(s) and light(s) under ``root``."""
    images = require_dir(root / image_dir, "the Oulu-CASIA image folder (<root>/OriginalImg/VL/Strong/P001/Anger/*.jpeg)")
    records = []
    for mod in _as_list(modality):
        for illum in _as_list(illumination):
            part = require_dir(images / mod / illum, f"the Oulu-CASIA {mod}/{illum} part")
            for seq in glob_or_fail(part, f"{subject_glob}/*", f"Oulu-CASIA sequences ({mod}/{illum}/P*/<Expression>/)"):
                if not seq.is_dir():
                    continue
                subject = seq.parent.name
                label = name_to_class(seq.name, OULU_CLASSES, f"expression folder {seq}")
                frames = list_frames(seq, IMAGE_EXTS)
                if not frames:
                    raise LayoutError(f"expected frames matching {seq}/*.jpeg; the folder is empty")
                records.append(
                    {
                        "clip_id": f"{mod}_{illum}_{subject}_{seq.name}",
                        "label_name": label,
                        "subject": subject,
                        "source": str(seq),
                        "split": "",
                        "n_frames": len(frames),
                        "modality": mod,
                        "illumination": illum,
                    }
                )
    return build_index(records, OULU_CLASSES, "oulu", images)


ADAPTER = Adapter(
    name="oulu",
    classes=OULU_CLASSES,
    protocol=("subject_kfold", {"k": 10}),
    builder=oulu_index,
    description="Oulu-CASIA VL-Strong: 480 posed sequences, 80 subjects, 6 classes",
)
