"""The 68-landmark face graph: links, partition, normalisation, bones."""

from __future__ import annotations

import numpy as np
import pytest

from ferlib.models.face_graph import (
    DEFAULT_EXTRA_LINKS,
    build_graph,
    face_edges,
    face_graph,
    hop_distance,
    normalize_digraph,
    partition_adjacency,
)


@pytest.fixture(scope="module")
def graph():
    return face_graph()


def _linked(graph, i: int, j: int) -> bool:
    return (i, j) in graph.edges or (j, i) in graph.edges


def test_contour_links_spot_checks(graph):
    for i, j in [(0, 1), (7, 8), (15, 16), (17, 18), (20, 21), (22, 23), (27, 28), (29, 30), (31, 32),
                 (34, 35), (30, 33), (36, 37), (44, 45), (48, 49), (60, 61)]:
        assert _linked(graph, i, j), (i, j)
    # loops are closed, chains are not
    for i, j in [(41, 36), (47, 42), (59, 48), (67, 60)]:
        assert _linked(graph, i, j), (i, j)
    for i, j in [(16, 0), (21, 17), (26, 22), (30, 27), (35, 31), (16, 17), (26, 27), (30, 31), (35, 36)]:
        assert not _linked(graph, i, j), (i, j)


def test_edge_count_and_extra_links(graph):
    assert len(graph.edges) == 16 + 4 + 4 + 3 + 4 + 1 + 6 + 6 + 12 + 8 + len(DEFAULT_EXTRA_LINKS) == 73
    assert len(set(map(frozenset, graph.edges))) == 73  # no duplicate links
    for i, j in DEFAULT_EXTRA_LINKS:
        assert _linked(graph, i, j)


def test_connected_only_with_extra_links(graph):
    assert graph.is_connected()
    contours_only = face_graph(extra_links=())
    assert not contours_only.is_connected()
    assert len(contours_only.edges) == 64
    # the 8 contour pieces: jaw, 2 brows, nose, 2 eyes, 2 lips
    dist = hop_distance(68, contours_only.edges)
    pieces = {frozenset(np.flatnonzero(np.isfinite(dist[v])).tolist()) for v in range(68)}
    assert len(pieces) == 8


def test_adjacency_symmetric_with_self_loops(graph):
    support = graph.A.sum(0) > 0
    assert np.array_equal(support, support.T)
    assert support.diagonal().all()
    assert support.sum() == 68 + 2 * 73


def test_partitions_sum_to_normalised_adjacency(graph):
    assert graph.A.shape == (3, 68, 68)
    adj = np.eye(68)
    for i, j in graph.edges:
        adj[i, j] = adj[j, i] = 1
    np.testing.assert_allclose(graph.A.sum(0), normalize_digraph(adj), atol=1e-6)
    np.testing.assert_allclose(graph.A.sum(axis=(0, 1)), np.ones(68), atol=1e-6)  # columns sum to 1
    # subsets are disjoint; subset 0 is the root itself
    assert ((graph.A > 0).sum(0) <= 1).all()
    np.testing.assert_array_equal(graph.A[0] > 0, np.eye(68, dtype=bool))


def test_spatial_subsets_known_answer(graph):
    # node 33 (middle of the lower nose) has neighbours 32, 34, 30 (centre) and 51, plus itself: 1/5 each
    A = graph.A
    col = A[:, :, 33]
    assert col[0, 33] == pytest.approx(0.2)
    assert col[2, 30] == pytest.approx(0.2)  # the centre is closer to the centre than 33
    for v in (32, 34, 51):  # farther from the centre than 33
        assert col[1, v] == pytest.approx(0.2)
    assert np.count_nonzero(col) == 5
    # node 32 (2 hops from the centre): 33 is closer, 31 farther
    assert A[2, 33, 32] > 0 and A[1, 31, 32] > 0
    # the centre has no closer neighbour
    assert not A[2, :, 30].any()


def test_every_node_but_centre_has_a_closer_neighbour(graph):
    closer = graph.A[2].sum(0) > 0
    assert not closer[30] and closer.sum() == 67


def test_truncated_centre_distance_reproduces_official_quirk():
    official = face_graph(centre_distance="truncated")
    # beyond one hop from the centre every node is at "infinity": only nodes within two hops of
    # the centre (30) have a closer-neighbour subset; all others put every neighbour in subset 1
    cols = np.flatnonzero(official.A[2].sum(0) > 0)
    assert cols.tolist() == [28, 29, 32, 33, 34, 51]
    np.testing.assert_allclose(official.A.sum(0), face_graph().A.sum(0), atol=1e-6)


def test_centre_choice_moves_the_partition():
    g = face_graph(center=27)
    assert not g.A[2, :, 27].any() and g.A[2, 27, 28] > 0
    assert g.bones[0][0] == 27


def test_uniform_and_distance_strategies():
    uni = face_graph(strategy="uniform")
    dist = face_graph(strategy="distance")
    assert uni.A.shape == (1, 68, 68) and dist.A.shape == (2, 68, 68)
    np.testing.assert_allclose(uni.A[0], dist.A.sum(0), atol=1e-6)
    assert face_graph(max_hop=2).A.shape == (5, 68, 68)


def test_bones_form_a_spanning_tree(graph):
    bones = graph.bones
    assert len(bones) == 67
    children = [c for _, c in bones]
    assert sorted(children) == sorted(set(range(68)) - {30})
    for p, c in bones:
        assert _linked(graph, p, c)
    parents = graph.parents
    assert parents[30] == 30
    for v in range(68):  # every node reaches the root
        u, steps = v, 0
        while u != 30:
            u, steps = int(parents[u]), steps + 1
            assert steps < 68
    # breadth-first from the nose tip: its two neighbours come first
    assert set(bones[:2]) == {(30, 29), (30, 33)}


def test_bones_of_a_disconnected_graph_root_each_piece():
    g = face_graph(extra_links=())
    roots = [v for v in range(68) if g.parents[v] == v]
    assert roots == [0, 17, 22, 30, 36, 42, 48, 60]  # nose piece rooted at the centre
    assert len(g.bones) == 60


def test_small_custom_graph_known_answer():
    # path 0 - 1 - 2 with centre 1
    A = partition_adjacency(3, [(0, 1), (1, 2)], center=1)
    np.testing.assert_allclose(A[0], np.diag([1 / 2, 1 / 3, 1 / 2]))
    # into node 1 (root at the centre): neighbours 0 and 2 are farther -> subset 1
    np.testing.assert_allclose(A[1][:, 1], [1 / 3, 0, 1 / 3])
    # into node 0: neighbour 1 is closer -> subset 2
    np.testing.assert_allclose(A[2][:, 0], [0, 1 / 2, 0])
    assert build_graph(3, [(0, 1), (1, 2)], center=1).bones == ((1, 0), (1, 2))


def test_bad_graph_arguments():
    with pytest.raises(ValueError, match="centre 68 is not a node index"):
        face_graph(center=68)
    with pytest.raises(ValueError, match=r"edge \(3, 70\) has a node outside"):
        face_graph(extra_links=[(3, 70)])
    with pytest.raises(ValueError, match="links a node to itself"):
        face_graph(extra_links=[(5, 5)])
    with pytest.raises(ValueError, match="unknown partition strategy 'radial'"):
        face_graph(strategy="radial")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown centre_distance"):
        face_graph(centre_distance="euclid")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_hop must be an int >= 1"):
        face_graph(max_hop=0)


def test_face_edges_without_nose_link():
    assert (30, 33) not in face_edges(extra_links=(), nose_link=None)
    assert len(face_edges(extra_links=(), nose_link=None)) == 63
