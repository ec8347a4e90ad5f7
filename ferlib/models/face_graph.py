"""Graph layouts for skeleton-style GCNs over landmarks, and the 68-point face graph.

Everything a spatial-temporal GCN needs to know about its graph lives here: the neighbour
links, the partitioned and normalised adjacency ``A`` of shape ``(K, V, V)``, the centre node
and the ``bones`` (parent → child pairs of a spanning tree) that the bone stream uses.

The face graph (:func:`face_graph`, ``V = 68``, iBUG / dlib order, see
:mod:`ferlib.data.landmarks68`) links landmarks along the face's natural contours:

* jaw 0–16 (open chain), brows 17–21 and 22–26 (chains), nose bridge 27–30 (chain), lower nose
  31–35 (chain), joined by the nose tip to the base of the nose, ``30–33`` (``nose_link``);
* eyes 36–41 and 42–47, outer lip 48–59 and inner lip 60–67: closed loops.

These contours alone form 8 separate pieces. So that information can flow between regions in
one layer, :data:`DEFAULT_EXTRA_LINKS` adds 9 anatomical links that make the graph connected
(pass ``extra_links=()`` to keep the pieces apart): inner brow ends to the nose root
(21–27, 22–27), inner eye corners to the nose root (39–27, 42–27), base of the nose to the
top of the upper lip (33–51), mouth corners outer to inner lip (48–60, 54–64) and the top of
the jaw to the outer brow ends (0–17, 16–26). 64 contour links + 9 = 73 links.

Partitioning follows the official ST-GCN code (Yan et al. 2018; yysijie/st-gcn), with the
adjacency convention ``A[k, v, w]``: input node ``v`` feeds output (root) node ``w``, as in
``einsum("nkctv,kvw->nctw")``.

* ``"uniform"``: K = 1, the normalised adjacency (self-loops included).
* ``"distance"``: K = max_hop + 1, one subset per hop distance (0 = the root itself).
* ``"spatial"`` (default, K = 3 for max_hop = 1): subset 0 = the root itself; subset 1 = its
  neighbours at least as far from the centre node as the root (the paper's centrifugal group,
  which the official code lists second); subset 2 = its neighbours closer to the centre
  (centripetal). Distances to the centre are hop counts in the graph.

Normalisation is ``A·D⁻¹`` on the whole adjacency (self-loops included) *before* splitting, so
the subsets sum back to the normalised adjacency and every column sums to 1: each output node
takes a degree-normalised sum over its neighbourhood (ST-GCN eq. 10, with Λ the column degrees).

Choices (each a parameter):

* ``center = 30`` (the nose tip): ST-GCN uses a body joint near the gravity centre; the nose tip
  is the landmark closest to the face's centroid that is stable under expressions (the centroid
  itself is not a node).
* ``centre_distance = "graph"``: hop distances to the centre are computed over the whole graph,
  as the ST-GCN paper describes. The official code compares distances truncated at ``max_hop``
  (beyond it every node is at ``inf``), so neighbours of nodes far from the centre all land in
  subset 1 and subset 2 is non-empty only next to the centre (reported upstream as open-mmlab/
  mmskeleton#367). ``centre_distance = "truncated"`` reproduces that behaviour exactly.
* bones: a breadth-first spanning tree from the centre over the same links (neighbours visited
  in increasing index); pieces not reachable from the centre get their lowest-index node as
  their own root. Roots have no bone: their bone vector is zero (pyskl's convention).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal, Sequence

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import breadth_first_order, connected_components, shortest_path

from ferlib.data.landmarks68 import REGIONS

Edge = tuple[int, int]
Strategy = Literal["uniform", "distance", "spatial"]
CentreDistance = Literal["graph", "truncated"]

NUM_LANDMARKS = 68
STRATEGIES: tuple[str, ...] = ("uniform", "distance", "spatial")
CENTRE_DISTANCES: tuple[str, ...] = ("graph", "truncated")

#: iBUG regions drawn as contours: region name -> closed loop?
FACE_CONTOURS: dict[str, bool] = {
    "jaw": False,
    "right_brow": False,
    "left_brow": False,
    "nose_bridge": False,
    "nose_lower": False,
    "right_eye": True,
    "left_eye": True,
    "outer_lip": True,
    "inner_lip": True,
}

#: the nose tip, centre of the face graph's spatial partition and root of its bones
FACE_CENTER = 30

#: link between the nose bridge (tip, 30) and the lower nose (its middle, 33)
NOSE_LINK: Edge = (30, 33)

#: anatomical links that join the 8 contour pieces into one connected graph (see module doc)
DEFAULT_EXTRA_LINKS: tuple[Edge, ...] = (
    (21, 27), (22, 27),  # inner brow ends - nose root
    (39, 27), (42, 27),  # inner eye corners - nose root
    (33, 51),  # base of the nose - top of the upper lip
    (48, 60), (54, 64),  # mouth corners: outer - inner lip
    (0, 17), (16, 26),  # top of the jaw - outer brow ends
)


def contour_edges(nose_link: Edge | None = NOSE_LINK) -> list[Edge]:
    """Links along the 68-point face's contours: chains for jaw, brows and nose, loops for eyes
    and lips, plus ``nose_link`` between nose bridge and lower nose (``None`` leaves it out)."""
    edges: list[Edge] = []
    for region, closed in FACE_CONTOURS.items():
        idx = REGIONS[region]
        edges += list(zip(idx[:-1], idx[1:]))
        if closed:
            edges.append((idx[-1], idx[0]))
    if nose_link is not None:
        edges.append(tuple(nose_link))  # type: ignore[arg-type]
    return edges


def face_edges(
    extra_links: Iterable[Edge] | None = DEFAULT_EXTRA_LINKS,
    nose_link: Edge | None = NOSE_LINK,
) -> list[Edge]:
    """Undirected neighbour links of the face graph: :func:`contour_edges` + ``extra_links``."""
    return contour_edges(nose_link) + [tuple(e) for e in (extra_links or ())]  # type: ignore[misc]


def check_edges(num_nodes: int, edges: Iterable[Edge]) -> list[Edge]:
    """Validate links ``(i, j)`` between ``num_nodes`` nodes; returns them as a list of int pairs.

    Raises ``ValueError`` for a pair that is not two node indices in ``[0, num_nodes)``, and for
    self-links (self-loops are added by the partition itself)."""
    out: list[Edge] = []
    for e in edges:
        if len(e) != 2:
            raise ValueError(f"graph edge {e!r} is not a pair (i, j) of node indices")
        i, j = int(e[0]), int(e[1])
        if not (0 <= i < num_nodes and 0 <= j < num_nodes):
            raise ValueError(f"graph edge {e!r} has a node outside [0, {num_nodes}) for a graph of {num_nodes} nodes")
        if i == j:
            raise ValueError(f"graph edge {e!r} links a node to itself; self-loops are added by the partition")
        out.append((i, j))
    return out


def adjacency_matrix(num_nodes: int, edges: Iterable[Edge]) -> np.ndarray:
    """Symmetric 0/1 adjacency ``(V, V)`` of undirected links, without self-loops."""
    adj = np.zeros((num_nodes, num_nodes), dtype=np.float64)
    for i, j in check_edges(num_nodes, edges):
        adj[i, j] = adj[j, i] = 1.0
    return adj


def hop_distance(num_nodes: int, edges: Iterable[Edge], max_hop: int | None = None) -> np.ndarray:
    """Hop counts ``(V, V)`` between nodes (``inf`` when unreachable or beyond ``max_hop``)."""
    dist = shortest_path(csr_matrix(adjacency_matrix(num_nodes, edges)), directed=False, unweighted=True)
    if max_hop is not None:
        dist[dist > max_hop] = np.inf
    return dist


def normalize_digraph(adjacency: np.ndarray) -> np.ndarray:
    """``A·D⁻¹`` with ``D`` the column sums: every non-empty column then sums to 1."""
    deg = adjacency.sum(axis=0)
    inv = np.zeros_like(deg)
    inv[deg > 0] = 1.0 / deg[deg > 0]
    return adjacency * inv[None, :]


def partition_adjacency(
    num_nodes: int,
    edges: Iterable[Edge],
    center: int,
    strategy: Strategy = "spatial",
    max_hop: int = 1,
    centre_distance: CentreDistance = "graph",
) -> np.ndarray:
    """Partitioned, normalised adjacency ``(K, V, V)`` (``A[k, v, w]``: input v → output w).

    ``spatial``: for each hop h in 1..max_hop two subsets, neighbours at hop h no closer to
    ``center`` than the root, then those closer; the root itself (hop 0) first. So K = 3 for
    max_hop = 1. See the module docstring for ``centre_distance``.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown partition strategy {strategy!r}; expected one of {STRATEGIES}")
    if centre_distance not in CENTRE_DISTANCES:
        raise ValueError(f"unknown centre_distance {centre_distance!r}; expected one of {CENTRE_DISTANCES}")
    if not isinstance(max_hop, int) or max_hop < 1:
        raise ValueError(f"max_hop must be an int >= 1, got {max_hop!r}")
    if not 0 <= center < num_nodes:
        raise ValueError(f"graph centre {center!r} is not a node index in [0, {num_nodes})")
    edges = check_edges(num_nodes, edges)
    full = hop_distance(num_nodes, edges)
    hop = np.where(full <= max_hop, full, np.inf)
    norm = normalize_digraph((hop <= max_hop).astype(np.float64))
    if strategy == "uniform":
        return norm[None]
    if strategy == "distance":
        return np.stack([np.where(hop == h, norm, 0.0) for h in range(max_hop + 1)])
    to_centre = (full if centre_distance == "graph" else hop)[:, center]
    # farther[v, w]: input v is at least as far from the centre as root w
    farther = to_centre[:, None] >= to_centre[None, :]
    subsets = [np.where(hop == 0, norm, 0.0)]
    for h in range(1, max_hop + 1):
        at_h = hop == h
        subsets.append(np.where(at_h & farther, norm, 0.0))
        subsets.append(np.where(at_h & ~farther, norm, 0.0))
    return np.stack(subsets)


