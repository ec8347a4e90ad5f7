import numpy as np
import pytest

from ferlib.data.samplers import Sampler, all_windows, chronological, segments, tsn, window


def test_chronological_known_answers():
    assert chronological(31, 16).tolist() == np.round(np.linspace(0, 30, 16)).astype(int).tolist()
    assert chronological(5, 10).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]  # reuse frames, in order
    assert chronological(1, 3).tolist() == [0, 0, 0]


def test_segments_train_and_test():
    rng = np.random.default_rng(0)
    for _ in range(20):
        idx = segments(30, 3, train=True, rng=rng)
        assert 0 <= idx[0] < 10 <= idx[1] < 20 <= idx[2] < 30
    assert segments(30, 3, train=False).tolist() == [4, 14, 24]
    idx = segments(50, 3, train=False, span=0.6)  # FAN's CK+ segments cover the first 3/5
    assert idx.max() < 30
    assert segments(2, 3, train=False).tolist() == [0, 0, 1]  # short clip: frames reused


def test_tsn_pairs_and_window():
    idx = tsn(80, 8, 2, train=False)
    assert len(idx) == 16 and (idx[1::2] - idx[::2] == 1).all() and (np.diff(idx) >= 0).all()
    assert window(10, 45, train=False).tolist() == list(range(10)) + [9] * 35
    assert window(100, 45, train=False).tolist() == list(range(27, 72))
    assert all_windows(100, 45).shape == (2, 45)


def test_sampler_object_and_errors():
    assert len(Sampler("tsn", 16)(40, train=True, rng=np.random.default_rng(0))) == 16
    with pytest.raises(ValueError, match="unknown sampler 'random'"):
        Sampler("random", 8)
    with pytest.raises(ValueError, match="must be even"):
        Sampler("tsn", 15)
    with pytest.raises(ValueError, match="at least one frame"):
        chronological(0, 4)
