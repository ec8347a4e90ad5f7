"""``figures/synth_samples.png`` drawn: generated clips as frame strips with their ground-truth intensity.

The clips come from :func:`ferlib.synth.samples.sample_clips`; ``python -m ferlib.synth_samples``
makes and saves the figure.
"""

from __future__ import annotations

from typing import Sequence

from matplotlib.figure import Figure

from ferlib.viz.strips import clip_strips

__all__ = ["synth_samples_figure"]


def synth_samples_figure(clips: Sequence[dict], titles: Sequence[str], seed: int = 0) -> Figure:
    """One row per clip (``frames`` ``(T, H, W, 3)`` uint8 and ``intensity`` ``(T,)``) titled
    ``titles[i]``, under a title naming the generator's ``seed``."""
    if not clips or len(clips) != len(titles):
        raise ValueError(f"need one title per clip and at least one clip, got {len(clips)} clips and {len(titles)} titles")
    fig = clip_strips(list(clips), list(titles))
    fig.suptitle(f"Generated clips with their ground-truth intensity (seed {seed})", fontsize=10, y=1.0)
    return fig
