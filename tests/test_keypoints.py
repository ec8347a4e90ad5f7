"""The 18 key-points, their Gaussian heat-maps, regions and graph."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from ferlib.data.landmarks68 import FLIP_INDEX, MEAN_SHAPE
from ferlib.preprocess.keypoints import (
    CHEEK_TRIANGLES,
    KEYPOINT_EDGES,
    KEYPOINT_LANDMARKS,
    KEYPOINT_NAMES,
    NOSE_BRIDGE,
    NUM_KEYPOINTS,
    REGIONS,
    gaussian_heatmaps,
    keypoint_adjacency,
    region_matrix,
    select_keypoints,
)

#: key-point index → index of its mirror image (left ↔ right); midline points map to themselves
MIRROR = {**{k: k + 5 for k in range(5)}, **{k + 5: k for k in range(5)}, 10: 10, 11: 11, 12: 13, 13: 12, 14: 14, 15: 15, 16: 17, 17: 16}


def face_shape() -> np.ndarray:
    """The package's frontal mean face (mirror-symmetric), scaled to pixels around (64, 64)."""
    return MEAN_SHAPE.astype(np.float64) * 50.0 + 64.0


def test_constants_are_consistent() -> None:
    assert len(KEYPOINT_LANDMARKS) == 16 and len(set(KEYPOINT_LANDMARKS)) == 16
    assert len(CHEEK_TRIANGLES) == 2 and NUM_KEYPOINTS == 18 == len(KEYPOINT_NAMES)
    sizes = {name: len(members) for name, members in REGIONS.items()}
    assert sizes == {"upper_left": 5, "upper_right": 5, "lower": 6}
    members = [i for group in REGIONS.values() for i in group]
    assert len(set(members)) == 16 and not set(members) & set(NOSE_BRIDGE)
    assert sorted(members + list(NOSE_BRIDGE)) == list(range(18))


def test_selected_rows_are_the_chosen_landmarks_and_cheeks_are_centroids() -> None:
    idx = np.arange(68, dtype=np.float64)
    landmarks = np.stack((idx, 1000 + idx * idx), axis=-1)  # every landmark distinguishable
    kp = select_keypoints(landmarks)
    assert kp.shape == (18, 2)
    np.testing.assert_array_equal(kp[:16, 0], KEYPOINT_LANDMARKS)
    for row, tri in zip((16, 17), CHEEK_TRIANGLES):
        np.testing.assert_allclose(kp[row], landmarks[list(tri)].mean(axis=0))
    # hand-computed: left cheek = centroid of landmarks 2, 41, 31
    np.testing.assert_allclose(kp[16], [(2 + 41 + 31) / 3, 1000 + (4 + 1681 + 961) / 3])


def test_torch_and_numpy_agree_with_batch_dims_and_gradients() -> None:
    rng = np.random.default_rng(0)
    landmarks = rng.uniform(0, 100, size=(2, 3, 68, 2)).astype(np.float32)
    out_np = select_keypoints(landmarks)
    lm_t = torch.from_numpy(landmarks).requires_grad_(True)
    out_t = select_keypoints(lm_t)
    assert isinstance(out_t, torch.Tensor) and out_t.shape == (2, 3, 18, 2) and out_np.dtype == np.float32
    np.testing.assert_allclose(out_t.detach().numpy(), out_np, rtol=1e-6)
    out_t.sum().backward()
    # each chosen landmark gets gradient 1, each triangle vertex 1/3, the others 0
    grad = lm_t.grad[0, 0, :, 0]
    assert grad[17] == 1 and math.isclose(float(grad[2]), 1 / 3, rel_tol=1e-6) and grad[0] == 0


def test_keypoints_fall_on_the_intended_face_parts() -> None:
    face = face_shape()
    kp = select_keypoints(face)
    names = dict(zip(KEYPOINT_NAMES, kp))
    mid_x = face[27, 0]
    for k in REGIONS["upper_left"]:
        assert kp[k, 0] < mid_x
    for k in REGIONS["upper_right"]:
        assert kp[k, 0] > mid_x
    np.testing.assert_allclose(kp[list(NOSE_BRIDGE), 0], mid_x)  # both on the nose bridge
    brows_y = kp[[0, 1, 2, 5, 6, 7], 1]
    eyes_y = kp[[3, 4, 8, 9], 1]
    assert brows_y.max() < eyes_y.min()  # brows above eyes
    mouth_y = kp[12:16, 1]
    assert mouth_y.min() > names["nose_tip"][1]  # mouth below the nose tip
    for cheek, eye_outer, mouth_corner, nostril, jaw in ((16, 3, 12, 31, 2), (17, 8, 13, 35, 14)):
        # a cheek lies below its eye, above its mouth corner, between nostril wing and jaw
        assert kp[eye_outer, 1] < kp[cheek, 1] < kp[mouth_corner, 1]
        lo, hi = sorted((face[nostril, 0], face[jaw, 0]))
        assert lo < kp[cheek, 0] < hi


def test_left_and_right_keypoints_mirror_each_other() -> None:
    kp = select_keypoints(face_shape()) - 64.0
    for k, m in MIRROR.items():
        np.testing.assert_allclose(kp[k], kp[m] * [-1, 1], atol=1e-4, err_msg=f"{KEYPOINT_NAMES[k]}")


