"""``figures/synth_samples.png``: one `lab` clip per class (neutral → apex) and one `lab-return` clip.

Run as ``python -m ferlib.synth_samples --out figures/synth_samples.png``: generates the clips
(:func:`ferlib.synth.samples.sample_clips`) and draws them (:func:`ferlib.viz.synth_samples.synth_samples_figure`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from ferlib.synth.samples import sample_clips  # noqa: E402
from ferlib.viz.style import DPI  # noqa: E402
from ferlib.viz.synth_samples import synth_samples_figure  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="figures/synth_samples.png")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    clips, titles = sample_clips(args.seed)
    synth_samples_figure(clips, titles, seed=args.seed).savefig(out, dpi=DPI, bbox_inches="tight")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
