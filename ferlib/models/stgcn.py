"""ST-GCN over 68 facial landmarks (the ST-GCN blog post) and its multi-stream variant.

The post classifies 45-frame windows of dlib's 68 landmarks (C = 2 coordinates) with the
spatial-temporal graph convolutional network of Yan et al. (2018): landmarks are graph nodes,
spatial edges follow the face's contours (:mod:`ferlib.models.face_graph`), temporal edges link
the same landmark in consecutive frames (the 9×1 temporal convolution).

Input ``(N, C, T, V)`` or ``(N, C, T, V, M)`` (M faces, averaged after pooling, as the official
code does for persons); use :func:`landmarks_to_stgcn_input` to turn the clip store's pixel
landmarks ``(B, T, 68, 2)`` into ``(B, 2, T, 68)``.

:class:`STGCN` follows the official yysijie/st-gcn network, whose checkpoints
:func:`load_yysijie_stgcn_state_dict` reads:

* ``data_bn``: BatchNorm1d over the ``V·C`` channels (index ``v·C + c``) of ``(N·M, V·C, T)``;
* 10 blocks 64, 64, 64, 64, 128 (stride 2), 128, 128, 256 (stride 2), 256, 256 (``blocks``);
  the first has no residual and no dropout. Block (:class:`STGCNBlock`): 1×1 conv to
  ``C_out·K`` → ``einsum("nkctv,kvw->nctw")`` with ``A ⊙ M`` (ST-GCN eq. 10 with the learnable
  edge importance M of §3.6, initialised to ones) → BN → ReLU → temporal conv 9×1 (stride) →
  BN → dropout; residual identity, or 1×1 conv + BN when channels or stride change; ReLU after
  the sum. T goes 45 → 23 → 12 at the stride-2 blocks;
* global average pooling over (T, V) → mean over M → ``fcn`` (1×1 conv) → logits.

``A`` is a registered buffer (it travels inside checkpoints); the bone ``parents`` are a
non-persistent buffer rebuilt from the graph.

Streams (pyskl's multi-stream ST-GCN; the post names RA-GCN as its inspiration, whose extra
activation modules are not reproduced). Each is derived from the joint tensor in the forward
pass, so every model takes joints:

* ``joint``: the coordinates themselves;
* ``bone``: ``x[v] − x[parent(v)]`` over the graph's bone tree (zero at the root);
* ``joint_motion`` / ``bone_motion``: ``s[t+1] − s[t]`` of the joint / bone stream, zero at the
  last frame.

:class:`MultiStreamSTGCN` runs one ST-GCN per stream and fuses their scores.
``fusion="mean_softmax"`` (default, pyskl's ensemble of probabilities) returns
``log(mean_s softmax(z_s))``: log-probabilities, so cross-entropy on them is the negative
log-likelihood of the equal-weight mixture and ``argmax`` is the fused decision;
``fusion="mean_logits"`` returns the mean of the stream logits. pyskl trains each stream alone
and fuses at test time; :meth:`MultiStreamSTGCN.from_single_streams` builds that ensemble from
trained single-stream models, while training a :class:`MultiStreamSTGCN` directly trains all
streams jointly on the fused output.

``extras``:

* ``embedding`` ``(B, D)``: the pooled features before ``fcn`` (D = last block's channels;
  multi-stream: the streams' embeddings concatenated, ``D = S·D_stream``);
* multi-stream only: ``stream_logits`` ``(B, S, num_classes)`` in the order of ``streams``.

ST-GCN has no per-frame CNN, so it has no ``trunk`` attribute and no per-frame weights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from ferlib.models.base import FERModel, ModelOutput
from ferlib.models.face_graph import NUM_LANDMARKS, Graph, face_graph
from ferlib.models.foreign import ForeignLoadReport, StateSource, read_checkpoint
from ferlib.models.registry import DEMO_CHOICE, DEMO_DEFAULTS, MethodSpec, PaperItem, PaperRefs, ModelProfile, cite, register

Stream = Literal["joint", "bone", "joint_motion", "bone_motion"]
Fusion = Literal["mean_softmax", "mean_logits"]
Normalise = Literal["eyes", "centroid", "none"]

STREAMS: tuple[str, ...] = ("joint", "bone", "joint_motion", "bone_motion")
FUSIONS: tuple[str, ...] = ("mean_softmax", "mean_logits")
NORMALISATIONS: tuple[str, ...] = ("eyes", "centroid", "none")

#: (out_channels, temporal stride) of the official 10-block stack
PAPER_BLOCKS: tuple[tuple[int, int], ...] = (
    (64, 1), (64, 1), (64, 1), (64, 1), (128, 2), (128, 1), (128, 1), (256, 2), (256, 1), (256, 1),
)
#: a narrower, shorter stack for the CPU demo model
DEMO_BLOCKS: tuple[tuple[int, int], ...] = ((16, 1), (32, 2), (32, 1), (64, 2))

#: outer eye corners of the iBUG scheme (subject's right, left)
_EYE_CORNERS = (36, 45)


# --------------------------------------------------------------------------- input and streams


def landmarks_to_stgcn_input(
    landmarks: torch.Tensor,
    normalise: Normalise = "eyes",
    eps: float = 1e-6,
) -> torch.Tensor:
    """Pixel landmarks ``(B, T, 68, 2)`` → float32 ST-GCN input ``(B, 2, T, 68)``.

    Normalisation is per clip (one translation and one scale for all T frames, so head motion
    inside the clip is kept):

    * ``"eyes"`` (default): origin at the clip mean of the midpoint of the outer eye corners
      (36, 45), unit = the clip mean of ``|p45 − p36|`` — the frame of
      :data:`ferlib.data.landmarks68.MEAN_SHAPE`;
    * ``"centroid"``: origin at the clip mean of all landmarks, unit = the RMS distance to it;
    * ``"none"``: pixel coordinates unchanged.

    Raises ``ValueError`` for a wrong shape, non-finite values, or a clip whose scale is below
    ``eps`` (e.g. all landmarks at one point), naming the clips.
    """
    landmarks = torch.as_tensor(landmarks)
    if landmarks.dim() != 4 or landmarks.shape[2] != NUM_LANDMARKS or landmarks.shape[3] != 2:
        raise ValueError(
            f"landmarks_to_stgcn_input expects landmarks of shape (B, T, {NUM_LANDMARKS}, 2), "
            f"got {tuple(landmarks.shape)}"
        )
    if normalise not in NORMALISATIONS:
        raise ValueError(f"unknown normalise {normalise!r}; expected one of {NORMALISATIONS}")
    x = landmarks.float()
    if not torch.isfinite(x).all():
        bad = (~torch.isfinite(x)).flatten(1).any(1).nonzero().flatten().tolist()
        raise ValueError(f"landmarks of clips {bad} (batch indices) contain NaN or inf")
    if normalise == "eyes":
        right, left = x[:, :, _EYE_CORNERS[0]], x[:, :, _EYE_CORNERS[1]]  # (B, T, 2)
        centre = ((right + left) / 2).mean(1)  # (B, 2)
        scale = (left - right).norm(dim=-1).mean(1)  # (B,)
    elif normalise == "centroid":
        centre = x.mean(dim=(1, 2))
        scale = (x - centre[:, None, None]).pow(2).sum(-1).mean(dim=(1, 2)).sqrt()
    else:
        centre, scale = x.new_zeros(x.shape[0], 2), x.new_ones(x.shape[0])
    if (scale < eps).any():
        bad = (scale < eps).nonzero().flatten().tolist()
        raise ValueError(
            f"landmarks of clips {bad} (batch indices) have a scale below {eps} for normalise={normalise!r}: "
            "degenerate landmarks (all points at one place?)"
        )
    x = (x - centre[:, None, None]) / scale[:, None, None, None]
    return x.permute(0, 3, 1, 2).contiguous()


def joints_to_bones(x: torch.Tensor, parents: torch.Tensor) -> torch.Tensor:
    """Bone vectors ``x[..., v] − x[..., parent(v)]`` of joints ``(N, C, T, V[, M])`` (same shape).

    ``parents`` ``(V,)``: roots are their own parent, so their bone is zero."""
    return x - x.index_select(3, parents)


def temporal_motion(x: torch.Tensor) -> torch.Tensor:
    """Frame differences ``x[:, :, t+1] − x[:, :, t]`` of ``(N, C, T, V[, M])``; zero at the last frame."""
    motion = torch.zeros_like(x)
    motion[:, :, :-1] = x[:, :, 1:] - x[:, :, :-1]
    return motion


def derive_stream(x: torch.Tensor, stream: Stream, parents: torch.Tensor) -> torch.Tensor:
    """The ``stream`` (one of :data:`STREAMS`) of joints ``(N, C, T, V[, M])``, same shape."""
    if stream == "joint":
        return x
    if stream == "bone":
        return joints_to_bones(x, parents)
    if stream == "joint_motion":
        return temporal_motion(x)
    if stream == "bone_motion":
        return temporal_motion(joints_to_bones(x, parents))
    raise ValueError(f"unknown stream {stream!r}; expected one of {STREAMS}")


# --------------------------------------------------------------------------- layers


class SpatialGraphConv(nn.Module):
    """Spatial graph convolution (ST-GCN eq. 10): ``Σ_k (X W_k + b_k) (A_k ⊙ M_k)``.

    ``(N, C_in, T, V)`` and ``A`` ``(K, V, V)`` → ``(N, C_out, T, V)``. The K weight matrices
    are one 1×1 convolution to ``C_out·K`` channels (``conv``, with bias, as the official code).
    The sum is linear, so it is computed in the cheaper order: the official one (transform, then
    aggregate ``C_out·K`` channels over the graph) when ``C_in ≥ C_out``, else aggregate the ``C_in·K``
    input channels first, ``Σ_k W_k (X A_k) + Σ_k b_k 1ᵀA_k`` (equal up to float rounding).
    """

    def __init__(self, in_channels: int, out_channels: int, num_subsets: int) -> None:
        super().__init__()
        self.num_subsets = num_subsets
        self.out_channels = out_channels
        self.conv = nn.Conv2d(in_channels, out_channels * num_subsets, kernel_size=1)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        n, c, t, v = x.shape
        k, out = self.num_subsets, self.out_channels
        if c >= out:
            return torch.einsum("nkctv,kvw->nctw", self.conv(x).view(n, k, out, t, v), A)
        aggregated = torch.einsum("nctv,kvw->nkctw", x, A).reshape(n, k * c, t, v)
        weight = self.conv.weight.view(k, out, c).transpose(0, 1).reshape(out, k * c, 1, 1)
        bias = torch.einsum("kc,kw->cw", self.conv.bias.view(k, out), A.sum(1))  # b_k through A_k's column sums
        return F.conv2d(aggregated, weight) + bias[:, None]


class STGCNBlock(nn.Module):
    """One ST-GCN unit: spatial graph conv → BN → ReLU → temporal conv (k×1) → BN → dropout,
    plus a residual, then ReLU. ``(N, C_in, T, V)`` → ``(N, C_out, ⌈T / stride⌉, V)``.

    ``residual``: ``False`` (none, the first block), else identity when shapes agree or a 1×1
    conv (stride) + BN. ``tcn`` indices match the official layout (0 BN, 2 conv, 3 BN)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        num_subsets: int,
        temporal_kernel: int = 9,
        stride: int = 1,
        dropout: float = 0.0,
        residual: bool = True,
    ) -> None:
        super().__init__()
        if temporal_kernel < 1 or temporal_kernel % 2 == 0:
            raise ValueError(f"temporal_kernel must be a positive odd int, got {temporal_kernel!r}")
        if stride < 1:
            raise ValueError(f"stride must be >= 1, got {stride!r}")
        self.gcn = SpatialGraphConv(in_channels, out_channels, num_subsets)
        self.tcn = nn.Sequential(
            nn.BatchNorm2d(out_channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(
                out_channels, out_channels, (temporal_kernel, 1), (stride, 1), ((temporal_kernel - 1) // 2, 0)
            ),
            nn.BatchNorm2d(out_channels),
            nn.Dropout(dropout),
        )
        self.has_residual = residual
        if residual and (in_channels != out_channels or stride != 1):
            self.residual: nn.Module = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=(stride, 1)),
                nn.BatchNorm2d(out_channels),
            )
        else:
            self.residual = nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor, A: torch.Tensor) -> torch.Tensor:
        out = self.tcn(self.gcn(x, A))
        if self.has_residual:
            out = out + self.residual(x)
        return self.relu(out)


