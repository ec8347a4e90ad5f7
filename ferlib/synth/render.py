"""The procedural renderer: draws a face from its 68 landmarks with OpenCV.

Everything the expression changes is driven by the landmarks (brows, lids, lips, jaw) plus a few
appearance cues tied to action-unit activations (forehead lines for AU1/2, a brow furrow for AU4,
nasolabial folds for AU6/12, nose wrinkles for AU9, a dark open mouth for AU26), so the pixels
carry the same regional dynamics as the ground-truth landmarks. Frames are drawn at
``supersample`` × the output side and area-resized, which anti-aliases small faces.
"""

from __future__ import annotations

import cv2
import numpy as np

from ferlib.synth.identity import Identity

_SHIFT = 4  # fixed-point bits for sub-pixel drawing
_ONE = 1 << _SHIFT


def _pts(p: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(p) * _ONE).astype(np.int32).reshape(-1, 1, 2)


def _colour(c: np.ndarray) -> tuple[float, float, float]:
    return tuple(float(v) for v in np.clip(c, 0, 255))  # type: ignore[return-value]


def _poly(img: np.ndarray, p: np.ndarray, colour: np.ndarray) -> None:
    cv2.fillPoly(img, [_pts(p)], _colour(colour), cv2.LINE_AA, _SHIFT)


def _line(img: np.ndarray, p: np.ndarray, colour: np.ndarray, width: float, closed: bool = False) -> None:
    cv2.polylines(img, [_pts(p)], closed, _colour(colour), max(1, int(round(width))), cv2.LINE_AA, _SHIFT)


def _blend(img: np.ndarray, layer: np.ndarray, alpha: float) -> None:
    if alpha > 0.01:
        cv2.addWeighted(layer, float(alpha), img, 1.0 - float(alpha), 0.0, dst=img)


