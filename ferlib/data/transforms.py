"""Clip-consistent transforms: one random draw per clip, applied to every frame and its landmarks.

:class:`ClipTransform` turns stored uint8 frames ``(T, H, W, 3)`` and landmarks ``(T, 68, 2)`` into
a float tensor ``(T, 3, S, S)`` in [0, 1] and landmarks in pixels of the output frames. In
training it draws once per clip: a random crop (area fraction and aspect), a horizontal flip
(landmarks mirrored *and* re-indexed with :data:`~ferlib.data.landmarks68.FLIP_INDEX`), and a
colour jitter (brightness, contrast, saturation). At evaluation it only resizes (or, with
``resize_ratio > 1``, takes the centre crop). All frames of a clip are resized in one
``F.interpolate`` call on the uint8 window (antialiased bilinear, rounded to whole levels as
torchvision resizes uint8 images); the colour jitter runs on a whole batch (:func:`colour_jitter`).

:data:`AUGMENTATIONS` names the policies the recipes use (:func:`make_transform`):

* ``default`` — ferlib's choice for the demo: random crop of 80–100 % of the area, flip, jitter 0.2;
* ``resize_crop`` — FER-GCN's (paper §IV-B): resize to 256, random 224 crop (a crop of 224/256 of each
  side, scaled to the input side), "illumination changes" (brightness/contrast/saturation jitter
  0.2) and flip; the centre crop at test;
* ``resize_flip`` — the official Emotion-FAN code's: resize to 224 and flip (the paper states none);
* ``former_dfer`` — Former-DFER's DFEW recipe: a random-sized crop (50–100 % of the area) and flip;
* ``none`` — resize only. Pixel coordinates follow the pixel-centre
convention: ``x_out = (x_in − x0 + 0.5) · S / w − 0.5``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from ferlib.data.landmarks68 import FLIP_INDEX


@dataclass
class ClipTransform:
    """Resize (always) + random crop, flip and colour jitter (``train=True``)."""

    side: int = 64
    train: bool = False
    crop_scale: tuple[float, float] = (0.8, 1.0)
    flip: bool = True
    jitter: float = 0.2
    resize_ratio: float = 1.0  # > 1: crop a (1/ratio)-side window (random in training, centred at test)

    def __post_init__(self) -> None:
        if self.side < 8:
            raise ValueError(f"output side must be >= 8 pixels, got {self.side}")
        lo, hi = self.crop_scale
        if not 0 < lo <= hi <= 1:
            raise ValueError(f"crop_scale must satisfy 0 < low <= high <= 1, got {self.crop_scale}")
        if self.resize_ratio < 1:
            raise ValueError(f"resize_ratio must be >= 1, got {self.resize_ratio}")

    def __call__(
        self, frames: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator | None = None, pixels: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``pixels=False``: the same draws (same landmarks) but no pixel work; frames come back
        ``(T, 3, 0, 0)`` (for landmark-only methods)."""
        clip, lm, jitter = self.geometry(frames, landmarks, rng, pixels)
        if pixels:
            clip = to_unit(clip[None], None if jitter is None else jitter[None])[0]
        return clip, lm

    def geometry(
        self, frames: np.ndarray, landmarks: np.ndarray, rng: np.random.Generator | None = None, pixels: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, np.ndarray | None]:
        """Every draw of the clip, the window, flip and resize: frames ``(T, 3, S, S)`` uint8
        (channels-last in memory), landmarks ``(T, 68, 2)``, and the jitter's (brightness, contrast,
        saturation) factors ``(3,)`` (None: no jitter) for :func:`to_unit`. One clip of
        :meth:`batch_geometry`, which a batch goes through (:meth:`ferlib.data.dataset.ClipDataset.__getitems__`)."""
        clips, lm, jitter = self.batch_geometry([frames], [landmarks], [rng or np.random.default_rng()], pixels)
        return clips[0], lm[0], None if jitter is None else jitter[0]

    def draw(self, t: int, h: int, w: int, rng: np.random.Generator) -> Window:
        """The clip's draws on its ``(t, h, w)`` stored frames: every draw in one call, used in a fixed
        order (window, flip, jitter)."""
        u = rng.random(8).tolist() if self.train else [0.0] * 8
        x0, y0, cw, ch = 0, 0, w, h
        if self.resize_ratio > 1:  # resize to S·ratio, then an S×S crop: the same window on the stored frame
            cw, ch = int(round(w / self.resize_ratio)), int(round(h / self.resize_ratio))
            if self.train:
                x0, y0 = int(u[2] * (w - cw + 1)), int(u[3] * (h - ch + 1))
            else:
                x0, y0 = (w - cw) // 2, (h - ch) // 2
        elif self.train and self.crop_scale != (1.0, 1.0):
            lo, hi = self.crop_scale
            area = lo + (hi - lo) * u[0]
            aspect = math.exp(math.log(0.9) + (math.log(1.1) - math.log(0.9)) * u[1])
            cw = int(min(w, round(w * math.sqrt(area * aspect))))
            ch = int(min(h, round(h * math.sqrt(area / aspect))))
            x0, y0 = int(u[2] * (w - cw + 1)), int(u[3] * (h - ch + 1))
        flip = bool(self.train and self.flip and u[4] < 0.5)
        jitter = tuple(1 + self.jitter * (2 * v - 1) for v in u[5:8]) if self.train and self.jitter > 0 else None
        return Window(x0, y0, cw, ch, flip, jitter)

    def batch_geometry(
        self, frames: list[np.ndarray], landmarks: list[np.ndarray], rngs: list[np.random.Generator], pixels: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor, np.ndarray | None]:
        """:meth:`geometry` for B clips of T frames each (``frames[b]`` ``(T, H, W, 3)``, ``landmarks[b]``
        ``(T, 68, 2)``, each clip's draws from ``rngs[b]``): frames ``(B, T, 3, S, S)`` uint8 (channels-last),
        landmarks ``(B, T, 68, 2)``, jitter factors ``(B, 3)`` (None: no jitter). Each clip's window is
        cropped, mirrored and resized on its own; the landmark map runs once on the batch.
        ``pixels=False``: the same draws and landmarks, frames ``(B, T, 3, 0, 0)``."""
        for f in frames:
            if f.ndim != 4 or f.shape[-1] != 3:
                raise ValueError(f"frames must be (T, H, W, 3), got {f.shape}")
        wins = [self.draw(*f.shape[:3], rng) for f, rng in zip(frames, rngs)]
        flips = np.array([w.flip for w in wins])
        # x_out = (x_in − x0 + 0.5) · S / w − 0.5 (pixel centres); mirrored: (S − 1) − x_out
        sx = np.array([self.side / w.w for w in wins])
        sy = np.array([self.side / w.h for w in wins])
        scale = np.stack([np.where(flips, -sx, sx), sy], -1).astype(np.float32)[:, None, None]  # (B, 1, 1, 2)
        x0 = np.array([w.x0 for w in wins], np.float64)
        y0 = np.array([w.y0 for w in wins], np.float64)
        shift = np.stack([(0.5 - x0) * sx - 0.5, (0.5 - y0) * sy - 0.5], -1).astype(np.float32)
        shift[flips, 0] = (self.side - 1) - shift[flips, 0]
        lm = np.stack(landmarks).astype(np.float32, copy=False) * scale + shift[:, None, None]
        lm[flips] = lm[flips][..., FLIP_INDEX, :]
        jitter = None if wins[0].jitter is None else np.array([w.jitter for w in wins])
        if not pixels:
            return torch.zeros(len(frames), frames[0].shape[0], 3, 0, 0), torch.from_numpy(lm), jitter
        clips = torch.stack([self._resize(f, w) for f, w in zip(frames, wins)])  # (B, T, 3, S, S)
        return clips, torch.from_numpy(lm), jitter

    def _resize(self, frames: np.ndarray, win: Window) -> torch.Tensor:
        """Window ``win`` of ``frames`` ``(T, H, W, 3)`` → ``(T, 3, S, S)`` uint8 (channels-last), mirrored
        when drawn and resized in uint8 as torchvision resizes uint8 images."""
        clip = torch.from_numpy(np.ascontiguousarray(frames[:, win.y0 : win.y0 + win.h, win.x0 : win.x0 + win.w]))
        if win.flip:  # on the uint8 window (a small copy): bilinear resizing commutes with a mirror
            clip = clip.flip(2)
        clip = clip.permute(0, 3, 1, 2)  # (T, 3, h, w), channels-last in memory
        if (win.h, win.w) != (self.side, self.side):
            clip = F.interpolate(clip, size=(self.side, self.side), mode="bilinear", align_corners=False, antialias=True)
        return clip


