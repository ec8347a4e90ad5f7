"""``figures/synth_samples.png``: one `lab` clip per class (neutral → apex) and one `lab-return` clip.

Run as ``python -m ferlib.viz.synth_samples --out figures/synth_samples.png``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from matplotlib.figure import Figure  # noqa: E402

from ferlib.data.labels import BASIC7  # noqa: E402
from ferlib.synth.generate import SynthConfig, generate_clip  # noqa: E402
from ferlib.viz.strips import clip_strips  # noqa: E402
from ferlib.viz.style import DPI  # noqa: E402


def synth_samples_figure(seed: int = 0, side: int = 96, n_frames: int = 16) -> Figure:
    """Rows: each basic class on the `lab` course (a different subject each), then `lab-return`."""
    lab = SynthConfig(course="lab", n_frames=n_frames, side=side, seed=seed)
    ret = SynthConfig(course="lab-return", n_frames=n_frames, side=side, seed=seed)
    clips = [generate_clip(lab, s, 0, c) for s, c in enumerate(BASIC7)]
    clips.append(generate_clip(ret, len(BASIC7), 0, "surprise"))
    titles = [f"{c}\n(lab)" for c in BASIC7] + ["surprise\n(lab-return)"]
    fig = clip_strips(clips, titles)
    fig.suptitle(f"Generated clips with their ground-truth intensity (seed {seed})", fontsize=10, y=1.0)
    return fig


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="figures/synth_samples.png")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    synth_samples_figure(args.seed).savefig(out, dpi=DPI, bbox_inches="tight")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
