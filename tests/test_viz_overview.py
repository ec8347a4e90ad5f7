"""ferlib.viz.overview: class balance and intensity courses of a store (notebook 00)."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ferlib.analysis.overview import class_balance_table  # noqa: E402
from ferlib.viz.overview import class_balance_figure, intensity_courses_figure  # noqa: E402


def test_class_balance_bars_are_the_clip_counts(small_store):
    index = small_store.index()
    counts = index.class_counts()
    fig = class_balance_figure(index)
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.containers[0]] == counts.tolist()
    assert [t.get_text() for t in ax.get_xticklabels()] == list(index.classes)
    assert sorted(t.get_text() for t in ax.texts) == sorted(str(v) for v in counts.tolist())
    assert f"{len(index)} clips, 10 subjects" in ax.get_title()
    assert class_balance_table(index)["clips"].sum() == len(index)
    plt.close(fig)


def test_intensity_courses_are_the_class_mean_with_a_10_90_band(small_store):
    index = small_store.index()
    fig = intensity_courses_figure(small_store, index)
    ax = fig.axes[0]
    curves_drawn = [ln for ln in ax.lines if len(ln.get_xdata())]  # seaborn adds empty legend proxies
    assert len(curves_drawn) == len(index.classes) and len(ax.collections) == len(index.classes)  # line + band each
    first = index.classes[0]
    assert ax.get_legend().get_texts()[0].get_text() == f"{first} (n={int((index.labels == 0).sum())})"
    # the first class's curves on the figure's time grid
    grid = np.linspace(0, 1, 50)
    curves = []
    for cid in np.asarray(index.clip_ids)[index.labels == 0]:
        rec = small_store.read(cid)
        curves.append(np.interp(grid, np.linspace(0, 1, rec.n_frames), rec.intensity))
    curves = np.stack(curves)
    assert curves_drawn[0].get_ydata() == pytest.approx(curves.mean(0), abs=1e-6)
    band = ax.collections[0].get_paths()[0].vertices[:, 1]
    assert band.min() == pytest.approx(np.quantile(curves, 0.1, axis=0).min(), abs=1e-6)
    assert band.max() == pytest.approx(np.quantile(curves, 0.9, axis=0).max(), abs=1e-6)
    plt.close(fig)