class Window(NamedTuple):
    """One clip's draws (:meth:`ClipTransform.draw`): the crop (``x0``, ``y0``, ``w``, ``h``) in
    stored pixels, the mirror, and the colour jitter's (brightness, contrast, saturation) or None."""

    x0: int
    y0: int
    w: int
    h: int
    flip: bool
    jitter: tuple[float, float, float] | None


#: luma weights of the colour jitter's grey (ITU-R BT.601, as torchvision's ``rgb_to_grayscale``)
_GREY = torch.tensor([0.299, 0.587, 0.114])


def to_unit(clips: torch.Tensor, factors: np.ndarray | torch.Tensor | None = None) -> torch.Tensor:
    """uint8 clips ``(B, T, 3, S, S)`` → float in [0, 1], colour-jittered by ``factors`` ``(B, 3)``
    (:func:`colour_jitter`) when given; the memory layout and the device are kept."""
    x = clips.float()
    return x.div_(255.0) if factors is None else colour_jitter(x, factors, scale=1 / 255.0)


def batch_to_unit(batch: dict[str, torch.Tensor], device: torch.device | str | None = None) -> dict[str, torch.Tensor]:
    """A batch whose ``frames`` are still uint8 (``ClipDataset(defer_unit=True)``: ``jitter`` ``(B, 3)``
    holds each clip's factors, NaN for none) with its frames moved to ``device`` and finished there by
    :func:`to_unit`; any other batch as it is. Bytes cross to the device as uint8, a quarter of float's."""
    frames = batch["frames"]
    if frames.dtype != torch.uint8:
        return batch
    jitter = batch.get("jitter")
    frames = frames.to(device or frames.device, non_blocking=True)
    if jitter is not None and not torch.isnan(jitter).any():
        jitter = jitter.to(frames.device, non_blocking=True)
    else:
        jitter = None
    return {**{k: v for k, v in batch.items() if k != "jitter"}, "frames": to_unit(frames, jitter)}


