"""Numbers of a data set's overview (notebook 00): clips and subjects per class.

:mod:`ferlib.viz.overview` draws the class balance, sample clips and intensity courses.
"""

from __future__ import annotations

import pandas as pd

from ferlib.data.index import ClipIndex

__all__ = ["class_balance_table"]


def class_balance_table(index: ClipIndex) -> pd.DataFrame:
    """Clips and subjects per class, with the share of clips."""
    counts = index.class_counts()
    subjects = index.df.groupby("label_name")["subject"].nunique().reindex(index.classes, fill_value=0)
    return pd.DataFrame({"clips": counts.values, "subjects": subjects.values,
                         "share": (counts.values / max(1, counts.sum())).round(3)}, index=list(index.classes))
