"""FER-GCN's Fig. 3 measured: node features around the GCN layer and how similar frames become.

FER-GCN Fig. 3 ("feature reconstruction in our GCN layer": input features of the GCN layer in the
second row, output features in the third; the paper's claim is that the layer "shares most
contributing expression features among frames", so that every frame's feature looks like the
peak frames'). :func:`fer_gcn_node_features` reads, through forward hooks, the node features
``(B, N, d)`` entering the first GCN layer (CNN features ``H``), leaving it
(``LeakyReLU(A·H·W)``, eq. 4) and leaving the last graph module (what eq. 8 fuses), plus a
control without sharing between frames. :func:`cosine_similarity_matrix`,
:func:`similarity_to_frame` and :func:`similarity_table` turn them into the measurable form of the
claim: how similar each frame's feature is to the apex frame's, before and after;
:func:`sharing_verdict` says in one sentence whether the rise comes from sharing between frames.
:func:`ferlib.viz.gradcam.fer_gcn_fig3_figure` draws them.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ferlib.analysis.inference import model_inputs

__all__ = ["fer_gcn_node_features", "collect_node_features", "center_features", "cosine_similarity_matrix",
           "similarity_to_frame", "similarity_table", "sharing_verdict"]


def fer_gcn_node_features(model: nn.Module, clips: torch.Tensor) -> dict[str, np.ndarray]:
    """Node features of a FER-GCN around its graph modules, for clips ``(B, N, 3, H, W)``:
    ``"cnn"`` — input of the first GCN layer (CNN node features H), ``"gcn"`` — output of that
    GCN layer ``LeakyReLU(A·H·W)`` (eq. 4, FER-GCN Fig. 3 third row), ``"modules"`` — output of the
    last graph module (GCN + BiLSTM, the features eq. 8 fuses), and the control ``"gcn_self"`` —
    the same GCN layer with A's off-diagonal entries set to 0, ``LeakyReLU(diag(A)·H·W)``: what the
    layer does to each frame without sharing anything between frames. Each ``(B, N, d)`` float32."""
    modules = getattr(model, "graph_modules", None)
    if modules is None or len(modules) == 0:
        raise ValueError(f"{type(model).__name__} has no graph modules (FER-GCN with num_modules >= 1 needed)")
    got: dict[str, torch.Tensor] = {}
    hooks = [
        modules[0].register_forward_hook(lambda m, args, out: got.__setitem__("cnn", args[0].detach())),
        modules[0].act.register_forward_hook(lambda m, args, out: got.__setitem__("gcn", out.detach())),
        modules[-1].register_forward_hook(lambda m, args, out: got.__setitem__("modules", out.detach())),
    ]
    try:
        with torch.no_grad():
            model.eval()(clips.to(next(model.parameters()).device).float())
    finally:
        for h in hooks:
            h.remove()
    with torch.no_grad():  # after the hooks are gone (the control calls the same LeakyReLU module)
        first = modules[0]
        own = torch.diagonal(model.gcn_adjacency()).view(1, -1, 1)
        got["gcn_self"] = first.act(own * first.weight(got["cnn"]))
    return {k: got[k].float().cpu().numpy() for k in ("cnn", "gcn_self", "gcn", "modules")}


def collect_node_features(model: nn.Module, cfg: Any, store: Any, rows: Sequence[int],
                          batch_size: int = 16) -> dict[str, np.ndarray]:
    """:func:`fer_gcn_node_features` for clips ``rows`` of ``store`` fed as the run ``cfg`` feeds
    them, in batches; also ``gt_intensity`` and ``frame_idx`` ``(n, N)`` of the sampled frames."""
    rows = np.asarray(rows)
    parts: dict[str, list[np.ndarray]] = {}
    for start in range(0, len(rows), batch_size):
        batch = model_inputs(store, rows[start:start + batch_size], cfg)
        for k, v in fer_gcn_node_features(model, batch["frames"]).items():
            parts.setdefault(k, []).append(v)
        parts.setdefault("gt_intensity", []).append(batch["intensity"].numpy())
        parts.setdefault("frame_idx", []).append(batch["frame_idx"].numpy())
    if not parts:
        raise ValueError("collect_node_features got no clips (rows is empty)")
    return {k: np.concatenate(v) for k, v in parts.items()}


def center_features(feats: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Each stage's features ``(n, N, d)`` minus their mean over all clips and frames. Node features
    after a ReLU are all positive and share a large common part, so their plain cosine similarity is
    close to 1 for any two frames; centred, it measures what distinguishes frames (a Pearson-like
    correlation between feature vectors)."""
    out = {}
    for name, f in feats.items():
        f = np.asarray(f, dtype=np.float64)
        if f.ndim != 3:
            raise ValueError(f"stage {name!r}: features must be (n_clips, N, d), got shape {f.shape}")
        out[name] = f - f.mean(axis=(0, 1), keepdims=True)
    return out


