"""ferlib.viz.style: one seaborn theme for every figure, applied when ferlib.viz is imported."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
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
