import numpy as np
import pytest

from ferlib.train.metrics import accuracy, confusion, per_class_accuracy, summarize, uar


def test_hand_computed_example():
    y_true = np.array([0, 0, 0, 0, 1, 1, 2])
    y_pred = np.array([0, 0, 0, 1, 1, 0, 1])
    # class recalls: 3/4, 1/2, 0/1 -> UAR = (0.75 + 0.5 + 0) / 3; WAR = 4/7
    assert accuracy(y_true, y_pred) == pytest.approx(4 / 7)
    assert uar(y_true, y_pred) == pytest.approx(1.25 / 3)
    np.testing.assert_allclose(per_class_accuracy(y_true, y_pred, 4)[:3], [0.75, 0.5, 0.0])
    assert np.isnan(per_class_accuracy(y_true, y_pred, 4)[3])
    assert confusion(y_true, y_pred, 3).tolist() == [[3, 1, 0], [1, 1, 0], [0, 1, 0]]
    assert confusion(y_true, y_pred, 3, normalize=True)[1].tolist() == [0.5, 0.5, 0.0]
    s = summarize(y_true, y_pred, ("a", "b", "c"))
    assert s["per_class"]["b"] == 0.5 and s["n"] == 7 and s["war"] == s["accuracy"]


def test_errors():
    with pytest.raises(ValueError, match="differ in length"):
        accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="at least one"):
        uar([], [])
