import numpy as np
import pytest

from ferlib.data import ClipIndex
from ferlib.data.protocols import (
    fan_ckplus_folds, get_protocol, official_folds, subject_kfold, subject_overlap, train_test, with_validation,
)


def _index(n_subjects=25, per=3, seed=0):
    rng = np.random.default_rng(seed)
    recs = []
    for s in range(n_subjects):
        for k in range(int(rng.integers(1, per + 1))):
            recs.append({"clip_id": f"S{s:03d}_{k}", "label": int(rng.integers(0, 3)), "subject": f"S{s:03d}", "source": "x",
                         "split": "train" if s < 20 else "test", "fold": s % 5})
    return ClipIndex.from_records(recs, ("a", "b", "c"))


def test_subject_kfold_is_subject_independent_and_complete():
    idx = _index()
    splits = subject_kfold(idx, k=5, seed=3)
    tests = np.concatenate([s.test for s in splits])
    assert sorted(tests.tolist()) == list(range(len(idx)))  # every clip tested exactly once
    for s in splits:
        assert subject_overlap(idx, s) == set()
        assert len(np.intersect1d(s.train, s.test)) == 0


def test_fan_rule_known_assignment():
    idx = _index(n_subjects=23)
    splits = fan_ckplus_folds(idx, k=10)
    # sorted subjects S000..S022: rank r goes to fold r mod 10 -> fold 3 holds S003 and S013
    assert set(idx.subjects[splits[3].test]) == {"S003", "S013"}
    assert set(idx.subjects[splits[0].test]) == {"S000", "S010", "S020"}
    assert all(subject_overlap(idx, s) == set() for s in splits)


def test_validation_is_carved_from_train_by_subject():
    idx = _index()
    split = with_validation(idx, subject_kfold(idx, k=5)[0], fraction=0.2, seed=1)
    assert len(split.val) > 0 and subject_overlap(idx, split) == set()
    assert len(np.intersect1d(split.val, split.test)) == 0


def test_official_and_train_test():
    idx = _index()
    folds = official_folds(idx)
    assert [f.name for f in folds] == ["fold00", "fold01", "fold02", "fold03", "fold04"]
    assert (idx.df["fold"].to_numpy()[folds[2].test] == 2).all()
    (tt,) = train_test(idx)
    assert set(idx.df["split"][tt.test]) == {"test"}
    with pytest.raises(ValueError, match="split 'train' and 'val'"):
        train_test(idx, test="val")
    with pytest.raises(ValueError, match="unknown protocol 'loso'"):
        get_protocol("loso", idx)
    with pytest.raises(ValueError, match="at least k=10 subjects"):
        subject_kfold(_index(n_subjects=4), k=10)