def bone_pairs(num_nodes: int, edges: Iterable[Edge], root: int) -> list[Edge]:
    """``(parent, child)`` pairs of a breadth-first spanning tree (forest) rooted at ``root``.

    Every node except the roots is a child exactly once; unreachable pieces are rooted at their
    lowest-index node. Deterministic: neighbours are visited in increasing index.
    """
    if not 0 <= root < num_nodes:
        raise ValueError(f"bone root {root!r} is not a node index in [0, {num_nodes})")
    graph = csr_matrix(adjacency_matrix(num_nodes, edges))
    parent = np.full(num_nodes, -1)
    seen = np.zeros(num_nodes, dtype=bool)
    start = root
    while True:
        order, pred = breadth_first_order(graph, start, directed=False, return_predecessors=True)
        seen[order] = True
        reached = order[order != start]
        parent[reached] = pred[reached]
        if seen.all():
            break
        start = int(np.flatnonzero(~seen)[0])
    return [(int(parent[c]), int(c)) for c in _by_depth(parent) if parent[c] >= 0]


def _by_depth(parent: np.ndarray) -> list[int]:
    """Nodes sorted by (depth, index) in the forest given by ``parent`` (-1 marks a root)."""
    depth = np.zeros(len(parent), dtype=int)
    for v in range(len(parent)):
        u = v
        while parent[u] >= 0:
            u = int(parent[u])
            depth[v] += 1
    return sorted(range(len(parent)), key=lambda v: (depth[v], v))


