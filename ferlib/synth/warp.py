"""Piecewise-affine image warps driven by facial landmarks.

A warp moves the pixels of an image so that the points ``src`` (here: the 68 landmarks of a
photo) land on the points ``dst`` (the landmarks of the wanted expression), while the image
border stays where it is. The plane is cut into triangles whose corners are the points plus
anchors on the image border (so every pixel lies in a triangle), and each triangle is mapped by
the one affine transform that takes its three ``dst`` corners to their ``src`` corners.

Implementation (chosen for speed): an *inverse map* computed for all pixels at once.
``scipy.spatial.Delaunay`` triangulates the ``dst`` points, ``find_simplex`` locates every output
pixel in its triangle in one vectorised call, the triangle's barycentric coordinates of the pixel
(from ``Delaunay.transform``) weight the triangle's ``src`` corners, and one ``cv2.remap`` samples
the image. :func:`bench_warp` times it against ``skimage.transform.PiecewiseAffineTransform`` +
``skimage.transform.warp`` and against one ``cv2.warpAffine`` per triangle, in one run (it prints
the ratios: faster than both at the sizes the renderers work at). The triangulation is that
of ``dst`` (as scikit-image does for its inverse map); where a ``dst`` triangle's ``src`` triangle is
flipped (extreme deformations) the image is mirrored locally, and where ``src`` corners coincide
(closed lips in a neutral photo) the triangle is filled with the colour of the line between them —
:mod:`ferlib.synth.photo` paints the opened mouth over it.

Coordinates are pixel ``(x, y)`` with integer values at pixel centres (as dlib and OpenCV use).
"""

from __future__ import annotations

import time

import cv2
import numpy as np
from scipy.spatial import Delaunay

__all__ = ["border_anchors", "piecewise_affine_maps", "piecewise_affine_warp", "bench_warp"]


def border_anchors(height: int, width: int, per_side: int = 4) -> np.ndarray:
    """Fixed anchor points on the image border: the 4 corners and ``per_side - 1`` points inside each side.

    Returns ``(4 * per_side, 2)`` float64 ``(x, y)``. ``per_side=1`` gives the corners only.
    """
    if per_side < 1:
        raise ValueError(f"per_side must be >= 1, got {per_side}")
    if height < 2 or width < 2:
        raise ValueError(f"image must be at least 2x2 pixels to anchor its border, got {height}x{width}")
    xs = np.linspace(0.0, width - 1.0, per_side + 1)
    ys = np.linspace(0.0, height - 1.0, per_side + 1)
    top = np.stack([xs[:-1], np.zeros(per_side)], 1)
    right = np.stack([np.full(per_side, width - 1.0), ys[:-1]], 1)
    bottom = np.stack([xs[::-1][:-1], np.full(per_side, height - 1.0)], 1)
    left = np.stack([np.zeros(per_side), ys[::-1][:-1]], 1)
    return np.concatenate([top, right, bottom, left])