# --------------------------------------------------------------------------- models


def smooth_frames(x: torch.Tensor, length: int) -> torch.Tensor:
    """Moving average of joints ``(N, C, T, V, M)`` over ``length`` frames (odd; the edge frames
    repeated), all joints at once; ``length`` 1 returns ``x``."""
    if length == 1:
        return x
    n, c, t, v, m = x.shape
    flat = x.permute(0, 1, 3, 4, 2).reshape(-1, 1, t)  # (N·C·V·M, 1, T)
    flat = F.avg_pool1d(F.pad(flat, (length // 2, length // 2), mode="replicate"), length, stride=1)
    return flat.reshape(n, c, v, m, t).permute(0, 1, 4, 2, 3)


def _resolve_graph(graph: Graph | Mapping[str, Any] | None) -> Graph:
    if graph is None:
        return face_graph()
    if isinstance(graph, Graph):
        return graph
    if isinstance(graph, Mapping):
        return face_graph(**graph)
    raise TypeError(f"graph must be a Graph, a dict of face_graph() arguments or None, got {type(graph).__name__}")


class STGCN(FERModel):
    """Single-stream ST-GCN (see the module docstring). ``forward(x)`` with joints
    ``(N, C, T, V)`` or ``(N, C, T, V, M)`` → ``(logits (N, num_classes), {"embedding": (N, D)})``.

    ``graph``: a :class:`~ferlib.models.face_graph.Graph`, a dict of
    :func:`~ferlib.models.face_graph.face_graph` arguments, or ``None`` (the default face graph).
    ``blocks``: ``(out_channels, stride)`` per block (:data:`PAPER_BLOCKS`). ``stream``: which
    stream of the joint input this network sees (:data:`STREAMS`). ``smooth``: an odd moving-average
    length over frames applied to the joints before anything else (edges repeated), in training and
    test alike; 1 (the paper's): none. Not in the post: the ``smoothed`` variant (5 frames) is
    ferlib's answer to dlib's frame-to-frame landmark jitter on real video (the transfer check).
    """

    input_kind = "landmarks"
    min_frames = 1

    def __init__(
        self,
        num_classes: int,
        in_channels: int = 2,
        graph: Graph | Mapping[str, Any] | None = None,
        blocks: Sequence[Sequence[int]] = PAPER_BLOCKS,
        temporal_kernel: int = 9,
        dropout: float = 0.5,
        edge_importance: bool = True,
        stream: Stream = "joint",
        smooth: int = 1,
    ) -> None:
        super().__init__(num_classes)
        if stream not in STREAMS:
            raise ValueError(f"unknown stream {stream!r}; expected one of {STREAMS}")
        if isinstance(smooth, bool) or not isinstance(smooth, int) or smooth < 1 or smooth % 2 == 0:
            raise ValueError(f"smooth must be an odd number of frames >= 1, got {smooth!r}")
        self.smooth = smooth
        if not blocks:
            raise ValueError("blocks must list at least one (out_channels, stride) pair")
        g = _resolve_graph(graph)
        self.graph = g
        self.stream = stream
        self.in_channels = in_channels
        self.num_nodes = g.num_nodes
        self.register_buffer("A", torch.tensor(g.A, dtype=torch.float32))
        self.register_buffer("parents", torch.as_tensor(g.parents, dtype=torch.long), persistent=False)
        self.data_bn = nn.BatchNorm1d(in_channels * g.num_nodes)
        layers = []
        c_in = in_channels
        for i, (c_out, stride) in enumerate(blocks):
            layers.append(
                STGCNBlock(
                    c_in,
                    int(c_out),
                    g.num_subsets,
                    temporal_kernel,
                    int(stride),
                    dropout=0.0 if i == 0 else dropout,
                    residual=i > 0,
                )
            )
            c_in = int(c_out)
        self.blocks = nn.ModuleList(layers)
        self.embed_dim = c_in
        self.edge_importance = (
            nn.ParameterList([nn.Parameter(torch.ones_like(self.A)) for _ in layers]) if edge_importance else None
        )
        self.fcn = nn.Conv2d(c_in, num_classes, kernel_size=1)

    def check_input(self, x: torch.Tensor) -> torch.Tensor:
        """Validate ``(N, C, T, V)`` or ``(N, C, T, V, M)``; returns it as ``(N, C, T, V, M)``."""
        name = type(self).__name__
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} expects a tensor (N, C, T, V), got {type(x).__name__}")
        if x.dim() not in (4, 5):
            raise ValueError(
                f"{name} expects landmarks of shape (N, C, T, V) or (N, C, T, V, M), got {tuple(x.shape)} "
                f"({x.dim()} dims); turn (B, T, {self.num_nodes}, 2) landmarks into it with landmarks_to_stgcn_input"
            )
        if x.shape[1] != self.in_channels or x.shape[3] != self.num_nodes:
            raise ValueError(
                f"{name} expects C={self.in_channels} channels and V={self.num_nodes} nodes in (N, C, T, V), "
                f"got C={x.shape[1]}, V={x.shape[3]} in {tuple(x.shape)}"
            )
        if x.shape[2] < self.min_frames or x.shape[0] < 1 or (x.dim() == 5 and x.shape[4] < 1):
            raise ValueError(f"{name} got an empty input of shape {tuple(x.shape)}")
        return x if x.dim() == 5 else x.unsqueeze(-1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Pooled features ``(N, D)`` of joints ``(N, C, T, V[, M])`` (before ``fcn``)."""
        x = derive_stream(smooth_frames(self.check_input(x), self.smooth), self.stream, self.parents)
        n, c, t, v, m = x.shape
        # data_bn over V·C channels with index v·C + c, as the official code
        x = x.permute(0, 4, 3, 1, 2).reshape(n * m, v * c, t)
        x = self.data_bn(x)
        x = x.view(n * m, v, c, t).permute(0, 2, 3, 1).contiguous()  # (N·M, C, T, V)
        for i, block in enumerate(self.blocks):
            A = self.A if self.edge_importance is None else self.A * self.edge_importance[i]
            x = block(x, A)
        return x.mean(dim=(2, 3)).view(n, m, -1).mean(1)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        emb = self.features(x)
        logits = self.fcn(emb[:, :, None, None]).flatten(1)
        return logits, {"embedding": emb}


class MultiStreamSTGCN(FERModel):
    """One :class:`STGCN` per stream on the same joints, scores fused (see the module docstring).

    ``forward(x)`` with joints ``(N, C, T, V[, M])`` → ``(fused (N, num_classes),
    {"embedding": (N, S·D), "stream_logits": (N, S, num_classes)})``. Extra keyword arguments
    go to every stream's :class:`STGCN`.
    """

    input_kind = "landmarks"
    min_frames = 1

    def __init__(
        self,
        num_classes: int,
        streams: Sequence[Stream] = STREAMS,
        fusion: Fusion = "mean_softmax",
        models: Sequence[STGCN] | None = None,
        **stgcn_kwargs: Any,
    ) -> None:
        super().__init__(num_classes)
        if models is not None:
            models = list(models)
            bad = [m.num_classes for m in models if m.num_classes != num_classes]
            if not models or bad:
                raise ValueError(f"models must be one or more STGCN with num_classes={num_classes}, got {bad or 'none'}")
            streams = tuple(m.stream for m in models)
        streams = tuple(streams)
        if not streams or len(set(streams)) != len(streams) or not set(streams) <= set(STREAMS):
            raise ValueError(f"streams must be distinct names from {STREAMS}, got {streams!r}")
        if fusion not in FUSIONS:
            raise ValueError(f"unknown fusion {fusion!r}; expected one of {FUSIONS}")
        self.stream_names = streams
        self.fusion = fusion
        if models is None:
            models = [STGCN(num_classes, stream=s, **stgcn_kwargs) for s in streams]
        self.streams = nn.ModuleDict({m.stream: m for m in models})

    @classmethod
    def from_single_streams(cls, models: Sequence[STGCN], fusion: Fusion = "mean_softmax") -> "MultiStreamSTGCN":
        """Ensemble of trained single-stream models, one per stream (pyskl's score fusion)."""
        models = list(models)
        if not models:
            raise ValueError("from_single_streams needs at least one STGCN")
        return cls(models[0].num_classes, fusion=fusion, models=models)

    def forward(self, x: torch.Tensor) -> ModelOutput:
        outs = [self.streams[s](x) for s in self.stream_names]
        stream_logits = torch.stack([o[0] for o in outs], dim=1)  # (N, S, K)
        emb = torch.cat([o[1]["embedding"] for o in outs], dim=1)
        if self.fusion == "mean_softmax":
            # log of the mean of the streams' softmax, computed stably
            fused = torch.logsumexp(F.log_softmax(stream_logits, dim=-1), dim=1) - torch.log(
                stream_logits.new_tensor(float(len(outs)))
            )
        else:
            fused = stream_logits.mean(1)
        return fused, {"embedding": emb, "stream_logits": stream_logits}


def build_stgcn(
    num_classes: int,
    streams: Sequence[Stream] = ("joint",),
    fusion: Fusion = "mean_softmax",
    **kwargs: Any,
) -> STGCN | MultiStreamSTGCN:
    """Registry factory: one stream → :class:`STGCN`, several → :class:`MultiStreamSTGCN`."""
    streams = tuple(streams)
    if len(streams) == 1:
        return STGCN(num_classes, stream=streams[0], **kwargs)
    return MultiStreamSTGCN(num_classes, streams=streams, fusion=fusion, **kwargs)


# --------------------------------------------------------------------------- foreign checkpoints


def _yysijie_to_ferlib_key(key: str) -> str:
    """``st_gcn_networks.<i>.…`` → ``blocks.<i>.…``; other names (``data_bn``, ``edge_importance``,
    ``fcn``, ``A``) are the same in both layouts."""
    if key.startswith("st_gcn_networks."):
        return "blocks." + key[len("st_gcn_networks."):]
    return key


def load_yysijie_stgcn_state_dict(
    model: STGCN,
    source: StateSource,
    load_adjacency: bool = True,
    weights_only: bool = True,
) -> ForeignLoadReport:
    """Load a checkpoint in the official yysijie/st-gcn layout (a file or a state dict) into
    ``model`` (in place); returns the :class:`~ferlib.models.foreign.ForeignLoadReport`.

    Accepts what torchlight's ``save_model`` writes (a plain ``OrderedDict``, ``module.`` already
    stripped), a checkpoint dict holding one under ``"state_dict"``, and DataParallel's
    ``module.`` prefix. Keys: ``data_bn.*``, ``st_gcn_networks.<i>.gcn.conv.*``,
    ``.tcn.{0,2,3}.*``, ``.residual.{0,1}.*``, ``edge_importance.<i>``, ``fcn.*`` and the buffer
    ``A``. ``load_adjacency``: take ``A`` from the checkpoint (the graph it was trained with: the
    official partition differs from a full-graph one); else keep the model's and list the file's
    ``A`` under ``dropped``. BatchNorm ``num_batches_tracked`` counters absent from old
    checkpoints keep the model's values (not listed as missing). Files are read with
    ``torch.load(weights_only=True)``.

    Raises ``ValueError`` naming unexpected keys, missing keys, or a key whose shape differs
    (e.g. ``fcn.weight`` when num_classes differs), and for an unreadable file.
    """
    if not isinstance(model, STGCN):
        raise TypeError(
            f"load_yysijie_stgcn_state_dict loads one STGCN, got {type(model).__name__}; "
            "load each stream of a MultiStreamSTGCN separately (model.streams[name])"
        )
    state_dict = read_checkpoint(source, weights_only=weights_only)
    where = str(source) if isinstance(source, (str, Path)) else "checkpoint"
    own = model.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    unexpected: list[str] = []
    report = ForeignLoadReport()
    for key, value in state_dict.items():
        name = _yysijie_to_ferlib_key(key[len("module."):] if key.startswith("module.") else key)
        if name == "A" and not load_adjacency:
            report.dropped.append(key)
            continue
        if name not in own:
            unexpected.append(key)
            continue
        if tuple(value.shape) != tuple(own[name].shape):
            raise ValueError(
                f"{where} key {key!r} has shape {tuple(value.shape)}, the model expects "
                f"{tuple(own[name].shape)} for {name!r} (check num_classes, in_channels, the graph and blocks)"
            )
        mapped[name] = value
    if unexpected:
        raise ValueError(f"{where} keys not in the model: {unexpected}")
    missing = [k for k in own if k not in mapped and not k.endswith("num_batches_tracked") and k != "A"]
    if missing:
        raise ValueError(f"model keys missing from the checkpoint: {missing} ({where})")
    model.load_state_dict({**own, **mapped}, strict=True)
    report.loaded = sorted(mapped)
    report.missing = sorted(k for k in own if k not in mapped and not k.endswith("num_batches_tracked"))
    return report


# --------------------------------------------------------------------------- registry

def stgcn_batch_inputs(batch: Mapping[str, torch.Tensor], stgcn_normalise: str = "eyes", **_: object) -> tuple[torch.Tensor]:
    """A data-set batch's landmarks ``(B, T, 68, 2)`` as the model's ``(B, 2, T, 68)`` input."""
    return (landmarks_to_stgcn_input(batch["landmarks"], normalise=stgcn_normalise),)


#: the ST-GCN post's results, and what regenerates each (the gallery's list)
PAPER_ITEMS = (
    PaperItem("Result: ST-GCN", "Aff-Wild2 validation accuracy of ST-GCN", "table", "notebook 05, *Beside the paper*",
              ("05_stgcn_vs_paper.csv", "05_stgcn_vs_paper.md", "05_stgcn_results.csv", "05_stgcn_results.md",
               "05_stgcn_confusion.png")),
    PaperItem("Result: multi-stream", "Aff-Wild2 validation accuracy of the multi-stream ST-GCN", "table",
              "notebook 05, *The multi-stream variant*", ("05_stgcn_streams.csv", "05_stgcn_streams.md")),
)

_CODE = "official yysijie/st-gcn NTU recipe (the post states no schedule)"
_PAPER = {
    **cite(_CODE, optimizer="sgd", lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4, schedule="step",
           milestones=[10, 50], gamma=0.1, epochs=80, batch_size=64),
    **cite("the ST-GCN post: 45-frame clips of 68 landmarks", sampler="window", num_frames=45, test_sampler="window"),
    **cite("ferlib's choice: landmark input, no image augmentation", augment=False),
}

SPEC = register(MethodSpec(
    name="stgcn",
    factory=build_stgcn,
    description="ST-GCN over 68 dlib landmarks × 45 frames (the ST-GCN blog post) and its multi-stream variant",
    inputs="landmarks",
    batch_inputs=stgcn_batch_inputs,
    profiles={
        "demo": ModelProfile(
            kwargs={"blocks": DEMO_BLOCKS, "dropout": 0.2}, input_side=0, num_frames=16, sampler="window"
        ),
        "paper": ModelProfile(
            kwargs={"blocks": PAPER_BLOCKS, "dropout": 0.5}, input_side=0, num_frames=45, sampler="window"
        ),
    },
    variants={
        "full": {"streams": ("joint",)},
        "joints": {"streams": ("joint",)},
        "bones": {"streams": ("bone",)},
        "joint_motion": {"streams": ("joint_motion",)},
        "bone_motion": {"streams": ("bone_motion",)},
        "multistream": {"streams": STREAMS, "fusion": "mean_softmax"},
        "smoothed": {"streams": ("joint",), "smooth": 5},
    },
    # its landmarks averaged over 5 frames: how much of its real-face error is landmark jitter (notebook 11)
    transfer_variants=("smoothed",),
    recipes={
        "affwild2": {**_PAPER, **cite("the ST-GCN post: 1200 train / 586 validation clips",
                                       protocol=("train_test", {"train": "train", "test": "val"}))},
        "synth": {**_PAPER, **cite("ferlib's choice: subject 10-fold CV on the generated set",
                                    protocol=("subject_kfold", {"k": 10}))},
        "demo": {**DEMO_DEFAULTS, **cite(DEMO_CHOICE, lr=3e-3, epochs=30)},
    },
    papers=PaperRefs(
        paper='ST-GCN blog post (Graph Convolutional Networks for Emotion Recognition)', items=PAPER_ITEMS,
        main={"affwild2": ("stgcn_affwild2", "Aff-Wild2")},
        ablations={"stgcn_affwild2": [
            {"label": "ST-GCN", "variant": "full"},
            {"label": "multi-stream ST-GCN (RA-GCN style)", "variant": "multistream"},
        ]},
    ),
    notebook="05_stgcn.ipynb",
    cost_row=True,
    paper_classes=5,
))
