"""What action units do to a face's *appearance*, painted onto a warped photo frame.

A landmark warp moves skin but cannot make what an expression adds: an open mouth's dark interior
and teeth, the folds and bulges skin forms when muscles bunch it, shadows that deepen. The photo
renderer (:mod:`ferlib.synth.photo`) calls :func:`paint_action_units` after the warp, with each
AU's activation of the frame (the same per-frame intensity that moved the landmarks) and the
frame's landmarks, so appearance and geometry change together. Per action unit (FACS names;
sizes in units of the outer inter-ocular distance, IOD):

============  ===============================================================================
AU            appearance painted (strength ∝ activation)
============  ===============================================================================
1, 2          horizontal forehead folds above the brows (three lines, light band above each)
4             vertical furrows between the inner brows; shadow over the upper lids
5             sclera: a light band under the raised upper lid
6             cheek raise: a highlight on the cheek apple, the lower-lid crease, crow's feet
7             a tension line under the lower lid
9             wrinkles across the nose bridge; the upper nasolabial fold
12            nasolabial folds from the nose wings past the mouth corners (per side, with a
              light band on the cheek side), shadows at the corners
14            dimpler: a crease curving round the tightened corner, the lit bulge beyond
              it, a shadow in the corner (per side)
15            lines from the corners down (marionette lines)
20            stretch lines beyond the corners
23, 24        lip press: a darker lip line, lips paler (blended towards the cheek's colour),
              a shadow under the lower lip
25, 26, 27    open mouth (from the inner-lip polygon): a dark interior, then the upper teeth
              (and for wide openings the lower ones) as an off-white band under the upper lip
============  ===============================================================================

The folds and shadows are strokes drawn on two single-channel layers (shade, light), blurred
with a Gaussian of about 0.03 IOD and applied multiplicatively, so they take the photo's own
skin colour and lighting. The side weights (``sides``) scale one-sided effects, for unilateral
AUs (contempt's AU12 + AU14 on one side).
"""

from __future__ import annotations

from typing import Mapping, Sequence

import cv2
import numpy as np

__all__ = ["APPEARANCE_AUS", "paint_action_units", "paint_open_mouth"]

#: the action units :func:`paint_action_units` paints
APPEARANCE_AUS: tuple[int, ...] = (1, 2, 4, 5, 6, 7, 9, 12, 14, 15, 20, 23, 24)

_SHIFT = 4
_ONE = 1 << _SHIFT
_INNER_LIP = slice(60, 68)


def _pts(p: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(p, dtype=np.float64) * _ONE).astype(np.int32).reshape(-1, 1, 2)


def _stroke(layer: np.ndarray, points: np.ndarray, value: float, width: float) -> None:
    """Anti-aliased polyline on a uint8 ``layer`` at ``value`` (0..1), keeping the larger value where strokes cross."""
    v = int(round(255 * min(max(value, 0.0), 1.0)))
    if v <= 0:
        return
    tmp = np.zeros_like(layer)
    cv2.polylines(tmp, [_pts(points)], False, v, max(1, int(round(width))), cv2.LINE_AA, _SHIFT)
    np.maximum(layer, tmp, out=layer)


def _fill(layer: np.ndarray, points: np.ndarray, value: float) -> None:
    v = int(round(255 * min(max(value, 0.0), 1.0)))
    if v <= 0:
        return
    tmp = np.zeros_like(layer)
    cv2.fillPoly(tmp, [_pts(points)], v, cv2.LINE_AA, _SHIFT)
    np.maximum(layer, tmp, out=layer)


def _ellipse(layer: np.ndarray, centre: np.ndarray, axes: tuple[float, float], angle: float, value: float) -> None:
    v = int(round(255 * min(max(value, 0.0), 1.0)))
    if v <= 0:
        return
    tmp = np.zeros_like(layer)
    c = tuple(int(x) for x in np.round(np.asarray(centre) * _ONE))
    a = tuple(max(1, int(round(x * _ONE))) for x in axes)
    cv2.ellipse(tmp, c, a, angle, 0, 360, v, -1, cv2.LINE_AA, _SHIFT)
    np.maximum(layer, tmp, out=layer)


