"""Domain randomisation for rendered photo clips: the nuisances of faces filmed outside a studio.

A model trained on studio photos learns the studio too (grey backdrop, even light, sharp
lossless pixels). :class:`Randomisation` draws, per clip, what a camera and a room change, and
the photo renderer (:class:`ferlib.synth.photo.PhotoRenderer`) applies it to every frame of the clip:

* **pose and scale**: a per-clip similarity (rotation, scale, shift) on top of the renderer's
  crop jitter, and a small per-frame one (the jitter of a face detector in video);
* **background**: the photo's backdrop (found once per photo by a flood fill from the image
  border, :func:`background_mask`) replaced by a colour gradient, low-frequency colour noise or
  blurred blocks (``p_background``);
* **lighting**: a directional gradient across the face, overall gain, colour cast (per-channel
  gains) and gamma;
* **occluders** (``p_occluder``): a hand-like skin-coloured ellipse over the mouth or a cheek, a
  dark bar over the eyes (sunglasses) or a block entering from the frame's edge, over a span of
  frames (flagged as occluded);
* **blur** (Gaussian, per clip), **sensor noise** (Gaussian, new every frame) and **JPEG
  compression** (per-clip quality, ``p_jpeg``), at the output side.

All draws come from the clip's ``numpy`` generator, so a clip stays deterministic. The ``lab``
courses render clean pictures (no randomisation) unless asked; the photo renderer's ``wild``
course randomises by default (:class:`ferlib.synth.generate.SynthConfig` ``randomise``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = ["ClipNuisance", "Randomisation", "background_mask", "similarity_jitter"]


def similarity_jitter(
    rng: np.random.Generator, out_size: int, rotation_deg: float = 0.0, scale: float = 0.0, shift: float = 0.0
) -> np.ndarray:
    """A random ``(3, 3)`` similarity about the centre of an ``out_size`` image: rotation uniform in
    ±``rotation_deg``, scale in 1 ± ``scale``, shift in ±``shift`` × ``out_size`` per axis.
    All zeros give the identity (and draw nothing from ``rng``)."""
    if rotation_deg == 0 and scale == 0 and shift == 0:
        return np.eye(3)
    a = math.radians(rng.uniform(-rotation_deg, rotation_deg))
    k = 1.0 + rng.uniform(-scale, scale)
    d = rng.uniform(-shift, shift, 2) * out_size
    c = (out_size - 1) / 2.0
    lin = k * np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    t = np.array([c, c]) + d - lin @ np.array([c, c])
    return np.vstack([np.concatenate([lin, t[:, None]], 1), [0.0, 0.0, 1.0]])


@dataclass(frozen=True)
class Randomisation:
    """Ranges of the nuisances (each drawn uniformly per clip; 0 switches one off).

    pose: extra per-clip ``(rotation_deg, scale, shift)``; frame_jitter: per-frame ``(rotation_deg,
    scale, shift)``; light: largest brightness change across the face from a directional light;
    gain: range of the overall brightness factor; colour: largest per-channel gain deviation;
    gamma: range of the gamma; blur: largest Gaussian sigma (output pixels); noise: largest
    sensor-noise sigma (grey levels); jpeg: range of JPEG quality, applied with ``p_jpeg``;
    p_background, p_occluder: probabilities per clip."""

    pose: tuple[float, float, float] = (6.0, 0.06, 0.05)
    frame_jitter: tuple[float, float, float] = (0.8, 0.01, 0.008)
    light: float = 0.45
    gain: tuple[float, float] = (0.65, 1.25)
    colour: float = 0.12
    gamma: tuple[float, float] = (0.75, 1.35)
    blur: float = 1.1
    noise: float = 8.0
    jpeg: tuple[int, int] = (25, 90)
    p_jpeg: float = 0.7
    p_background: float = 0.7
    p_occluder: float = 0.3

    def draw(self, rng: np.random.Generator, n_frames: int, side: int) -> "ClipNuisance":
        """The nuisances of one clip of ``n_frames`` frames rendered at ``side`` pixels."""
        pose = similarity_jitter(rng, side, *self.pose)
        frames = np.stack([similarity_jitter(rng, side, *self.frame_jitter) for _ in range(n_frames)])
        angle = rng.uniform(0, 2 * np.pi)
        light = (float(rng.uniform(0, self.light)), float(np.cos(angle)), float(np.sin(angle)))
        gains = rng.uniform(*self.gain) * (1 + rng.uniform(-self.colour, self.colour, 3))
        gamma = float(np.exp(rng.uniform(np.log(self.gamma[0]), np.log(self.gamma[1]))))
        blur = float(rng.uniform(0, self.blur))
        noise = float(rng.uniform(0, self.noise))
        jpeg = int(rng.integers(self.jpeg[0], self.jpeg[1] + 1)) if rng.uniform() < self.p_jpeg else 0
        background = _texture(rng, side) if rng.uniform() < self.p_background else None
        occluder = None
        if rng.uniform() < self.p_occluder:
            start = int(rng.integers(0, max(1, n_frames - 1)))
            stop = int(min(n_frames, start + rng.integers(max(1, n_frames // 4), n_frames + 1)))
            occluder = (str(rng.choice(["hand", "glasses", "edge"])), start, stop, rng.uniform(0, 1, 6))
        return ClipNuisance(pose, frames, light, gains.astype(np.float32), gamma, blur, noise, jpeg, background, occluder,
                            np.random.default_rng(rng.integers(0, 2**63)))


@dataclass
class ClipNuisance:
    """The drawn nuisances of one clip (see :class:`Randomisation`); ``noise_rng`` draws the
    per-frame sensor noise."""

    pose: np.ndarray  # (3, 3) per clip
    frame_jitter: np.ndarray  # (T, 3, 3)
    light: tuple[float, float, float]  # strength, direction x, direction y
    gains: np.ndarray  # (3,)
    gamma: float
    blur: float
    noise: float
    jpeg: int  # 0: no compression
    background: np.ndarray | None  # (S, S, 3) uint8 at the working side
    occluder: tuple | None  # (kind, start, stop, 6 shape numbers in [0, 1])
    noise_rng: np.random.Generator

    def scene(self, frame: np.ndarray, backdrop: np.ndarray | None) -> np.ndarray:
        """Background swap (``backdrop``: the warped backdrop mask ``(S, S)`` in [0, 1]) and
        lighting of a working-size frame ``(S, S, 3)`` uint8."""
        f = frame.astype(np.float32)
        s = frame.shape[0]
        if self.background is not None and backdrop is not None:
            bg = cv2.resize(self.background, (s, s), interpolation=cv2.INTER_LINEAR).astype(np.float32)
            m = backdrop[..., None]
            f = f * (1 - m) + bg * m
        strength, dx, dy = self.light
        yy, xx = (np.mgrid[0:s, 0:s].astype(np.float32) / max(s - 1, 1)) - 0.5
        ramp = 1.0 + strength * (dx * xx + dy * yy) * 2.0
        f = f * ramp[..., None] * self.gains[None, None]
        f = 255.0 * np.clip(f / 255.0, 0, 1) ** self.gamma
        return np.clip(f + 0.5, 0, 255).astype(np.uint8)

    def camera(self, frame: np.ndarray, t: int, landmarks: np.ndarray) -> tuple[np.ndarray, bool]:
        """Occluder, blur, sensor noise and JPEG of output frame ``t`` ``(S, S, 3)`` uint8 whose
        landmarks are ``landmarks`` ``(68, 2)``; returns the frame and whether it is occluded."""
        out = frame.copy()
        occluded = False
        if self.occluder is not None and self.occluder[1] <= t < self.occluder[2]:
            _occlude(out, landmarks, self.occluder[0], self.occluder[3])
            occluded = True
        if self.blur > 0.3:
            out = cv2.GaussianBlur(out, (0, 0), self.blur)
        if self.noise > 0:
            noisy = out.astype(np.float32) + self.noise_rng.normal(0, self.noise, out.shape).astype(np.float32)
            out = np.clip(noisy + 0.5, 0, 255).astype(np.uint8)
        if self.jpeg:
            ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(out[..., ::-1]), [cv2.IMWRITE_JPEG_QUALITY, self.jpeg])
            if ok:
                out = cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
        return np.ascontiguousarray(out), occluded


def _texture(rng: np.random.Generator, side: int) -> np.ndarray:
    """A random backdrop ``(side, side, 3)`` uint8: a gradient, colour noise or blurred blocks."""
    kind = rng.integers(3)
    if kind == 0:
        a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
        ang = rng.uniform(0, 2 * np.pi)
        yy, xx = np.mgrid[0:side, 0:side] / max(side - 1, 1)
        w = np.clip(0.5 + (np.cos(ang) * (xx - 0.5) + np.sin(ang) * (yy - 0.5)), 0, 1)[..., None]
        img = (1 - w) * a + w * b
    elif kind == 1:
        k = int(rng.integers(3, 9))
        img = cv2.resize(rng.uniform(0, 255, (k, k, 3)).astype(np.float32), (side, side), interpolation=cv2.INTER_CUBIC)
    else:
        img = np.empty((side, side, 3), np.float32)
        img[:] = rng.uniform(0, 255, 3)
        for _ in range(int(rng.integers(3, 9))):
            x0, y0 = rng.integers(0, side, 2)
            x1, y1 = x0 + rng.integers(side // 8, side // 2, 2)
            img[y0:y1, x0:x1] = rng.uniform(0, 255, 3)
        img = cv2.GaussianBlur(img, (0, 0), side / 40)
    return np.clip(img, 0, 255).astype(np.uint8)


def _occlude(frame: np.ndarray, lm: np.ndarray, kind: str, u: np.ndarray) -> None:
    """Draw an occluder (in place) on an output frame with landmarks ``lm``; ``u``: 6 numbers in [0, 1]."""
    iod = float(np.linalg.norm(lm[45] - lm[36]))
    if kind == "hand":  # a skin-toned blob over the mouth or a cheek
        centre = [lm[57], lm[3], lm[13], lm[62]][int(u[0] * 4) % 4] + (u[1:3] - 0.5) * 0.3 * iod
        colour = tuple(float(c) for c in np.array([200, 150, 120]) * (0.55 + 0.5 * u[3]))
        axes = (int(max(1, (0.35 + 0.25 * u[4]) * iod)), int(max(1, (0.25 + 0.2 * u[5]) * iod)))
        cv2.ellipse(frame, tuple(int(v) for v in np.round(centre)), axes, float(u[1] * 180), 0, 360, colour, -1, cv2.LINE_AA)
    elif kind == "glasses":  # a dark bar over the eyes
        pts = np.concatenate([lm[36:48], lm[17:27] * 0.3 + lm[36:46] * 0.7])
        x0, y0 = pts.min(0) - 0.08 * iod
        x1, y1 = pts.max(0) + 0.06 * iod
        shade = tuple(float(c) for c in np.full(3, 15 + 50 * u[3]))
        cv2.rectangle(frame, (int(x0), int(y0)), (int(x1), int(y1)), shade, -1)
    else:  # a block entering from one edge (a microphone, a shoulder, another head)
        s = frame.shape[0]
        depth = int((0.2 + 0.25 * u[1]) * s)
        colour = tuple(float(c) for c in u[3:6] * 255)
        side = int(u[0] * 4) % 4
        if side == 0:
            frame[:, :depth] = colour
        elif side == 1:
            frame[:, s - depth:] = colour
        elif side == 2:
            frame[s - depth:, :] = colour
        else:
            frame[:, : depth // 2] = colour


def background_mask(image: np.ndarray, landmarks: np.ndarray, tolerance: int = 22) -> np.ndarray:
    """Where a photo shows its backdrop: ``(H, W)`` float32 in [0, 1], the pixels a flood fill from
    the image border reaches (colours within ``tolerance`` of the seed, per channel), never inside
    the face (the landmarks' hull grown by a third), feathered over a few pixels. A busy backdrop
    is mostly not reached, and then mostly kept."""
    h, w = image.shape[:2]
    fill = np.zeros((h + 2, w + 2), np.uint8)
    flags = 4 | cv2.FLOODFILL_MASK_ONLY | cv2.FLOODFILL_FIXED_RANGE | (255 << 8)
    tol = (tolerance,) * 3
    img = np.ascontiguousarray(image)
    for x, y in ((0, 0), (w - 1, 0), (0, h - 1), (w - 1, h - 1), (w // 2, 0), (0, h // 3), (w - 1, h // 3)):
        if fill[y + 1, x + 1] == 0:
            cv2.floodFill(img, fill, (int(x), int(y)), 0, tol, tol, flags)
    mask = fill[1:-1, 1:-1].astype(np.float32) / 255.0
    centre = landmarks.mean(0)
    hull = cv2.convexHull(((landmarks - centre) * 1.33 + centre).astype(np.float32)).astype(np.int32)
    cv2.fillConvexPoly(mask, hull, 0.0)
    k = max(1.0, 0.01 * max(h, w))
    return cv2.GaussianBlur(mask, (0, 0), k)