def cosine_similarity_matrix(feats: np.ndarray) -> np.ndarray:
    """Cosine similarity between the frames' features: ``(N, d)`` → ``(N, N)``, or
    ``(B, N, d)`` → ``(B, N, N)``."""
    f = np.asarray(feats, dtype=np.float64)
    if f.ndim not in (2, 3):
        raise ValueError(f"features must be (N, d) or (B, N, d), got shape {f.shape}")
    norm = np.linalg.norm(f, axis=-1, keepdims=True)
    unit = f / np.maximum(norm, 1e-12)
    return unit @ np.swapaxes(unit, -1, -2)


def similarity_to_frame(feats: np.ndarray, frame: np.ndarray | int) -> np.ndarray:
    """Cosine similarity of every frame's feature to one frame's (e.g. the apex) per clip:
    ``feats`` ``(B, N, d)``, ``frame`` ``(B,)`` indices (or one int) → ``(B, N)``."""
    f = np.asarray(feats, dtype=np.float64)
    if f.ndim != 3:
        raise ValueError(f"features must be (B, N, d), got shape {f.shape}")
    idx = np.broadcast_to(np.asarray(frame, dtype=np.int64), (f.shape[0],))
    if (idx < 0).any() or (idx >= f.shape[1]).any():
        raise ValueError(f"frame indices must lie in [0, {f.shape[1] - 1}], got {idx}")
    sim = cosine_similarity_matrix(f)
    return sim[np.arange(f.shape[0]), idx]


def similarity_table(feats: Mapping[str, np.ndarray], gt: np.ndarray, neutral_below: float = 0.1) -> pd.DataFrame:
    """FER-GCN Fig. 3 as numbers, one row per stage (``feats[name]`` ``(n, N, d)``, ``gt`` ``(n, N)``):
    ``to_apex`` — mean cosine similarity of the other frames to each clip's apex frame (first
    frame at maximum intensity); ``neutral_to_apex`` — the same for the near-neutral frames
    (intensity < ``neutral_below``), the "weak frames" the paper says receive the peak frames'
    features; ``between_frames`` — mean similarity over all pairs of distinct frames."""
    g = np.asarray(gt, dtype=np.float64)
    if g.ndim != 2:
        raise ValueError(f"gt must be (n_clips, N), got shape {g.shape}")
    apex = g.argmax(axis=1)
    others = np.ones_like(g, dtype=bool)
    others[np.arange(len(g)), apex] = False
    neutral = others & (g < neutral_below)
    out = []
    for name, f in feats.items():
        f = np.asarray(f)
        if f.shape[:2] != g.shape:
            raise ValueError(f"stage {name!r}: features {f.shape[:2]} do not match gt {g.shape}")
        to_apex = similarity_to_frame(f, apex)
        sim = cosine_similarity_matrix(f)
        off = ~np.eye(g.shape[1], dtype=bool)
        out.append({"stage": name, "to_apex": float(to_apex[others].mean()),
                    "neutral_to_apex": float(to_apex[neutral].mean()) if neutral.any() else float("nan"),
                    "between_frames": float(sim[:, off].mean()), "n_clips": len(g)})
    return pd.DataFrame(out)


def sharing_verdict(table: pd.DataFrame, margin: float = 0.05) -> str:
    """One sentence from :func:`similarity_table`: the near-neutral frames' similarity to the apex
    (``neutral_to_apex``) at the GCN's input (``cnn``), its output (``gcn``) and the control without
    sharing (``gcn_self``), and whether the layer shares the apex's features between frames (``gcn``
    above ``gcn_self`` by more than ``margin``)."""
    s = table.set_index("stage")["neutral_to_apex"]
    missing = [k for k in ("cnn", "gcn_self", "gcn") if k not in s.index]
    if missing:
        raise KeyError(f"similarity table lacks the stages {missing}; it has {list(s.index)}")
    if not np.isfinite(s[["cnn", "gcn_self", "gcn"]].to_numpy(float)).all():
        return "no near-neutral frames in these clips: the sharing cannot be measured"
    shared = s["gcn"] - s["gcn_self"] > margin
    return (f"near-neutral frames' similarity to the apex: {s['cnn']:.2f} entering the GCN layer, {s['gcn']:.2f} leaving "
            f"it, {s['gcn_self']:.2f} without sharing (A's diagonal only) → "
            + ("the layer shares the apex's features between frames, as the paper says" if shared
               else "the layer does NOT share the apex's features between frames (the sharing the paper describes is not visible)"))
