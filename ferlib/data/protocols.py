"""Evaluation protocols: which clips train and which test, fold by fold.

A protocol returns a list of :class:`Split` (row positions into a :class:`ClipIndex`):

* :func:`subject_kfold` — k-fold subject-independent CV (CK+, Oulu-CASIA, MMI, synth), class
  balanced across folds with scikit-learn's ``StratifiedGroupKFold``.
* :func:`fan_ckplus_folds` — FAN's CK+ rule: sort subject ids ascending, the subject of rank r goes
  to fold ``r mod k`` (fold sizes 33, 39, 40, 35, 30, 37, 29, 29, 33, 22 on CK+'s 327 clips).
* :func:`official_folds` — folds given by the data set's own split files (DFEW, MAFW: the
  adapter writes each clip's test fold into a ``fold`` column).
* :func:`train_test` — a fixed train → test split from the ``split`` column (AFEW, FERV39k).

:func:`with_validation` carves a leak-free validation set out of a split's training rows, by
subject, for model selection: the test fold is never used to pick an epoch.
"""

from __future__ import annotations

import inspect

from dataclasses import dataclass, field, replace

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from ferlib.data.index import ClipIndex

PROTOCOLS = ("subject_kfold", "fan_ckplus", "official_folds", "train_test")


@dataclass(frozen=True)
class Split:
    """Row positions of one fold: ``train``, ``test`` and (optionally) ``val``."""

    name: str
    train: np.ndarray
    test: np.ndarray
    val: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))


def subject_kfold(index: ClipIndex, k: int = 10, seed: int = 0) -> list[Split]:
    """k folds with no subject in two folds; classes balanced across folds as far as subjects allow."""
    n_subjects = len(set(index.subjects))
    if n_subjects < k:
        raise ValueError(f"subject_kfold needs at least k={k} subjects, the index has {n_subjects}")
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
    splits = []
    for i, (train, test) in enumerate(cv.split(np.zeros(len(index)), index.labels, index.subjects)):
        splits.append(Split(f"fold{i + 1:02d}", np.sort(train), np.sort(test)))
    return splits


def fan_ckplus_folds(index: ClipIndex, k: int = 10) -> list[Split]:
    """FAN's fold rule: subjects sorted ascending, rank r → fold (r mod k) + 1."""
    subjects = sorted(set(index.subjects))
    if len(subjects) < k:
        raise ValueError(f"fan_ckplus_folds needs at least k={k} subjects, the index has {len(subjects)}")
    fold_of = {s: r % k for r, s in enumerate(subjects)}
    folds = np.array([fold_of[s] for s in index.subjects])
    rows = np.arange(len(index))
    return [Split(f"fold{f + 1:02d}", rows[folds != f], rows[folds == f]) for f in range(k)]


def official_folds(index: ClipIndex, column: str = "fold") -> list[Split]:
    """One split per value of ``column`` (the clip's test fold); rows with fold < 0 only train."""
    if column not in index.df.columns:
        raise ValueError(f"official_folds needs a {column!r} column (the clip's test fold) in the index of {index.dataset!r}")
    folds = index.df[column].astype(int).to_numpy()
    rows = np.arange(len(index))
    return [Split(f"fold{f:02d}", rows[folds != f], rows[folds == f]) for f in sorted(set(folds[folds >= 0]))]


def train_test(index: ClipIndex, train: str = "train", test: str = "test") -> list[Split]:
    """A single split from the ``split`` column (e.g. AFEW's Train → Val: ``test="val"``)."""
    split = index.df["split"].to_numpy()
    rows = np.arange(len(index))
    tr, te = rows[split == train], rows[split == test]
    if len(tr) == 0 or len(te) == 0:
        found = sorted(set(split.tolist()))
        raise ValueError(f"train_test needs rows with split {train!r} and {test!r}; the index has splits {found}")
    return [Split(f"{train}-{test}", tr, te)]


def get_protocol(name: str, index: ClipIndex, **kwargs: object) -> list[Split]:
    """Protocol by name: one of :data:`PROTOCOLS`."""
    fns = {"subject_kfold": subject_kfold, "fan_ckplus": fan_ckplus_folds, "official_folds": official_folds, "train_test": train_test}
    if name not in fns:
        raise ValueError(f"unknown protocol {name!r}; expected one of {PROTOCOLS}")
    params = inspect.signature(fns[name]).parameters
    unknown = sorted(set(kwargs) - set(params) - {"index"})
    if unknown:
        valid = sorted(k for k in params if k != "index")
        raise ValueError(f"--protocol-arg {', '.join(unknown)}: protocol {name!r} takes no such argument; it takes {valid}")
    return fns[name](index, **kwargs)  # type: ignore[operator]


def with_validation(index: ClipIndex, split: Split, fraction: float = 0.15, seed: int = 0) -> Split:
    """Move about ``fraction`` of the training *subjects* into ``val`` (leak-free model selection).

    Subjects are drawn at random (``seed``) until their clips reach the fraction; the test rows are
    untouched, and no subject ends up in both train and val.
    """
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction!r}")
    rng = np.random.default_rng(seed)
    subjects = index.subjects
    train_subjects = np.unique(subjects[split.train])
    if len(train_subjects) < 2:
        raise ValueError(f"{split.name}: need at least 2 training subjects to carve a validation set")
    order = rng.permutation(train_subjects)
    target = fraction * len(split.train)
    chosen: list[str] = []
    count = 0
    for s in order[:-1]:
        if count >= target:
            break
        chosen.append(s)
        count += int(np.sum(subjects[split.train] == s))
    in_val = np.isin(subjects[split.train], chosen)
    return replace(split, train=split.train[~in_val], val=split.train[in_val])


def subject_overlap(index: ClipIndex, split: Split) -> set[str]:
    """Subjects that appear in more than one of train / val / test (empty when independent)."""
    s = index.subjects
    tr, va, te = set(s[split.train]), set(s[split.val]), set(s[split.test])
    return (tr & te) | (tr & va) | (va & te)
