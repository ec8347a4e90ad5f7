"""ferlib.analysis.overview and ferlib.viz.overview: class balance, sample clips and intensity courses of a store
(notebook 00); the generated sample clips of figures/synth_samples.png."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from ferlib import synth_samples  # noqa: E402
from ferlib.analysis.overview import class_balance_table, class_samples, intensity_courses  # noqa: E402
from ferlib.synth.samples import sample_clips  # noqa: E402
from ferlib.viz.overview import class_balance_figure, intensity_courses_figure, sample_clips_figure  # noqa: E402
from ferlib.viz.synth_samples import synth_samples_figure  # noqa: E402


def test_class_balance_bars_are_the_clip_counts(small_store):
    index = small_store.index()
    counts = index.class_counts()
    fig = class_balance_figure(class_balance_table(index))
    ax = fig.axes[0]
    assert [p.get_height() for p in ax.containers[0]] == counts.tolist()
    assert [t.get_text() for t in ax.get_xticklabels()] == list(index.classes)
    assert sorted(t.get_text() for t in ax.texts) == sorted(str(v) for v in counts.tolist())
    assert f"{len(index)} clips, 10 subjects" in ax.get_title()
    assert class_balance_table(index)["clips"].sum() == len(index)
    plt.close(fig)


def test_intensity_courses_are_the_class_mean_with_a_10_90_band(small_store):
    index = small_store.index()
    courses = intensity_courses(small_store, index)
    assert len(courses) == 50 * len(index) and courses["time"].between(0, 1).all()
    fig = intensity_courses_figure(courses)
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


def test_class_samples_are_one_clip_per_class_and_drawn_one_row_each(small_store):
    index = small_store.index()
    clips, titles = class_samples(small_store, index, per_class=1, seed=3)
    assert titles == list(index.classes)
    assert all(c["frames"].ndim == 4 and len(c["intensity"]) == len(c["frames"]) for c in clips)
    assert [c["intensity"].tolist() for c in class_samples(small_store, index, seed=3)[0]] == \
        [c["intensity"].tolist() for c in clips]  # the seed decides the clips
    fig = sample_clips_figure(clips, titles)
    assert len(fig.axes) == len(clips) * 7  # six frames and the curve per row
    plt.close(fig)
    with pytest.raises(ValueError, match="per_class must be >= 1"):
        class_samples(small_store, index, per_class=0)
    with pytest.raises(ValueError, match="one title per clip"):
        sample_clips_figure(clips, titles[:-1])


def test_synth_samples_are_generated_in_synth_and_drawn_in_viz(tmp_path, monkeypatch, capsys):
    clips, titles = sample_clips(seed=0, side=32, n_frames=3)
    assert len(clips) == 8 and titles[0] == "anger\n(lab)" and titles[-1] == "surprise\n(lab-return)"
    assert clips[0]["frames"].shape == (3, 32, 32, 3)
    ret = clips[-1]["intensity"]
    assert ret[0] < ret[1] > ret[2]  # lab-return: neutral -> apex -> neutral
    fig = synth_samples_figure(clips, titles, seed=0)
    assert len(fig.axes) == 8 * 7 and "seed 0" in fig._suptitle.get_text()
    plt.close(fig)
    monkeypatch.setattr(synth_samples, "sample_clips", lambda seed: (clips[:2], titles[:2]))
    assert synth_samples.main(["--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").stat().st_size > 0 and "wrote" in capsys.readouterr().out
