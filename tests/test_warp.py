"""Piecewise-affine warp on images the tests draw (no fixtures needed)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from ferlib.synth.warp import (
    _warp_per_triangle_cv2,
    border_anchors,
    piecewise_affine_maps,
    piecewise_affine_warp,
)

H = W = 48


def _points(rng: np.random.Generator, n: int = 20) -> np.ndarray:
    """Scattered points well inside the image (like landmarks of a centred face)."""
    return rng.uniform(12, 36, (n, 2))


def _smooth_image(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    return cv2.resize(small, (W, H), interpolation=cv2.INTER_CUBIC)


def _blob_centre(gray: np.ndarray) -> np.ndarray:
    w = gray.astype(np.float64)
    ys, xs = np.mgrid[0 : gray.shape[0], 0 : gray.shape[1]]
    return np.array([(w * xs).sum(), (w * ys).sum()]) / w.sum()


def test_border_anchors_cover_the_corners_and_sides() -> None:
    a = border_anchors(10, 20, per_side=2)
    assert a.shape == (8, 2)
    for corner in ([0, 0], [19, 0], [19, 9], [0, 9]):
        assert any(np.allclose(p, corner) for p in a)
    assert any(np.allclose(p, [9.5, 0]) for p in a)  # middle of the top side
    assert ((a[:, 0] == 0) | (a[:, 0] == 19) | (a[:, 1] == 0) | (a[:, 1] == 9)).all()


def test_same_points_return_the_image() -> None:
    img = _smooth_image()
    pts = _points(np.random.default_rng(1))
    out = piecewise_affine_warp(img, pts, pts)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - img).max() <= 1


def test_maps_send_each_target_point_to_its_source_and_keep_the_border() -> None:
    rng = np.random.default_rng(2)
    dst = np.round(_points(rng))  # integer positions: the map is read there exactly
    dst = np.unique(dst, axis=0)
    src = dst + rng.uniform(-3, 3, dst.shape)
    map_x, map_y = piecewise_affine_maps(src, dst, (H, W))
    xi, yi = dst[:, 0].astype(int), dst[:, 1].astype(int)
    np.testing.assert_allclose(map_x[yi, xi], src[:, 0], atol=1e-3)
    np.testing.assert_allclose(map_y[yi, xi], src[:, 1], atol=1e-3)
    xs = np.arange(W, dtype=np.float32)
    np.testing.assert_allclose(map_x[0], xs, atol=1e-3)  # top row fixed
    np.testing.assert_allclose(map_y[-1], np.full(W, H - 1), atol=1e-3)  # bottom row fixed


def test_a_spot_drawn_at_a_source_point_ends_at_the_target_point() -> None:
    angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
    ring = np.stack([24 + 16 * np.cos(angles), 24 + 16 * np.sin(angles)], 1)
    src = np.concatenate([[[21.0, 22.0]], ring])
    dst = src.copy()
    dst[0] = [27.0, 26.0]  # move the inner point by (6, 4); the ring stays
    img = np.zeros((H, W), np.uint8)
    cv2.circle(img, (21, 22), 1, 255, -1)
    out = piecewise_affine_warp(img, src, dst)
    np.testing.assert_allclose(_blob_centre(img), src[0], atol=0.05)
    # the spot's mass centre moves with the point (up to the local stretch of the triangles around it)
    np.testing.assert_allclose(_blob_centre(out), dst[0], atol=1.0)
    assert np.linalg.norm(_blob_centre(out) - src[0]) > 5.5


def test_agrees_with_a_per_triangle_warp() -> None:
    img = _smooth_image(4)
    rng = np.random.default_rng(4)
    src = _points(rng)
    dst = src + rng.normal(0, 1.5, src.shape)
    ours = piecewise_affine_warp(img, src, dst).astype(int)
    ref = _warp_per_triangle_cv2(img, src, dst).astype(int)
    inner = np.s_[2:-2, 2:-2]
    assert np.abs(ours[inner] - ref[inner]).mean() < 2.0


def test_grayscale_and_float_images_keep_shape_and_dtype() -> None:
    img = _smooth_image()[..., 0].astype(np.float32) / 255
    pts = _points(np.random.default_rng(5))
    out = piecewise_affine_warp(img, pts, pts + 1)
    assert out.shape == (H, W) and out.dtype == np.float32


def test_bad_points_are_refused() -> None:
    img = _smooth_image()
    pts = _points(np.random.default_rng(6))
    with pytest.raises(ValueError, match="same shape"):
        piecewise_affine_warp(img, pts, pts[:-1])
    bad = pts.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        piecewise_affine_warp(img, pts, bad)
    with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, C\)"):
        piecewise_affine_warp(img[None], pts, pts)