def parents_from_bones(num_nodes: int, bones: Sequence[Edge]) -> np.ndarray:
    """``(V,)`` parent index of each node (roots are their own parent) from ``(parent, child)`` pairs."""
    parent = np.arange(num_nodes)
    for p, c in bones:
        parent[c] = p
    return parent


@dataclass(frozen=True, eq=False)
class Graph:
    """A landmark graph ready for ST-GCN: ``A`` is ``(K, V, V)`` float32, ``A[k, v, w]`` input v →
    output w; ``bones`` are ``(parent, child)`` pairs; ``parents`` ``(V,)`` (roots map to themselves)."""

    name: str
    num_nodes: int
    edges: tuple[Edge, ...] = field(repr=False)
    center: int
    strategy: str
    max_hop: int
    centre_distance: str
    A: np.ndarray = field(repr=False)
    bones: tuple[Edge, ...] = field(repr=False)

    @property
    def num_subsets(self) -> int:
        """K, the number of adjacency subsets (3 for the spatial strategy with max_hop = 1)."""
        return int(self.A.shape[0])

    @property
    def parents(self) -> np.ndarray:
        """``(V,)`` parent of each node in the bone tree; roots are their own parent."""
        return parents_from_bones(self.num_nodes, self.bones)

    def is_connected(self) -> bool:
        """Whether the neighbour links join all nodes into one piece."""
        n, _ = connected_components(csr_matrix(adjacency_matrix(self.num_nodes, self.edges)), directed=False)
        return n == 1


def build_graph(
    num_nodes: int,
    edges: Iterable[Edge],
    center: int,
    strategy: Strategy = "spatial",
    max_hop: int = 1,
    centre_distance: CentreDistance = "graph",
    name: str = "custom",
) -> Graph:
    """A :class:`Graph` from undirected links: partitioned adjacency and bones rooted at ``center``."""
    edges = check_edges(num_nodes, edges)
    A = partition_adjacency(num_nodes, edges, center, strategy, max_hop, centre_distance)
    return Graph(
        name=name,
        num_nodes=num_nodes,
        edges=tuple(edges),
        center=center,
        strategy=strategy,
        max_hop=max_hop,
        centre_distance=centre_distance,
        A=A.astype(np.float32),
        bones=tuple(bone_pairs(num_nodes, edges, center)),
    )


def face_graph(
    center: int = FACE_CENTER,
    extra_links: Iterable[Edge] | None = DEFAULT_EXTRA_LINKS,
    nose_link: Edge | None = NOSE_LINK,
    strategy: Strategy = "spatial",
    max_hop: int = 1,
    centre_distance: CentreDistance = "graph",
) -> Graph:
    """The 68-landmark face graph (see the module docstring for links and choices)."""
    return build_graph(
        NUM_LANDMARKS,
        face_edges(extra_links, nose_link),
        center,
        strategy=strategy,
        max_hop=max_hop,
        centre_distance=centre_distance,
        name="face68",
    )
