"""Sample clips of the generated data set, to look at (``figures/synth_samples.png``): one `lab` clip
per basic class (neutral → apex, a different subject each) and one `lab-return` clip."""

from __future__ import annotations

from ferlib.data.labels import BASIC7
from ferlib.synth.generate import SynthConfig, generate_clip

__all__ = ["sample_clips"]


def sample_clips(seed: int = 0, side: int = 96, n_frames: int = 16) -> tuple[list[dict], list[str]]:
    """``(clips, titles)``: :func:`generate_clip` dicts (``frames`` ``(T, side, side, 3)`` uint8,
    ``intensity`` ``(T,)``, …) of each class of :data:`BASIC7` on the `lab` course, then `surprise`
    on `lab-return`, and one title per clip (``"happy\\n(lab)"``)."""
    lab = SynthConfig(course="lab", n_frames=n_frames, side=side, seed=seed)
    ret = SynthConfig(course="lab-return", n_frames=n_frames, side=side, seed=seed)
    clips = [generate_clip(lab, s, 0, c) for s, c in enumerate(BASIC7)]
    clips.append(generate_clip(ret, len(BASIC7), 0, "surprise"))
    return clips, [f"{c}\n(lab)" for c in BASIC7] + ["surprise\n(lab-return)"]
