"""ferlib.viz.style: one seaborn theme for every figure, applied when ferlib.viz is imported."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
from pathlib import Path  # noqa: E402
import seaborn as sns  # noqa: E402

import ferlib.viz  # noqa: E402,F401
from ferlib.viz import style  # noqa: E402


def test_the_theme_is_set_on_import_and_can_be_set_again():
    plt.rcdefaults()
    assert plt.rcParams["axes.grid"] is False
    style.set_theme()
    assert plt.rcParams["axes.grid"] is True  # seaborn whitegrid
    colours = [c for c in plt.rcParams["axes.prop_cycle"].by_key()["color"]]
    assert matplotlib.colors.to_rgb(colours[0]) == sns.color_palette("colorblind")[0] == style.OURS_COLOR
    style.set_theme(context="talk")
    assert plt.rcParams["font.size"] > 12
    style.set_theme()


def test_palette_has_distinct_colours_beyond_ten():
    assert len(set(style.palette(7))) == 7
    assert len(set(style.palette(12))) == 12


def test_every_saved_figure_is_200_dpi(tmp_path):
    import subprocess
    import sys

    from PIL import Image

    fig, ax = plt.subplots(figsize=(2, 1))
    path = style.save_figure(fig, tmp_path, "f")
    assert Image.open(path).info["dpi"] == pytest.approx((200, 200), abs=0.01)
    fig, _ = plt.subplots(figsize=(2, 1))
    fig.savefig(tmp_path / "plain.png")  # a notebook's own savefig: the theme's savefig.dpi
    assert Image.open(tmp_path / "plain.png").info["dpi"] == pytest.approx((200, 200), abs=0.01)
    plt.close("all")
    # no other place picks its own resolution
    found = subprocess.run(["git", "grep", "-n", "dpi=", "--", "ferlib", "notebooks/*.ipynb"], capture_output=True,
                           text=True, cwd=Path(__file__).parents[1]).stdout.splitlines()
    assert [ln for ln in found if "dpi=DPI" not in ln and "dpi: int = DPI" not in ln and "dpi=dpi" not in ln] == []


def test_paper_values_stay_visible_over_ferlibs():
    assert style.PAPER_MARKER["facecolor"] == "none" and style.PAPER_MARKER["zorder"] > 3  # hollow, drawn on top


def test_seeded_jitter_draws_the_same_and_leaves_numpys_state_as_found():
    import numpy as np

    from ferlib.viz.style import seeded_jitter

    np.random.seed(5)
    before = np.random.get_state()[1].copy()
    with seeded_jitter():
        a = np.random.uniform(size=3)
    with seeded_jitter():
        b = np.random.uniform(size=3)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
