"""The one seaborn theme of every ferlib figure, and the colours that mean the same in all of them.

:func:`set_theme` runs when :mod:`ferlib.viz` is imported (so every figure function draws under
it); call it again after ``plt.rcdefaults()`` or another
theme. Statistical figures use seaborn (``heatmap``, ``barplot``, ``pointplot``, ``stripplot``,
``regplot``, ``scatterplot``, ``lineplot``); frame strips and Grad-CAM overlays stay plain
matplotlib, drawn under the same theme.

Across figures, our numbers are drawn in :data:`OURS_COLOR` and the papers' values as
:data:`PAPER_MARKER` diamonds in :data:`PAPER_COLOR`. :func:`save_figure` writes every figure
the same way (PNG, tight bounding box).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import seaborn as sns
from matplotlib.figure import Figure

#: the keyword arguments of :func:`seaborn.set_theme` used for every figure
THEME: dict[str, Any] = {
    "context": "notebook",
    "style": "whitegrid",
    "palette": "colorblind",
    "font_scale": 0.85,
    # light grid under the data; images (frame strips, overlays) have no ticks and so no grid
    "rc": {"grid.linewidth": 0.6, "axes.titlesize": 10, "legend.frameon": False, "figure.dpi": 100},
}

_PALETTE = sns.color_palette(THEME["palette"])
#: colour of our measurements (bars, lines, points)
OURS_COLOR = _PALETTE[0]
#: colour of a paper's published value
PAPER_COLOR = _PALETTE[3]
#: how a paper's value is marked (``ax.scatter(x, y, **PAPER_MARKER)``)
PAPER_MARKER: dict[str, Any] = {"marker": "D", "s": 46, "color": PAPER_COLOR, "edgecolor": "black",
                                "linewidth": 0.6, "zorder": 4}


def set_theme(**overrides: Any) -> None:
    """Apply :data:`THEME` (seaborn ``set_theme``); ``overrides`` replace its keys for this call,
    e.g. ``set_theme(context="talk")`` for slides."""
    sns.set_theme(**{**THEME, **overrides})


def palette(n: int) -> list[tuple[float, float, float]]:
    """``n`` distinct colours of the theme's palette (``colorblind`` up to 10, ``husl`` beyond)."""
    return sns.color_palette(THEME["palette"], n) if n <= 10 else sns.color_palette("husl", n)


def save_figure(fig: Figure, figures_dir: str | Path, name: str, dpi: int = 100, close: bool = True) -> Path:
    """Save ``<figures_dir>/<name>.png`` (tight bounding box) and close the figure unless asked not to."""
    d = Path(figures_dir)
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{name}.png"
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    if close:
        plt.close(fig)
    return path
