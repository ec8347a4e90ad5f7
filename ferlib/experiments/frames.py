"""The frame-level data set of the pre-training: the most intense frames of generated clips as stills.

A clip's ``per_clip`` frames of highest ground-truth intensity, each labelled with its clip's
class, make a still-image expression data set (what FER2013 is for the papers' trunks).
:class:`FrameStills` serves them to the engine as one-frame clips ``(1, 3, S, S)``, and
:func:`still_loader` augments each batch at once (:func:`augment`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from ferlib.models.synth_frames import PRETRAIN_SEED
from ferlib.progress import progress_iter
from ferlib.synth import SynthConfig
from ferlib.synth.generate import clip_plan, generate_clip
from ferlib.synth.photo import photo_folders

__all__ = ["FrameStills", "augment", "expressive_frames", "photo_frames", "still_loader"]


def expressive_frames(store: Any, per_clip: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``per_clip`` frames of highest ground-truth intensity of every clip of ``store``
    (generated stores only): frames ``(N, H, W, 3)`` uint8, class labels ``(N,)`` and subject ids ``(N,)``."""
    frames, labels, subjects = [], [], []
    index = store.index()
    for clip_id, label, subject in zip(index.df["clip_id"], index.df["label"], index.df["subject"]):
        rec = store.read(clip_id)
        if rec.intensity is None:
            raise ValueError(f"{store.root}: clip {clip_id} has no ground-truth intensity; pre-training needs a generated store")
        keep = np.sort(np.argsort(np.asarray(rec.intensity), kind="stable")[-per_clip:])
        frames.append(np.asarray(rec.frames)[keep])
        labels += [int(label)] * len(keep)
        subjects += [str(subject)] * len(keep)
    return np.concatenate(frames), np.asarray(labels), np.asarray(subjects)


def photo_frames(photos_dir: str | Path | Sequence[str | Path], photo_ids: Sequence[str], side: int = 64, clips_per_subject: int = 40,
                 per_clip: int = 4, progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``per_clip`` most intense frames (as :func:`expressive_frames` keeps them) of
    ``clips_per_subject`` ``lab`` photo renders a person (7 classes, domain-randomised, 16-frame
    courses) of the people ``photo_ids`` of ``photos_dir``: frames ``(N, S, S, 3)`` uint8, labels,
    subject ids. Only the kept frames are rendered (``generate_clip(apex_frames=…)``)."""
    ids = sorted(str(i) for i in photo_ids)
    cfg = SynthConfig(course="lab", renderer="photo", photos_dir=tuple(map(str, photo_folders(photos_dir))), photo_ids=tuple(ids), n_subjects=len(ids),
                      clips_per_subject=clips_per_subject, n_frames=16, side=side, seed=PRETRAIN_SEED, randomise=True)
    renderer = cfg.photo_renderer()
    frames, labels, subjects = [], [], []
    for row in progress_iter(clip_plan(cfg, renderer.ids), desc="photo frames", enabled=progress, unit="clip"):
        clip = generate_clip(cfg, row["_subject"], row["_k"], row["label_name"], renderer, apex_frames=per_clip)
        frames.append(clip["frames"])
        labels += [int(row["label"])] * per_clip
        subjects += [str(row["subject"])] * per_clip
    return np.concatenate(frames), np.asarray(labels), np.asarray(subjects)


def augment(x: torch.Tensor, gen: torch.Generator, shift: int = 4, jitter: float = 0.2) -> torch.Tensor:
    """Per-image random flip, translation by up to ``shift`` pixels (edge padding) and
    brightness/contrast jitter of a batch ``(B, 3, S, S)`` in [0, 1], all at once."""
    b, c, s, _ = x.shape
    flip = torch.rand(b, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    padded = nn.functional.pad(x, (shift,) * 4, mode="replicate")  # (B, C, S+2k, S+2k)
    dx, dy = torch.randint(0, 2 * shift + 1, (2, b), generator=gen)
    rows = (dy[:, None] + torch.arange(s))[:, None, :, None]  # (B, 1, S, 1)
    cols = (dx[:, None] + torch.arange(s))[:, None, None, :]  # (B, 1, 1, S)
    x = padded[torch.arange(b)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]
    gain, contrast = 1 + (torch.rand(2, b, 1, 1, 1, generator=gen) * 2 - 1) * jitter
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x * gain - mean) * contrast + mean).clamp(0.0, 1.0)


class FrameStills(Dataset):
    """Stills ``(N, S, S, 3)`` uint8 with labels ``(N,)`` as the engine's items: ``frames`` ``(1, 3, S, S)``
    uint8 (a one-frame clip), ``label`` and ``row``."""

    def __init__(self, frames: np.ndarray, labels: np.ndarray) -> None:
        frames, labels = np.asarray(frames), np.asarray(labels)
        if len(frames) != len(labels) or len(frames) == 0:
            raise ValueError(f"need as many labels as frames (> 0), got {len(frames)} frames and {len(labels)} labels")
        if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
            raise ValueError(f"expected stills (N, S, S, 3) uint8, got {frames.shape} {frames.dtype}")
        self.frames = torch.as_tensor(frames).permute(0, 3, 1, 2)  # (N, 3, S, S)
        self.labels = torch.as_tensor(labels, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"frames": self.frames[i:i + 1], "label": self.labels[i], "row": i}


def still_loader(ds: FrameStills, batch_size: int, train: bool, seed: int = 0, epoch: int = 0) -> DataLoader:
    """Batches of ``ds`` with ``frames`` ``(B, 1, 3, S, S)`` float in [0, 1]; in training shuffled
    and :func:`augment`-ed, both seeded from ``(seed, epoch)``."""
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))

    def collate(items: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        x = torch.cat([it["frames"] for it in items]).float() / 255.0  # (B, 3, S, S)
        if train:
            x = augment(x, gen)
        return {"frames": x[:, None], "label": torch.stack([it["label"] for it in items]),
                "row": torch.as_tensor([it["row"] for it in items])}

    return DataLoader(ds, batch_size=batch_size, shuffle=train, generator=gen, collate_fn=collate)
