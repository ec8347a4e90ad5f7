"""The 18 facial key-points of KP-GCN-MSA (KP-GCN-MSA paper, Sec. 3.1.1, 3.1.3), their heat-maps and graph.

The paper selects 16 of the 68 iBUG landmarks "representing eyebrows, eyes, mouth and nose" and
adds 2 cheek points, each the centroid of "a fixed three surrounding points" triangle; its figure
(not in the text) shows which. For fusion (Sec. 3.2) the key-points fall into an upper-left
region (5), an upper-right region (5), a lower region of "some cheeks and the whole mouth" (6)
and 2 points on the nose bridge that no region uses. ferlib's choice, consistent with those
counts (landmark indices are 0-based iBUG; "left"/"right" are image sides, so the image-left
brow is iBUG 17–21, the subject's right brow)::

    idx  name                 landmark(s)     region
    0    left_brow_outer      17              upper_left
    1    left_brow_mid        19              upper_left
    2    left_brow_inner      21              upper_left
    3    left_eye_outer       36              upper_left
    4    left_eye_inner       39              upper_left
    5    right_brow_outer     26              upper_right
    6    right_brow_mid       24              upper_right
    7    right_brow_inner     22              upper_right
    8    right_eye_outer      45              upper_right
    9    right_eye_inner      42              upper_right
    10   nose_bridge_top      27              (none)
    11   nose_tip             30              (none)
    12   mouth_left           48              lower
    13   mouth_right          54              lower
    14   upper_lip_top        51              lower
    15   lower_lip_bottom     57              lower
    16   left_cheek           centroid(2, 41, 31)   lower
    17   right_cheek          centroid(14, 46, 35)  lower

Why these: brows get three points (outer, middle, inner: AU1/AU2/AU4 move them differently),
eyes their two corners (two Gaussians that together cover the eye at feature-map resolution),
the mouth its four extreme points, the nose bridge its two ends. Each cheek triangle joins a jaw
point at nostril height, the outer lower eyelid and the nostril wing, so its centroid sits on the
cheek prominence that AU6 (cheek raiser) lifts. Right-side points mirror left-side ones index by
index (k ↔ k + 5; 12 ↔ 13; 16 ↔ 17). Everything is a module constant and a function argument.

Coordinates are pixel ``(x, y)`` of the frame, pixel centres at integers (as dlib gives them).
:func:`gaussian_heatmaps` maps them onto an ``h × w`` grid (e.g. the CNN feature map) with the
``align_corners=False`` convention: grid coordinate ``u = (x + 0.5) · w / W − 0.5``.

This module depends on numpy and torch only (no models), so figures can use it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import torch

NUM_LANDMARKS = 68

#: the 16 iBUG-68 landmarks kept as key-points 0–15 (order as in the module docstring)
KEYPOINT_LANDMARKS: tuple[int, ...] = (17, 19, 21, 36, 39, 26, 24, 22, 45, 42, 27, 30, 48, 54, 51, 57)

#: landmark triangles whose centroids are key-points 16 (left cheek) and 17 (right cheek)
CHEEK_TRIANGLES: tuple[tuple[int, int, int], ...] = ((2, 41, 31), (14, 46, 35))

KEYPOINT_NAMES: tuple[str, ...] = (
    "left_brow_outer", "left_brow_mid", "left_brow_inner", "left_eye_outer", "left_eye_inner",
    "right_brow_outer", "right_brow_mid", "right_brow_inner", "right_eye_outer", "right_eye_inner",
    "nose_bridge_top", "nose_tip",
    "mouth_left", "mouth_right", "upper_lip_top", "lower_lip_bottom",
    "left_cheek", "right_cheek",
)  # fmt: skip

NUM_KEYPOINTS = len(KEYPOINT_LANDMARKS) + len(CHEEK_TRIANGLES)

#: fusion regions (paper Sec. 3.2, Fig. 4): key-point indices averaged per region, in this order
REGIONS: dict[str, tuple[int, ...]] = {
    "upper_left": (0, 1, 2, 3, 4),
    "upper_right": (5, 6, 7, 8, 9),
    "lower": (12, 13, 14, 15, 16, 17),
}

#: the two nose-bridge key-points, left out of every region
NOSE_BRIDGE: tuple[int, ...] = (10, 11)

#: undirected edges of the 18-node key-point graph (paper Fig. 2 right is not in the text).
#: Chains along each facial part, plus links between neighbouring parts: brow–eye (outer and
#: inner ends), inner brows and inner eye corners to the top of the nose bridge, bridge to tip,
#: tip to the upper lip, the mouth as a loop, each cheek to its outer eye corner, the nose tip
#: and its mouth corner.
KEYPOINT_EDGES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (3, 4), (0, 3), (2, 4),          # left brow chain, left eye, brow–eye
    (5, 6), (6, 7), (8, 9), (5, 8), (7, 9),          # right brow chain, right eye, brow–eye
    (2, 10), (7, 10), (4, 10), (9, 10), (10, 11),    # inner brows / eyes → bridge top → tip
    (11, 14), (12, 14), (14, 13), (13, 15), (15, 12),  # tip → upper lip; mouth loop
    (16, 3), (16, 11), (16, 12),                     # left cheek
    (17, 8), (17, 11), (17, 13),                     # right cheek
)  # fmt: skip

ArrayT = TypeVar("ArrayT", np.ndarray, torch.Tensor)


def _check_landmarks(landmarks: np.ndarray | torch.Tensor) -> None:
    if landmarks.ndim < 2 or tuple(landmarks.shape[-2:]) != (NUM_LANDMARKS, 2):
        raise ValueError(
            f"expected landmarks of shape (..., {NUM_LANDMARKS}, 2) (iBUG 68 points, pixel x/y), "
            f"got {tuple(landmarks.shape)}"
        )


def _check_indices(indices: Sequence[int], triangles: Sequence[Sequence[int]]) -> None:
    flat = list(indices) + [i for tri in triangles for i in tri]
    bad = [i for i in flat if not 0 <= int(i) < NUM_LANDMARKS]
    if bad:
        raise ValueError(f"landmark indices must lie in [0, {NUM_LANDMARKS}), got {bad}")
    if any(len(tri) != 3 for tri in triangles):
        raise ValueError(f"each cheek triangle needs 3 landmark indices, got {list(map(list, triangles))}")


def select_keypoints(
    landmarks: ArrayT,
    indices: Sequence[int] = KEYPOINT_LANDMARKS,
    triangles: Sequence[Sequence[int]] = CHEEK_TRIANGLES,
) -> ArrayT:
    """18 key-points from 68 landmarks: ``(..., 68, 2)`` → ``(..., len(indices) + len(triangles), 2)``.

    The first ``len(indices)`` rows copy the chosen landmarks, the next ones are the centroids
    (centres of gravity) of the ``triangles``. Accepts numpy arrays and torch tensors and returns
    the same type (torch keeps autograd, device and dtype)."""
    _check_landmarks(landmarks)
    _check_indices(indices, triangles)
    idx = list(indices)
    tri = np.asarray(triangles, dtype=np.int64).reshape(-1, 3)
    if isinstance(landmarks, torch.Tensor):
        chosen = landmarks[..., idx, :]
        cheeks = landmarks[..., torch.as_tensor(tri, device=landmarks.device), :].mean(dim=-2)
        return torch.cat((chosen, cheeks), dim=-2)
    arr = np.asarray(landmarks)
    chosen = arr[..., idx, :]
    cheeks = arr[..., tri, :].mean(axis=-2)
    return np.concatenate((chosen, cheeks.astype(chosen.dtype, copy=False)), axis=-2)


def to_grid(coords: torch.Tensor, size: tuple[int, int], image_size: tuple[int, int]) -> torch.Tensor:
    """Pixel ``(x, y)`` of an ``image_size = (H, W)`` image → continuous ``(u, v)`` on an
    ``size = (h, w)`` grid whose cell ``(i, j)`` has centre ``(u, v) = (j, i)``."""
    (h, w), (img_h, img_w) = size, image_size
    scale = coords.new_tensor([w / img_w, h / img_h])
    return (coords + 0.5) * scale - 0.5


def gaussian_heatmaps(
    keypoints: torch.Tensor | np.ndarray,
    size: tuple[int, int],
    image_size: tuple[int, int],
    sigma: float = 1.0,
) -> torch.Tensor:
    """Gaussian attention maps Aʲ of paper eq. 2: ``(..., K, 2)`` pixel key-points → ``(..., K, h, w)``.

    ``A[..., j, i, k] = exp(-((k - u_j)² + (i - v_j)²) / (2 σ²))`` where ``(u_j, v_j)`` is key-point
    j mapped onto the ``size = (h, w)`` grid from an image of ``image_size = (H, W)`` pixels (see
    :func:`to_grid`). The peak value is 1, at the key-point (the maps are not normalised to sum 1;
    the paper pools ``F ⊙ Aʲ`` by global average pooling). ``sigma`` is in grid cells (in pixels
    when ``size == image_size``). Computed separably over x and y, without loops.
    """
    if len(size) != 2 or len(image_size) != 2 or min(*size, *image_size) <= 0:
        raise ValueError(f"size and image_size must be positive (h, w) pairs, got {size} and {image_size}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0 (in grid cells), got {sigma!r}")
    kp = torch.as_tensor(keypoints)
    if not kp.is_floating_point():
        kp = kp.float()
    if kp.ndim < 2 or kp.shape[-1] != 2:
        raise ValueError(f"expected key-points of shape (..., K, 2) in pixel x/y, got {tuple(kp.shape)}")
    h, w = int(size[0]), int(size[1])
    uv = to_grid(kp, (h, w), (int(image_size[0]), int(image_size[1])))
    xs = torch.arange(w, device=kp.device, dtype=kp.dtype)
    ys = torch.arange(h, device=kp.device, dtype=kp.dtype)
    gx = torch.exp(-((xs - uv[..., 0:1]) ** 2) / (2 * sigma**2))  # (..., K, w)
    gy = torch.exp(-((ys - uv[..., 1:2]) ** 2) / (2 * sigma**2))  # (..., K, h)
    return gy.unsqueeze(-1) * gx.unsqueeze(-2)


def keypoint_adjacency(
    num_nodes: int = NUM_KEYPOINTS,
    edges: Sequence[tuple[int, int]] = KEYPOINT_EDGES,
    self_loops: bool = False,
    normalize: str = "row",
) -> torch.Tensor:
    """Adjacency ``A`` ``(K, K)`` of the key-point graph (paper eq. 3) as a float tensor.

    Edges are undirected. ``normalize``: ``"row"`` divides each row by its degree (``D⁻¹A``: a
    node receives the mean of its neighbours), ``"sym"`` gives ``D^-½ A D^-½``, ``"none"`` keeps
    0/1. No self-loops by default, since eq. 3 adds each node's own vector through its residual
    term. Isolated nodes keep an all-zero row."""
    if normalize not in ("row", "sym", "none"):
        raise ValueError(f"normalize must be 'row', 'sym' or 'none', got {normalize!r}")
    adj = torch.zeros(num_nodes, num_nodes)
    for i, j in edges:
        if not (0 <= i < num_nodes and 0 <= j < num_nodes):
            raise ValueError(f"edge ({i}, {j}) is outside a {num_nodes}-node graph")
        if i == j:
            raise ValueError(f"edge ({i}, {j}) is a self-loop; use self_loops=True instead")
        adj[i, j] = adj[j, i] = 1.0
    if self_loops:
        adj += torch.eye(num_nodes)
    deg = adj.sum(dim=1)
    inv = torch.where(deg > 0, 1.0 / deg.clamp(min=1e-12), torch.zeros_like(deg))
    if normalize == "row":
        adj = adj * inv[:, None]
    elif normalize == "sym":
        adj = adj * inv.sqrt()[:, None] * inv.sqrt()[None, :]
    return adj


def region_matrix(
    regions: Sequence[Sequence[int]] = tuple(REGIONS.values()),
    num_nodes: int = NUM_KEYPOINTS,
) -> torch.Tensor:
    """Averaging matrix ``M`` ``(R, K)``: ``M @ X`` gives each region's mean of node vectors X ``(K, D)``."""
    mat = torch.zeros(len(regions), num_nodes)
    for r, members in enumerate(regions):
        if len(members) == 0:
            raise ValueError(f"region {r} has no key-points")
        bad = [i for i in members if not 0 <= i < num_nodes]
        if bad:
            raise ValueError(f"region {r} names key-points {bad} outside [0, {num_nodes})")
        unique = sorted(set(members))
        mat[r, unique] = 1.0 / len(unique)
    return mat