def colour_jitter(clips: torch.Tensor, factors: np.ndarray | torch.Tensor, scale: float = 1.0) -> torch.Tensor:
    """Brightness b, saturation s, contrast c per clip, in this order, on clips ``(B, T, 3, S, S)``
    in [0, 1] with ``factors`` ``(B, 3)`` = (b, c, s): b·x; then grey + s·(· − grey) (grey =
    0.299 R + 0.587 G + 0.114 B); then ḡ + c·(· − ḡ) (ḡ the clip's mean grey after brightness);
    clamped to [0, 1]. Fused into one affine map of x and its grey g:
    c·s·b·x + c·(1 − s)·b·g + (1 − c)·b·mean(g), where x = ``scale`` · ``clips`` (1/255 for pixel
    levels). In place on ``clips``; returns it. Works on the colour as the last axis (contiguous for
    the channels-last frames :meth:`ClipTransform.geometry` makes)."""
    f = torch.as_tensor(factors, dtype=torch.float32, device=clips.device).view(-1, 1, 1, 1, 1, 3)
    b, c, s = f[..., 0] * scale, f[..., 1], f[..., 2]  # each (B, 1, 1, 1, 1); b also rescales
    x = clips.movedim(2, -1)  # (B, T, S, S, 3), a view
    grey = torch.matmul(x, _GREY.to(x.device)).unsqueeze(-1)  # (B, T, S, S, 1)
    mean = grey.mean(dim=(1, 2, 3, 4), keepdim=True)
    offset = grey.mul_(c * (1 - s) * b).add_((1 - c) * b * mean)
    x.mul_(c * s * b).add_(offset).clamp_(0.0, 1.0)
    return clips


#: augmentation policies by name (see the module docstring for their sources)
AUGMENTATIONS: dict[str, dict[str, object]] = {
    "default": {"crop_scale": (0.8, 1.0), "flip": True, "jitter": 0.2},
    "resize_crop": {"resize_ratio": 256 / 224, "flip": True, "jitter": 0.2},
    "resize_flip": {"crop_scale": (1.0, 1.0), "flip": True, "jitter": 0.0},
    "former_dfer": {"crop_scale": (0.5, 1.0), "flip": True, "jitter": 0.0},
    "none": {"crop_scale": (1.0, 1.0), "flip": False, "jitter": 0.0},
}


def make_transform(side: int, train: bool, policy: str = "default") -> ClipTransform:
    """The :class:`ClipTransform` of augmentation ``policy`` (one of :data:`AUGMENTATIONS`)."""
    if policy not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {policy!r}; expected one of {sorted(AUGMENTATIONS)}")
    return ClipTransform(side=side, train=train, **AUGMENTATIONS[policy])  # type: ignore[arg-type]