def _check_points(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.ndim != 2 or src.shape[1] != 2 or src.shape != dst.shape:
        raise ValueError(f"src and dst must both be (K, 2) point arrays of the same shape, got {src.shape} and {dst.shape}")
    if not (np.isfinite(src).all() and np.isfinite(dst).all()):
        raise ValueError("src and dst points must be finite (got NaN or inf)")
    return src, dst


def piecewise_affine_maps(
    src: np.ndarray,
    dst: np.ndarray,
    shape: tuple[int, int],
    anchors_per_side: int = 4,
    out_transform: np.ndarray | None = None,
    out_shape: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse maps ``(map_x, map_y)`` for ``cv2.remap``: output pixel ``(x, y)`` samples the input at ``(map_x, map_y)``.

    ``src``, ``dst``: ``(K, 2)`` points; the warp carries ``src[k]`` to ``dst[k]``. ``shape``: the
    ``(height, width)`` of the input, whose border anchors (see :func:`border_anchors`) are added to
    both point sets and stay fixed. Returns two float32 arrays of the output's shape.

    Inside each triangle ``(d0, d1, d2)`` of the Delaunay triangulation of the ``dst`` points, the
    pixel ``p = b0 d0 + b1 d1 + b2 d2`` (barycentric ``b``, ``sum b = 1``) maps to
    ``b0 s0 + b1 s1 + b2 s2``: the affine transform fixed by the three corner pairs. A pixel outside
    every triangle (only possible when points leave the image) keeps its own position.

    ``out_transform`` ``(2, 3)`` (optional): an affine from the input/``dst`` frame to the output's
    pixels (a crop), so that warp and crop take one resampling: output pixel ``q`` of an output of
    ``out_shape`` (default ``shape``) is first carried back to ``p = out_transform⁻¹ q``.
    """
    src, dst = _check_points(src, dst)
    h, w = int(shape[0]), int(shape[1])
    oh, ow = (h, w) if out_shape is None else (int(out_shape[0]), int(out_shape[1]))
    anchors = border_anchors(h, w, anchors_per_side)
    pts_src = np.concatenate([src, anchors])
    pts_dst = np.concatenate([dst, anchors])
    tri = Delaunay(pts_dst)
    # Per triangle, the affine map dst -> src written as  q = L p + c  (eq. of the barycentric form:
    # q = s2 + [s0 - s2, s1 - s2] T (p - r), with Delaunay.transform = (T, r)).
    t_inv, origin = tri.transform[:, :2], tri.transform[:, 2]  # (n, 2, 2), (n, 2)
    corners = pts_src[tri.simplices]  # (n, 3, 2)
    edges = np.stack([corners[:, 0] - corners[:, 2], corners[:, 1] - corners[:, 2]], 2)  # (n, 2, 2) columns
    lin = edges @ t_inv  # (n, 2, 2)
    off = corners[:, 2] - np.einsum("nij,nj->ni", lin, origin)  # (n, 2)
    coef = np.concatenate([lin.reshape(-1, 4), off], 1)  # (n, 6): Lxx Lxy Lyx Lyy cx cy
    identity = np.array([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
    coef[~np.isfinite(coef).all(1)] = identity  # a degenerate (zero-area) dst triangle covers no pixel centre
    coef = np.concatenate([coef, identity[None]]).astype(np.float32)  # row -1: identity
    ys, xs = np.mgrid[0:oh, 0:ow].astype(np.float32)
    if out_transform is not None:
        a = np.vstack([np.asarray(out_transform, dtype=np.float64)[:2], [0.0, 0.0, 1.0]])
        inv = np.linalg.inv(a)[:2].astype(np.float32)
        xs, ys = inv[0, 0] * xs + inv[0, 1] * ys + inv[0, 2], inv[1, 0] * xs + inv[1, 1] * ys + inv[1, 2]
    simplex = tri.find_simplex(np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64))
    c = coef[simplex].reshape(oh, ow, 6)  # simplex -1 (outside every triangle) picks the identity row
    map_x = c[..., 0] * xs + c[..., 1] * ys + c[..., 4]
    map_y = c[..., 2] * xs + c[..., 3] * ys + c[..., 5]
    return map_x, map_y


def piecewise_affine_warp(
    image: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    anchors_per_side: int = 4,
    interpolation: int = cv2.INTER_LINEAR,
    border_mode: int = cv2.BORDER_REPLICATE,
    out_transform: np.ndarray | None = None,
    out_size: tuple[int, int] | None = None,
) -> np.ndarray:
    """Warp ``image`` ``(H, W)`` or ``(H, W, C)`` so that the points ``src`` ``(K, 2)`` move to ``dst`` ``(K, 2)``.

    The output has the input's shape and dtype (or ``out_size`` = ``(height, width)`` with
    ``out_transform``, the crop of the warped image that affine takes to the output: see
    :func:`piecewise_affine_maps`); the image border is fixed. ``interpolation`` and
    ``border_mode`` are OpenCV's flags for ``cv2.remap``.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (H, W, C), got shape {image.shape}")
    map_x, map_y = piecewise_affine_maps(src, dst, image.shape[:2], anchors_per_side, out_transform, out_size)
    out = cv2.remap(np.ascontiguousarray(image), map_x, map_y, interpolation, borderMode=border_mode)
    return out.reshape(map_x.shape + image.shape[2:])


# -- benchmark: the two textbook alternatives, for the record ------------------------------------
def _warp_per_triangle_cv2(image: np.ndarray, src: np.ndarray, dst: np.ndarray, anchors_per_side: int = 4) -> np.ndarray:
    """Reference: one ``cv2.warpAffine`` per triangle on its bounding box, pasted through a mask."""
    h, w = image.shape[:2]
    anchors = border_anchors(h, w, anchors_per_side)
    pts_src = np.concatenate([src, anchors]).astype(np.float32)
    pts_dst = np.concatenate([dst, anchors]).astype(np.float32)
    out = image.copy()
    for simplex in Delaunay(pts_dst).simplices:
        d, s = pts_dst[simplex], pts_src[simplex]
        x0, y0 = np.floor(d.min(0)).astype(int)
        x1, y1 = np.ceil(d.max(0)).astype(int) + 1
        x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
        if x1 <= x0 or y1 <= y0:
            continue
        m = cv2.getAffineTransform(s, d - np.float32([x0, y0]))
        patch = cv2.warpAffine(image, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillConvexPoly(mask, np.round(d - [x0, y0]).astype(np.int32), 1)
        out[y0:y1, x0:x1][mask > 0] = patch[mask > 0]
    return out


def bench_warp(side: int = 256, repeats: int = 5, seed: int = 0) -> dict[str, float]:
    """Seconds per warp of a ``side`` x ``side`` RGB image with 68 jittered points, for the three methods.

    Returns ``{"remap": s, "cv2_per_triangle": s, "skimage": s}`` measured in one run; compare ratios only.
    """
    from skimage.transform import PiecewiseAffineTransform, warp

    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
    src = rng.uniform(0.2, 0.8, (68, 2)) * (side - 1)
    dst = src + rng.normal(0, 0.01 * side, src.shape)
    anchors = border_anchors(side, side)

    def _skimage() -> np.ndarray:
        pair = (np.concatenate([dst, anchors]), np.concatenate([src, anchors]))  # output -> input map
        if hasattr(PiecewiseAffineTransform, "from_estimate"):
            t = PiecewiseAffineTransform.from_estimate(*pair)
        else:
            t = PiecewiseAffineTransform()
            t.estimate(*pair)
        return warp(image, t, preserve_range=True).astype(np.uint8)

    runs = {
        "remap": lambda: piecewise_affine_warp(image, src, dst),
        "cv2_per_triangle": lambda: _warp_per_triangle_cv2(image, src, dst),
        "skimage": _skimage,
    }
    out = {}
    for name, fn in runs.items():
        fn()
        t0 = time.perf_counter()
        for _ in range(repeats):
            fn()
        out[name] = (time.perf_counter() - t0) / repeats
    return out