class ProceduralRenderer:
    """Draw ``(T, side, side, 3)`` uint8 RGB frames of an identity from per-frame landmarks."""

    def __init__(self, side: int = 64, supersample: int = 3) -> None:
        if side < 16:
            raise ValueError(f"frame side must be at least 16 pixels, got {side}")
        self.side = int(side)
        self.ss = int(supersample)

    def render(self, identity: Identity, landmarks: np.ndarray, aus: dict[int, np.ndarray]) -> np.ndarray:
        """landmarks ``(T, 68, 2)`` in output pixels; ``aus`` maps AU → activation ``(T,)``."""
        t = landmarks.shape[0]
        out = np.empty((t, self.side, self.side, 3), np.uint8)
        for i in range(t):  # drawing, not a model forward pass: one frame per call is inherent
            out[i] = self.render_frame(identity, landmarks[i], {k: float(v[i]) for k, v in aus.items()})
        return out

    def render_frame(self, ident: Identity, lm: np.ndarray, aus: dict[int, float]) -> np.ndarray:
        s = self.side * self.ss
        p = lm.astype(np.float64) * self.ss
        iod = float(np.linalg.norm(p[45] - p[36]))
        up = p[27] - p[8]
        up /= np.linalg.norm(up) + 1e-9  # unit vector from chin to brow line: the face's "up"
        right = np.array([-up[1], up[0]]) * -1.0  # perpendicular, pointing to image right

        # background: vertical gradient
        g = np.linspace(0, 1, s, dtype=np.float32)[:, None, None]
        img = ((1 - g) * ident.background[0] + g * ident.background[1]).repeat(s, axis=1)
        img = np.ascontiguousarray(img.astype(np.uint8))

        skin = ident.skin
        shade = skin * 0.72
        # neck and hair behind the head
        neck = np.array([p[5], p[11], p[11] + up * -1.6 * iod, p[5] + up * -1.6 * iod])
        _poly(img, neck, skin * 0.85)
        brow_mid = (p[19] + p[24]) / 2
        top = brow_mid + up * ident.hair_volume * iod * 1.6
        centre = (p[0] + p[16]) / 2 + up * 0.25 * iod
        axes = (float(np.linalg.norm(p[16] - p[0]) * 0.62), float(np.linalg.norm(top - centre) * 1.02))
        angle = float(np.degrees(np.arctan2(right[1], right[0])))
        rect = ((float(centre[0]), float(centre[1])), (2 * axes[0], 2 * axes[1]), angle)
        cv2.ellipse(img, rect, _colour(ident.hair), -1, cv2.LINE_AA)

        # face: jaw contour closed by a forehead arc above the brows
        brows = p[17:27]
        forehead = (brows + up * 0.42 * iod)[::-1]
        face = np.concatenate([p[0:17], forehead])
        _poly(img, face, skin)
        _line(img, p[0:17], shade, 0.02 * iod)

        # appearance cues tied to action units
        cues = img.copy()
        for k in range(3):  # forehead lines (AU1, AU2)
            y = 0.17 + 0.08 * k
            _line(cues, brows[1:9] + up * y * iod, shade * 0.9, 0.025 * iod)
        _blend(img, cues, min(1.0, 0.9 * (aus.get(1, 0.0) + 0.6 * aus.get(2, 0.0))))
        cues = img.copy()
        for a, b in ((21, 0.05), (22, -0.05)):  # brow furrow (AU4)
            base = p[a] + right * b * iod
            _line(cues, np.array([base - up * 0.02 * iod, base + up * 0.16 * iod]), shade * 0.8, 0.03 * iod)
        _blend(img, cues, min(1.0, aus.get(4, 0.0)))
        cues = img.copy()
        for wing, corner, sgn in ((31, 48, -1), (35, 54, 1)):  # nasolabial folds (AU6/AU12)
            a = p[wing] + right * sgn * 0.08 * iod + up * 0.03 * iod
            b = p[corner] + right * sgn * 0.07 * iod - up * 0.06 * iod
            mid = (a + b) / 2 + right * sgn * 0.07 * iod
            _line(cues, np.array([a, mid, b]), shade * 0.75, 0.035 * iod)
        _blend(img, cues, min(1.0, 0.8 * aus.get(12, 0.0) + 0.4 * aus.get(6, 0.0)))
        cues = img.copy()
        for k in range(2):  # nose wrinkles (AU9)
            c = p[28] + (p[29] - p[28]) * k
            _line(cues, np.array([c - right * 0.09 * iod, c + up * 0.02 * iod, c + right * 0.09 * iod]), shade * 0.75, 0.025 * iod)
        _blend(img, cues, min(1.0, aus.get(9, 0.0)))

        # eyes: white, iris clipped to the lids, lid line
        for idx in (slice(36, 42), slice(42, 48)):
            eye = p[idx]
            mask = np.zeros(img.shape[:2], np.uint8)
            cv2.fillPoly(mask, [_pts(eye)], 255, cv2.LINE_AA, _SHIFT)
            layer = img.copy()
            _poly(layer, eye, np.array([235, 235, 230]))
            c = eye.mean(0)
            r = 0.11 * iod
            cv2.circle(layer, tuple(np.round(c * _ONE).astype(int)), int(round(r * _ONE)), _colour(ident.iris), -1, cv2.LINE_AA, _SHIFT)
            cv2.circle(layer, tuple(np.round(c * _ONE).astype(int)), int(round(0.45 * r * _ONE)), (10, 10, 10), -1, cv2.LINE_AA, _SHIFT)
            m = (mask.astype(np.float32) / 255.0)[..., None]
            img[:] = (m * layer + (1 - m) * img).astype(np.uint8)
            _line(img, eye[:4], ident.hair * 0.6, 0.035 * iod)
            _line(img, eye, shade * 0.7, 0.015 * iod, closed=True)

        # brows
        _line(img, p[17:22], ident.hair, 0.075 * iod)
        _line(img, p[22:27], ident.hair, 0.075 * iod)

        # nose
        _line(img, p[27:31], shade * 0.95, 0.02 * iod)
        _line(img, p[31:36], shade * 0.9, 0.015 * iod)
        for n in (32, 34):  # nostrils
            cv2.circle(img, tuple(np.round(p[n] * _ONE).astype(int)), int(round(0.025 * iod * _ONE)), _colour(shade * 0.5), -1, cv2.LINE_AA, _SHIFT)

        # mouth: lips, then the opening between the inner lips
        _poly(img, p[48:60], ident.lips)
        inner = p[60:68]
        gap = float(np.linalg.norm(p[66] - p[62]))
        if gap > 0.03 * iod:
            _poly(img, inner, np.array([45, 20, 25]))
            teeth = np.array([p[61], p[62], p[63], (p[63] * 0.7 + p[65] * 0.3), (p[61] * 0.7 + p[67] * 0.3)])
            _poly(img, teeth, np.array([235, 230, 220]))
        _line(img, inner, ident.lips * 0.55, 0.025 * iod, closed=True)

        return cv2.resize(img, (self.side, self.side), interpolation=cv2.INTER_AREA)
