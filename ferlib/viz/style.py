"""The one seaborn theme of every ferlib figure, and the colours that mean the same in all of them.

:func:`set_theme` runs when :mod:`ferlib.viz` is imported (so every figure function draws under
it); call it again after ``plt.rcdefaults()`` or another
theme. Statistical figures use seaborn (``heatmap``, ``barplot``, ``pointplot``, ``stripplot``,
``regplot``, ``scatterplot``, ``lineplot``); frame strips and Grad-CAM overlays stay plain
matplotlib, drawn under the same theme.

Across figures, ferlib's numbers are drawn in :data:`OURS_COLOR` and the papers' values as
:data:`PAPER_MARKER` diamonds in :data:`PAPER_COLOR` (hollow, on top, so that a value of ferlib's
at the same place still shows through). :func:`save_figure` writes every figure the same way (PNG,
tight bounding box, :data:`DPI`); :func:`class_palette` gives classes colours that stay apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.figure import Figure

#: resolution of every saved figure (``savefig.dpi`` of the theme and :func:`save_figure`'s default)
DPI = 200

#: the keyword arguments of :func:`seaborn.set_theme` used for every figure
THEME: dict[str, Any] = {
    "context": "notebook",
    "style": "whitegrid",
    "palette": "colorblind",
    "font_scale": 0.95,
    # light grid under the data; images (frame strips, overlays) have no ticks and so no grid
    "rc": {"grid.linewidth": 0.6, "axes.titlesize": 10, "legend.frameon": False, "figure.dpi": 100,
           "savefig.dpi": DPI},
}

_PALETTE = sns.color_palette(THEME["palette"])
#: colour of our measurements (bars, lines, points)
OURS_COLOR = _PALETTE[0]
#: colour of a paper's published value
PAPER_COLOR = _PALETTE[3]
#: how a paper's value is marked (``ax.scatter(x, y, **PAPER_MARKER)``)
PAPER_MARKER: dict[str, Any] = {"marker": "D", "s": 50, "facecolor": "none", "edgecolor": PAPER_COLOR,
                                "linewidth": 1.6, "zorder": 5}


@contextmanager
def seeded_jitter(seed: int = 0) -> Iterator[None]:
    """numpy's global RNG seeded for the call inside (seaborn's ``stripplot`` jitters from it), and
    restored after: the same data draw the same figure."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def set_theme(**overrides: Any) -> None:
    """Apply :data:`THEME` (seaborn ``set_theme``); ``overrides`` replace its keys for this call,
    e.g. ``set_theme(context="talk")`` for slides."""
    sns.set_theme(**{**THEME, **overrides})


def palette(n: int) -> list[tuple[float, float, float]]:
    """``n`` distinct colours of the theme's palette (``colorblind`` up to 10, ``husl`` beyond)."""
    return sns.color_palette(THEME["palette"], n) if n <= 10 else sns.color_palette("husl", n)


def class_palette(n: int) -> list[tuple[float, float, float]]:
    """``n`` colours for ``n`` classes that stay apart: ``tab10`` up to 10 (a qualitative palette
    whose blue, orange, green, red, purple, brown, pink, grey, olive and cyan differ in hue and
    lightness; the theme's ``colorblind`` palette gives near-identical teal-greys to neighbours),
    ``tab20`` up to 20, ``husl`` beyond."""
    if n <= 10:
        return sns.color_palette("tab10", n)
    return sns.color_palette("tab20", n) if n <= 20 else sns.color_palette("husl", n)


def save_figure(fig: Figure, figures_dir: str | Path, name: str, dpi: int = DPI, close: bool = True) -> Path:
    """Save ``<figures_dir>/<name>.png`` (tight bounding box, ``dpi``) and close the figure unless asked not to."""
    d = Path(figures_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if close:
        plt.close(fig)
    return path