def _bezier(a: np.ndarray, c: np.ndarray, b: np.ndarray, n: int = 8) -> np.ndarray:
    t = np.linspace(0.0, 1.0, n)[:, None]
    return (1 - t) ** 2 * a + 2 * (1 - t) * t * c + t ** 2 * b


def paint_open_mouth(frame: np.ndarray, lm: np.ndarray, opening: float, iod: float,
                     mouth_colour: Sequence[float] = (48, 20, 24), teeth_colour: Sequence[float] = (242, 238, 226)) -> np.ndarray:
    """Dark interior and teeth inside the inner-lip polygon ``lm[60:68]`` of ``frame`` ``(H, W, 3)``
    uint8 (a new array). ``opening`` (0..1): how far the mouth is open beyond the neutral photo's
    (0 = closed: nothing painted). The upper teeth hang from the upper inner lip (60–64) by up to
    0.07 IOD; the lower teeth show above the lower inner lip only when the lips part widely. The
    teeth are lit like the skin of the nose and cheeks (their mean brightness scales the colour)."""
    if opening <= 0:
        return frame
    h, w = frame.shape[:2]
    inner = lm[_INNER_LIP].astype(np.float64)
    mask = np.zeros((h, w), np.uint8)
    cv2.fillPoly(mask, [_pts(inner)], 255, cv2.LINE_AA, _SHIFT)
    gap = float(np.linalg.norm(lm[66] - lm[62]))
    down = lm[57] - lm[51]
    down = down / (np.linalg.norm(down) + 1e-9)
    teeth = np.zeros((h, w), np.uint8)
    upper = inner[[0, 1, 2, 3, 4]]  # 60 61 62 63 64
    depth = min(0.07 * iod, 0.5 * gap)
    band = np.concatenate([upper, (upper + down * depth)[::-1]])
    cv2.fillPoly(teeth, [_pts(band)], 255, cv2.LINE_AA, _SHIFT)
    lower_teeth = np.zeros((h, w), np.uint8)
    if gap > 0.2 * iod:  # wide open: the lower teeth show too
        lower = inner[[4, 5, 6, 7, 0]]  # 64 65 66 67 60
        band = np.concatenate([lower, (lower - down * min(0.035 * iod, 0.15 * gap))[::-1]])
        cv2.fillPoly(lower_teeth, [_pts(band)], 255, cv2.LINE_AA, _SHIFT)
    m = (mask.astype(np.float32) / 255.0)[..., None]
    a = min(float(opening), 1.0)
    out = frame.astype(np.float32)
    out = out * (1 - a * m) + np.asarray(mouth_colour, np.float32) * (a * m)
    tm = (np.minimum(teeth, mask).astype(np.float32) / 255.0)[..., None] * a
    # teeth: off-white, a little darker towards the sides, lit like the photo's skin
    skin = np.zeros((h, w), np.uint8)
    cv2.fillPoly(skin, [_pts(lm[[31, 35, 14, 2]])], 255, cv2.LINE_8, _SHIFT)
    lit = float(np.clip(frame[skin > 0].mean() / 170.0, 0.55, 1.05)) if (skin > 0).any() else 1.0
    out = out * (1 - tm) + np.asarray(teeth_colour, np.float32) * lit * tm
    lt = (np.minimum(lower_teeth, mask).astype(np.float32) / 255.0)[..., None] * a * 0.8
    out = out * (1 - lt) + np.asarray(teeth_colour, np.float32) * lit * 0.85 * lt
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def paint_action_units(frame: np.ndarray, lm: np.ndarray, aus: Mapping[int, float],
                       sides: tuple[float, float] = (1.0, 1.0), strength: float = 1.0) -> np.ndarray:
    """Paint the appearance of the action units ``aus`` (AU → activation, ≥ 0) onto ``frame``
    ``(H, W, 3)`` uint8 whose 68 landmarks are ``lm`` (frame pixels); returns a new frame.
    ``sides``: weights of the image-left (subject's right, landmarks 31/48) and image-right
    (35/54) halves for one-sided effects; ``strength`` scales every effect."""
    act = {int(k): float(v) * strength for k, v in aus.items() if float(v) > 1e-3}
    if not any(au in act for au in APPEARANCE_AUS):
        return frame
    h, w = frame.shape[:2]
    p = np.asarray(lm, dtype=np.float64)
    ex = p[45] - p[36]
    iod = float(np.linalg.norm(ex))
    ex = ex / (iod + 1e-9)
    dn = np.array([-ex[1], ex[0]])  # the face's "down" (eye line rotated by +90°, y pointing down)
    shade = np.zeros((h, w), np.uint8)
    light = np.zeros((h, w), np.uint8)
    lw = 0.03 * iod  # line width of folds
    g = lambda au: act.get(au, 0.0)  # noqa: E731

    # AU1/AU2: forehead folds
    brow_raise = min(1.0, g(1) + 0.6 * g(2))
    if brow_raise > 0:
        brow = p[18:26]
        for k in range(3):
            line = brow - dn * (0.13 + 0.065 * k) * iod
            _stroke(shade, line, 0.28 * brow_raise, 0.7 * lw)
    # AU4: furrows between the brows, shadow over the upper lids
    if g(4) > 0:
        for idx, sgn in ((21, 1.0), (22, -1.0)):
            base = p[idx] + ex * sgn * 0.05 * iod
            _stroke(shade, np.array([base + dn * 0.02 * iod, base - dn * 0.15 * iod]), 0.30 * min(1.0, g(4)), 0.8 * lw)
        for brow, eye in ((slice(17, 22), slice(36, 40)), (slice(22, 27), slice(42, 46))):
            _fill(shade, np.concatenate([p[brow], p[eye][::-1]]), 0.12 * min(1.0, g(4)))
    # AU5: sclera above the iris
    if g(5) > 0:
        for top in (p[[36, 37, 38, 39]], p[[42, 43, 44, 45]]):
            _stroke(light, top + dn * 0.02 * iod, 0.35 * min(1.0, g(5)), 0.025 * iod)
    # AU6: cheek raise
    if g(6) > 0:
        a6 = min(1.0, g(6))
        for lid, corner, mouth, sgn in ((p[[39, 40, 41, 36]], p[36], p[48], -1.0), (p[[42, 47, 46, 45]], p[45], p[54], 1.0)):
            _stroke(shade, lid + dn * 0.07 * iod, 0.30 * a6, lw)  # lower-lid crease
            for ang in (-0.5, 0.0, 0.5):  # crow's feet, fanning out from the outer corner
                d = ex * sgn * np.cos(ang) + dn * np.sin(ang)
                _stroke(shade, np.array([corner + d * 0.05 * iod, corner + d * 0.17 * iod]), 0.25 * a6, 0.8 * lw)
            apple = (lid.mean(0) * 0.55 + mouth * 0.45) + ex * sgn * 0.12 * iod
            _ellipse(light, apple, (0.2 * iod, 0.13 * iod), float(np.degrees(np.arctan2(ex[1], ex[0]))), 0.14 * a6)
    # AU7: lid tightener
    if g(7) > 0:
        for lid in (p[[36, 41, 40, 39]], p[[42, 47, 46, 45]]):
            _stroke(shade, lid + dn * 0.035 * iod, 0.22 * min(1.0, g(7)), 0.8 * lw)
    # AU9: nose wrinkles
    if g(9) > 0:
        for k in range(3):
            c = p[28] + (p[29] - p[28]) * (0.5 * k) - dn * 0.02 * iod
            _stroke(shade, np.array([c - ex * 0.1 * iod, c - dn * 0.02 * iod, c + ex * 0.1 * iod]), 0.35 * min(1.0, g(9)), lw)
    # AU12 (and AU9's upper part, AU6's share): nasolabial folds, per side
    fold = max(g(12), 0.6 * g(9), 0.3 * g(6))
    if fold > 0:
        for wing, corner, sgn, side in ((31, 48, -1.0, sides[0]), (35, 54, 1.0, sides[1])):
            a = min(1.0, fold) * side
            start = p[wing] + ex * sgn * 0.06 * iod - dn * 0.03 * iod
            end = p[corner] + ex * sgn * 0.09 * iod + dn * 0.06 * iod
            ctrl = (start + end) / 2 + ex * sgn * 0.08 * iod
            curve = _bezier(start, ctrl, end)
            _stroke(shade, curve, 0.38 * a, lw * 1.3)
            _stroke(light, curve + ex * sgn * 0.06 * iod, 0.12 * a, lw * 1.5)
            if g(12) > 0:
                _ellipse(shade, p[corner] + ex * sgn * 0.03 * iod, (0.03 * iod, 0.03 * iod), 0.0, 0.30 * min(1.0, g(12)) * side)
    # AU14: dimpler
    if g(14) > 0:
        for corner, sgn, side in ((48, -1.0, sides[0]), (54, 1.0, sides[1])):
            a = min(1.0, g(14)) * side
            c = p[corner]
            # the dimple crease curving round the tightened corner, the bulge of skin beyond it
            crease = _bezier(c + ex * sgn * 0.05 * iod - dn * 0.06 * iod, c + ex * sgn * 0.11 * iod,
                             c + ex * sgn * 0.05 * iod + dn * 0.07 * iod)
            _stroke(shade, crease, 0.4 * a, lw * 1.4)
            _stroke(light, crease + ex * sgn * 0.05 * iod, 0.14 * a, lw * 1.6)
            _ellipse(shade, c + ex * sgn * 0.02 * iod, (0.035 * iod, 0.03 * iod), 0.0, 0.35 * a)
    # AU15: marionette lines
    if g(15) > 0:
        for corner, sgn in ((48, -1.0), (54, 1.0)):
            c = p[corner]
            _stroke(shade, np.array([c + ex * sgn * 0.02 * iod, c + ex * sgn * 0.06 * iod + dn * 0.16 * iod]), 0.30 * min(1.0, g(15)), lw)
    # AU20: stretch lines beyond the corners
    if g(20) > 0:
        for corner, sgn in ((48, -1.0), (54, 1.0)):
            c = p[corner]
            for dy in (-0.02, 0.03):
                _stroke(shade, np.array([c + ex * sgn * 0.05 * iod + dn * dy * iod, c + ex * sgn * 0.16 * iod + dn * dy * 1.5 * iod]),
                        0.25 * min(1.0, g(20)), 0.8 * lw)
    press = min(1.0, max(g(23), g(24)))
    out = frame
    if press > 0:  # lip press: darker lip line, paler lips, a shadow under the lower lip
        _stroke(shade, np.concatenate([p[_INNER_LIP], p[60:61]]), 0.45 * press, lw)
        under = p[[58, 57, 56]] + dn * 0.08 * iod
        _stroke(shade, under, 0.2 * press, lw * 1.5)
        lips = np.zeros((h, w), np.uint8)
        cv2.fillPoly(lips, [_pts(p[48:60])], 255, cv2.LINE_AA, _SHIFT)
        cheek = p[[1, 2, 3, 31]].mean(0)
        x, y = int(np.clip(round(cheek[0]), 0, w - 1)), int(np.clip(round(cheek[1]), 0, h - 1))
        r = max(1, int(0.05 * iod))
        skin = frame[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].reshape(-1, 3).mean(0)
        m = (lips.astype(np.float32) / 255.0 * 0.35 * press)[..., None]
        out = np.clip(frame.astype(np.float32) * (1 - m) + skin.astype(np.float32) * m + 0.5, 0, 255).astype(np.uint8)
    sigma = max(0.6, 0.03 * iod)
    s = cv2.GaussianBlur(shade, (0, 0), sigma).astype(np.float32) / 255.0
    li = cv2.GaussianBlur(light, (0, 0), sigma).astype(np.float32) / 255.0
    f = out.astype(np.float32)
    f = f * (1.0 - s[..., None]) + (255.0 - f) * li[..., None]
    return np.clip(f + 0.5, 0, 255).astype(np.uint8)
