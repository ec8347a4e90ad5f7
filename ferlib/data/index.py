"""ClipIndex: one row a clip, the table every adapter produces and every protocol splits.

Required columns:

============  =======  =====================================================================
clip_id       str      unique, filesystem-safe id (``[A-Za-z0-9_.-]``)
label         int      position in ``classes``
label_name    str      ``classes[label]``
subject       str      person id; protocols split on it (subject independence)
source        str      where the clip came from (video path, frame folder, ``synth:…``)
split         str      official split when the data set has one (``train``/``val``/``test``), else ``""``
============  =======  =====================================================================

Optional columns pass through untouched (``fold`` for official fold files, ``scene`` for FERV39k,
``course`` for synth, ``n_frames`` …). The index is a thin wrapper over a pandas DataFrame
(``index.df``): filter it with pandas and wrap the result with :meth:`ClipIndex.subset`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import pandas as pd

REQUIRED_COLUMNS = ("clip_id", "label", "label_name", "subject", "source", "split")
_SAFE_ID = re.compile(r"^[A-Za-z0-9_.\-]+$")


def safe_clip_id(text: str) -> str:
    """Turn any string (a relative path, say) into a filesystem-safe clip id."""
    out = re.sub(r"[^A-Za-z0-9_.\-]+", "_", str(text)).strip("._")
    if not out:
        raise ValueError(f"cannot make a clip id from {text!r}")
    return out


@dataclass
class ClipIndex:
    """A validated table of clips and the label set its ``label`` column indexes."""

    df: pd.DataFrame
    classes: tuple[str, ...]
    dataset: str = ""
    #: clips the adapter found but could not label, one dict each (``source``, ``reason``); they are
    #: not rows of ``df``, and preprocessing lists them in the store's ``left_out.csv``
    left_out: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.classes = tuple(self.classes)
        missing = [c for c in REQUIRED_COLUMNS if c not in self.df.columns]
        if missing:
            raise ValueError(f"ClipIndex is missing columns {missing}; required {list(REQUIRED_COLUMNS)}")
        df = self.df.reset_index(drop=True).copy()
        df["clip_id"] = df["clip_id"].astype(str)
        df["subject"] = df["subject"].astype(str)
        df["source"] = df["source"].astype(str)
        df["split"] = df["split"].fillna("").astype(str)
        df["label"] = df["label"].astype(int)
        bad = [c for c in df["clip_id"] if not _SAFE_ID.match(c)]
        if bad:
            raise ValueError(f"clip ids must match [A-Za-z0-9_.-]+, got {bad[:3]} (use safe_clip_id)")
        dup = df["clip_id"][df["clip_id"].duplicated()].tolist()
        if dup:
            raise ValueError(f"duplicate clip ids in index: {dup[:5]}")
        out_of_range = df[(df["label"] < 0) | (df["label"] >= len(self.classes))]
        if len(out_of_range):
            row = out_of_range.iloc[0]
            raise ValueError(
                f"clip {row['clip_id']!r} has label {row['label']} outside 0..{len(self.classes) - 1} "
                f"for classes {self.classes}"
            )
        names = np.asarray(self.classes, dtype=object)[df["label"].to_numpy()]
        mismatch = df["label_name"].astype(str).to_numpy() != names
        if mismatch.any():
            i = int(np.flatnonzero(mismatch)[0])
            raise ValueError(
                f"clip {df['clip_id'][i]!r}: label_name {df['label_name'][i]!r} does not match "
                f"classes[{df['label'][i]}] = {names[i]!r}"
            )
        self.df = df

    # -- construction ---------------------------------------------------------------------
    @classmethod
    def from_records(
        cls, records: Iterable[dict], classes: Iterable[str], dataset: str = ""
    ) -> "ClipIndex":
        """Build from dicts holding at least clip_id, label (or label_name), subject, source."""
        classes = tuple(classes)
        rows = []
        for rec in records:
            rec = dict(rec)
            if "label" not in rec:
                if rec.get("label_name") not in classes:
                    raise ValueError(f"clip {rec.get('clip_id')!r}: unknown class {rec.get('label_name')!r}; expected one of {classes}")
                rec["label"] = classes.index(rec["label_name"])
            rec.setdefault("label_name", classes[int(rec["label"])])
            rec.setdefault("split", "")
            rows.append(rec)
        df = pd.DataFrame(rows, columns=None if rows else list(REQUIRED_COLUMNS))
        return cls(df, classes, dataset)

    def subset(self, mask_or_rows: pd.Series | np.ndarray | Iterable[int]) -> "ClipIndex":
        """A new index holding the rows selected by a boolean mask or integer positions."""
        sel = np.asarray(mask_or_rows)
        df = self.df[sel] if sel.dtype == bool else self.df.iloc[sel]
        return ClipIndex(df, self.classes, self.dataset)

    # -- accessors ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.df)

    @property
    def labels(self) -> np.ndarray:
        return self.df["label"].to_numpy()

    @property
    def subjects(self) -> np.ndarray:
        return self.df["subject"].to_numpy()

    @property
    def clip_ids(self) -> list[str]:
        return self.df["clip_id"].tolist()

    def class_counts(self) -> pd.Series:
        """Clips per class, in label order (zeros included)."""
        counts = self.df["label"].value_counts().reindex(range(len(self.classes)), fill_value=0)
        counts.index = list(self.classes)
        return counts

    # -- persistence ----------------------------------------------------------------------
    def to_csv(self, path: str | Path) -> None:
        """Write ``path`` (CSV) and ``path`` + ``.json`` (classes and data-set name)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        self.df.to_csv(tmp, index=False)
        tmp.replace(path)
        Path(str(path) + ".json").write_text(json.dumps({"classes": list(self.classes), "dataset": self.dataset}))

    @classmethod
    def from_csv(cls, path: str | Path, classes: Iterable[str] | None = None) -> "ClipIndex":
        """Read an index written by :meth:`to_csv` (or any CSV with the required columns)."""
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"clip index {path} does not exist")
        side = Path(str(path) + ".json")
        dataset = ""
        if classes is None:
            if not side.is_file():
                raise FileNotFoundError(f"{side} (the label set of {path}) is missing; pass classes=…")
            meta = json.loads(side.read_text())
            classes, dataset = meta["classes"], meta.get("dataset", "")
        df = pd.read_csv(path, dtype={"clip_id": str, "subject": str, "source": str, "split": str}, keep_default_na=False)
        return cls(df, tuple(classes), dataset)