def test_keypoints_follow_the_package_horizontal_flip() -> None:
    # flipping a frame mirrors x and re-indexes landmarks with FLIP_INDEX; the key-points must
    # then be the mirrored key-points of the original, left and right swapped (any face shape)
    landmarks = np.random.default_rng(1).uniform(0, 100, size=(68, 2))
    width = 128
    flipped = landmarks[FLIP_INDEX].copy()
    flipped[:, 0] = width - 1 - flipped[:, 0]
    expected = select_keypoints(landmarks)[[MIRROR[k] for k in range(18)]]
    expected[:, 0] = width - 1 - expected[:, 0]
    np.testing.assert_allclose(select_keypoints(flipped), expected)


def test_select_rejects_wrong_shapes_and_indices() -> None:
    with pytest.raises(ValueError, match=r"\(\.\.\., 68, 2\)"):
        select_keypoints(np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"\[0, 68\)"):
        select_keypoints(np.zeros((68, 2)), indices=(3, 70))
    with pytest.raises(ValueError, match="3 landmark indices"):
        select_keypoints(np.zeros((68, 2)), triangles=((1, 2),))


def test_heatmaps_peak_at_their_keypoints() -> None:
    gen = torch.Generator().manual_seed(0)
    kp = torch.rand(2, 4, 18, 2, generator=gen) * torch.tensor([63.0, 47.0])  # x < 64, y < 48
    heat = gaussian_heatmaps(kp, size=(6, 8), image_size=(48, 64), sigma=1.0)
    assert heat.shape == (2, 4, 18, 6, 8)
    flat = heat.flatten(-2).argmax(dim=-1)
    row, col = flat // 8, flat % 8
    # the peak is the cell containing the key-point: 8 pixels per cell on both axes, pixel x
    # spanning [x - 0.5, x + 0.5] (pixel centres at integers)
    assert torch.equal(col, ((kp[..., 0] + 0.5) // 8).long())
    assert torch.equal(row, ((kp[..., 1] + 0.5) // 8).long())


def test_heatmap_known_values() -> None:
    # pixel (19.5, 11.5) is the centre of cell (row 1, col 2) of an 8-pixel grid → value 1 there
    heat = gaussian_heatmaps(torch.tensor([[19.5, 11.5]]), size=(4, 4), image_size=(32, 32), sigma=2.0)
    assert heat.shape == (1, 4, 4)
    assert heat[0, 1, 2] == pytest.approx(1.0)
    assert heat[0, 1, 3] == pytest.approx(math.exp(-1 / 8))  # one cell away, σ = 2
    assert heat[0, 3, 0] == pytest.approx(math.exp(-(4 + 4) / 8))
    # at full resolution σ is in pixels and the peak is the key-point's own pixel
    full = gaussian_heatmaps(np.array([[5.0, 2.0]]), size=(4, 8), image_size=(4, 8), sigma=0.5)
    assert full[0, 2, 5] == pytest.approx(1.0) and full[0].sum() < 2.0


def test_heatmap_errors() -> None:
    with pytest.raises(ValueError, match="sigma"):
        gaussian_heatmaps(torch.zeros(18, 2), (4, 4), (32, 32), sigma=0.0)
    with pytest.raises(ValueError, match=r"\(\.\.\., K, 2\)"):
        gaussian_heatmaps(torch.zeros(18, 3), (4, 4), (32, 32))
    with pytest.raises(ValueError, match="positive"):
        gaussian_heatmaps(torch.zeros(18, 2), (0, 4), (32, 32))


def test_adjacency_is_a_connected_symmetric_graph() -> None:
    raw = keypoint_adjacency(normalize="none")
    assert raw.shape == (18, 18)
    assert torch.equal(raw, raw.T) and torch.all(raw.diagonal() == 0)
    assert int(raw.sum()) == 2 * len(KEYPOINT_EDGES)
    reach = torch.linalg.matrix_power(raw + torch.eye(18), 17)
    assert torch.all(reach > 0), "every key-point reaches every other one"
    row = keypoint_adjacency()
    torch.testing.assert_close(row.sum(dim=1), torch.ones(18))
    sym = keypoint_adjacency(normalize="sym")
    torch.testing.assert_close(sym, sym.T)
    deg = raw.sum(1)
    assert sym[0, 1] == pytest.approx(1 / math.sqrt(deg[0] * deg[1]))
    loops = keypoint_adjacency(self_loops=True, normalize="none")
    assert torch.all(loops.diagonal() == 1)


def test_adjacency_errors_and_isolated_nodes() -> None:
    with pytest.raises(ValueError, match="outside"):
        keypoint_adjacency(3, edges=[(0, 3)])
    with pytest.raises(ValueError, match="self-loop"):
        keypoint_adjacency(3, edges=[(1, 1)])
    with pytest.raises(ValueError, match="normalize"):
        keypoint_adjacency(normalize="col")
    adj = keypoint_adjacency(3, edges=[(0, 1)])
    assert torch.equal(adj[2], torch.zeros(3))


def test_region_matrix_averages_members() -> None:
    mat = region_matrix(((0, 1), (2,)), num_nodes=3)
    x = torch.tensor([[2.0], [4.0], [7.0]])
    assert torch.equal(mat @ x, torch.tensor([[3.0], [7.0]]))
    default = region_matrix()
    assert default.shape == (3, 18)
    torch.testing.assert_close(default.sum(dim=1), torch.ones(3))
    assert torch.all(default[:, list(NOSE_BRIDGE)] == 0)
    with pytest.raises(ValueError, match="outside"):
        region_matrix(((0, 19),))
