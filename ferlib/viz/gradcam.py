"""Grad-CAM over the frames of a clip, and FER-GCN's Fig. 3 view of node features around the GCN.

**Grad-CAM** (FER-GCN Fig. 1 style) uses pytorch-grad-cam (``pytorch_grad_cam.GradCAM``). Every
CNN-based ferlib model keeps its per-frame CNN at ``model.trunk`` and runs it once on the ``B·T``
frames of a batch; :class:`ClipLogits` wraps a model so that Grad-CAM sees an image batch — the
``T`` frames ``(T, 3, H, W)`` of one clip — and a logits-only output ``(1, C)``. The target
layer is the trunk's last spatial map (:func:`default_target_layer`); its activations hold one
row per frame, so one backward pass of the clip's class score gives a map for every frame: ``(T, H, W)`` in [0, 1] (pytorch-grad-cam rescales each frame's map to
[0, 1] on its own, so maps compare *where* a frame is looked at, not *how much*). The target is
the predicted class unless one is given. KP-GCN-MSA's landmarks are bound into the wrapper.
Where the trunk ends on a whole-map layer instead of feeding a global average pool (the demo
``small_cnn``), Grad-CAM's spatially averaged gradients are not faithful and HiResCAM, its
per-cell form in the same library, is used instead (:func:`choose_cam_method`).

**FER-GCN Fig. 3** ("feature reconstruction in our GCN layer": input features of the GCN layer in
the second row, output features in the third; the paper's claim is that the layer "shares most
contributing expression features among frames", so that every frame's feature looks like the
peak frames'). :func:`fer_gcn_node_features` reads, through forward hooks, the node features
``(B, N, d)`` entering the first GCN layer (CNN features ``H``), leaving it
(``LeakyReLU(A·H·W)``, eq. 4) and leaving the last graph module (what eq. 8 fuses).
:func:`cosine_similarity_matrix` and :func:`similarity_to_frame` turn them into the measurable
form of the claim: how similar each frame's feature is to the apex frame's, before and after.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import copy

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.figure import Figure
from torch import nn

from ferlib.viz.style import palette

__all__ = [
    "choose_clip",
    "model_inputs",
    "ClipLogits",
    "default_target_layer",
    "CAM_METHODS",
    "choose_cam_method",
    "clip_gradcam",
    "overlay",
    "gradcam_figure",
    "fer_gcn_node_features",
    "collect_node_features",
    "center_features",
    "cosine_similarity_matrix",
    "similarity_to_frame",
    "similarity_table",
    "fer_gcn_fig3_figure",
]


def choose_clip(predictions: Mapping[str, pd.DataFrame], prefer: Sequence[str] = ("happy",)) -> str:
    """One test clip to show for every method: among the clips all ``predictions`` (method →
    ``predictions.csv`` frame, the same test fold) hold, the first one that the most methods
    classify correctly, a class in ``prefer`` first (FER-GCN Fig. 1 shows "Happy")."""
    if not predictions:
        raise ValueError("choose_clip needs the predictions of at least one method")
    frames = list(predictions.values())
    common = set(frames[0]["clip_id"])
    for df in frames[1:]:
        common &= set(df["clip_id"])
    if not common:
        raise ValueError("the methods' predictions share no clip: were they tested on different folds?")
    order = [c for c in frames[0]["clip_id"] if c in common]
    correct = {c: 0 for c in order}
    for df in frames:
        for c, ok in zip(df["clip_id"], df["label"] == df["pred"]):
            if c in correct:
                correct[c] += int(ok)
    label = dict(zip(frames[0]["clip_id"], frames[0]["label_name"]))
    return max(order, key=lambda c: (correct[c], label[c] in prefer, -order.index(c)))


def model_inputs(store: Any, rows: Sequence[int], cfg: Any, sampler: str | None = None) -> dict[str, torch.Tensor]:
    """The tensors a run's model sees for clips ``rows`` of ``store`` (evaluation transform of the
    run's :class:`~ferlib.train.config.TrainConfig`; ``sampler`` replaces the run's, e.g. ``"all"``):
    ``frames`` ``(n, T, 3, S, S)``, ``landmarks`` ``(n, T, 68, 2)``, ``intensity``, ``frame_idx``
    ``(n, T)``, ``label`` ``(n,)``."""
    from torch.utils.data import default_collate

    from ferlib.train.engine import make_dataset

    cfg = copy.deepcopy(cfg)
    if sampler is not None:
        cfg.sampler = sampler
    ds = make_dataset(store, store.index().subset(np.asarray(rows)), cfg, train=False)
    if len(ds) == 0:
        raise ValueError("model_inputs got no clips (rows is empty)")
    return default_collate([ds[i] for i in range(len(ds))])


class ClipLogits(nn.Module):
    """A ferlib clip model seen as an image classifier: frames ``(T, 3, H, W)`` of one clip →
    logits ``(1, C)`` (extras dropped). ``landmarks`` ``(T, 68, 2)`` are passed on for
    landmark-guided models (KP-GCN-MSA)."""

    def __init__(self, model: nn.Module, landmarks: torch.Tensor | None = None) -> None:
        super().__init__()
        kind = getattr(model, "input_kind", "frames")
        if kind == "landmarks":
            raise ValueError(f"{type(model).__name__} takes landmark sequences, not frames: Grad-CAM needs a CNN")
        if kind == "frames+landmarks" and landmarks is None:
            raise ValueError(f"{type(model).__name__} is landmark-guided: pass landmarks (T, 68, 2)")
        self.model = model
        self.landmarks = landmarks

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if frames.dim() != 4:
            raise ValueError(f"ClipLogits takes the frames of one clip (T, 3, H, W), got {tuple(frames.shape)}")
        clip = frames.unsqueeze(0)
        if self.landmarks is not None:
            lm = self.landmarks.to(frames.device, frames.dtype)
            if lm.shape[0] != frames.shape[0]:
                raise ValueError(f"landmarks are for {lm.shape[0]} frames, the clip has {frames.shape[0]}")
            logits, _ = self.model(clip, lm.unsqueeze(0))
        else:
            logits, _ = self.model(clip)
        return logits


def default_target_layer(model: nn.Module, sample: torch.Tensor | None = None) -> nn.Module:
    """The layer whose activations Grad-CAM weighs: the last layer of the model's per-frame CNN
    (``model.trunk``) whose output is still a spatial map (more than one cell), found by running
    ``sample`` frames ``(n, 3, H, W)`` through the trunk. Usually that is the trunk itself (its
    last feature map, the usual Grad-CAM choice); a trunk that ends on a 1×1 map (the demo
    ``small_cnn`` with ``whole_map``) gives the map before that last layer. Without ``sample``:
    the trunk."""
    trunk = getattr(model, "trunk", None)
    if not isinstance(trunk, nn.Module):
        raise ValueError(f"{type(model).__name__} has no per-frame CNN at .trunk; Grad-CAM needs one")
    if sample is None:
        return trunk
    calls: list[tuple[nn.Module, tuple[int, ...]]] = []

    def record(module: nn.Module, args: Any, out: Any) -> None:
        if isinstance(out, torch.Tensor):
            calls.append((module, tuple(out.shape)))

    hooks = [m.register_forward_hook(record) for m in trunk.modules()]
    try:
        with torch.no_grad():
            was_training = trunk.training
            trunk.eval()(sample[:1].to(next(trunk.parameters()).device).float())
            trunk.train(was_training)
    finally:
        for h in hooks:
            h.remove()
    spatial = [m for m, shape in calls if len(shape) == 4 and shape[2] * shape[3] > 1]
    if not spatial:
        raise ValueError(f"{type(model).__name__}.trunk has no layer with a spatial map (> 1 cell): nothing for Grad-CAM")
    return spatial[-1]  # hooks fire in call order, a container after its children


CAM_METHODS = ("gradcam", "hirescam")


def choose_cam_method(model: nn.Module, sample: torch.Tensor) -> str:
    """``"gradcam"`` when the target layer is the trunk's own output (what a global average pool
    reads: Grad-CAM's channel weights, the spatial mean of the gradients, are then exact), else
    ``"hirescam"``: a trunk ending on a whole-map layer (demo ``small_cnn``) reads every cell with
    its own weights, the averaged gradient cancels out, and Grad-CAM maps go blank or wrong;
    HiResCAM (gradient × activation per cell, pytorch-grad-cam) stays faithful there."""
    return "gradcam" if default_target_layer(model, sample) is getattr(model, "trunk", None) else "hirescam"


def clip_gradcam(model: nn.Module, frames: torch.Tensor, landmarks: torch.Tensor | None = None,
                 target_class: int | None = None, target_layer: nn.Module | None = None,
                 method: str = "gradcam") -> tuple[np.ndarray, int, np.ndarray]:
    """Grad-CAM of one clip: ``frames`` ``(T, 3, H, W)`` float in [0, 1] (as the model takes them),
    optional ``landmarks`` ``(T, 68, 2)``. Returns ``(cams (T, H, W) float32 in [0, 1], the target
    class, class probabilities (C,))``; the target is the predicted class unless given.
    ``method``: ``"gradcam"`` (pytorch-grad-cam ``GradCAM``) or ``"hirescam"`` (``HiResCAM``; see
    :func:`choose_cam_method`)."""
    from pytorch_grad_cam import GradCAM, HiResCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    if method not in CAM_METHODS:
        raise ValueError(f"method must be one of {CAM_METHODS}, got {method!r}")
    if not isinstance(frames, torch.Tensor) or frames.dim() != 4 or frames.shape[1] != 3:
        raise ValueError(f"frames must be a tensor (T, 3, H, W), got {getattr(frames, 'shape', type(frames))}")
    wrapper = ClipLogits(model, landmarks).eval()
    layer = target_layer if target_layer is not None else default_target_layer(model, frames)
    device = next(model.parameters()).device
    frames = frames.to(device).float()
    with torch.no_grad():
        probs = torch.softmax(wrapper(frames).float(), dim=1)[0].cpu().numpy()
    cls = int(probs.argmax()) if target_class is None else int(target_class)
    if not 0 <= cls < len(probs):
        raise ValueError(f"target_class {cls} is not one of the model's {len(probs)} classes")
    with (GradCAM if method == "gradcam" else HiResCAM)(model=wrapper, target_layers=[layer]) as cam:
        maps = cam(input_tensor=frames, targets=[ClassifierOutputTarget(cls)])
    maps = np.asarray(maps, dtype=np.float32)
    if maps.shape != (frames.shape[0], *frames.shape[-2:]):
        raise RuntimeError(f"Grad-CAM gave maps {maps.shape} for {frames.shape[0]} frames; is the target layer per frame?")
    return np.clip(np.nan_to_num(maps), 0.0, 1.0), cls, probs


def overlay(frames: np.ndarray, cams: np.ndarray, image_weight: float = 0.55) -> np.ndarray:
    """Heat-maps over frames: ``frames`` ``(T, H, W, 3)`` (uint8 or float in [0, 1]) and ``cams``
    ``(T, H, W)`` in [0, 1] → ``(T, H, W, 3)`` uint8 (pytorch-grad-cam's ``show_cam_on_image``)."""
    from pytorch_grad_cam.utils.image import show_cam_on_image

    f = np.asarray(frames)
    if f.dtype == np.uint8:
        f = f.astype(np.float32) / 255.0
    c = np.asarray(cams, dtype=np.float32)
    if f.ndim != 4 or f.shape[-1] != 3 or c.shape != f.shape[:3]:
        raise ValueError(f"frames must be (T, H, W, 3) and cams (T, H, W) of the same T, H, W; got {f.shape} and {c.shape}")
    return np.stack([show_cam_on_image(np.clip(fi, 0, 1), ci, use_rgb=True, image_weight=image_weight)
                     for fi, ci in zip(f, c)])


def gradcam_figure(rows: Sequence[Mapping[str, Any]], max_frames: int = 8) -> Figure:
    """Per clip two rows: the frames, then their Grad-CAM overlays. Each row dict has ``frames``
    ``(T, H, W, 3)``, ``overlays`` ``(T, H, W, 3)`` uint8 and ``title``; optional ``gt`` ``(T,)``
    (ground-truth intensity, written above the frames), ``frame_idx`` ``(T,)`` (the stored
    frame each one is, for the labels) and ``cam_label`` (the map row's label, "Grad-CAM"). ``max_frames`` evenly spaced frames shown."""
    if not rows:
        raise ValueError("gradcam_figure needs at least one clip")
    t_show = max(min(len(r["frames"]), max_frames) for r in rows)
    fig, axes = plt.subplots(2 * len(rows), t_show, figsize=(1.15 * t_show + 1.2, 2.5 * len(rows)), squeeze=False)
    for r, row in enumerate(rows):
        frames, over = np.asarray(row["frames"]), np.asarray(row["overlays"])
        t = len(frames)
        keep = np.round(np.linspace(0, t - 1, min(t, max_frames))).astype(int)
        gt = row.get("gt")
        idx = np.asarray(row.get("frame_idx", np.arange(t)))
        for c in range(t_show):
            for k, img in enumerate((frames, over)):
                ax = axes[2 * r + k, c]
                ax.set_xticks([])
                ax.set_yticks([])
                if c >= len(keep):
                    ax.axis("off")
                    continue
                ax.imshow(img[keep[c]])
                if k == 0:
                    label = f"frame {int(idx[keep[c]])}"
                    if gt is not None and np.isfinite(gt[keep[c]]):
                        label += f"\nI={float(gt[keep[c]]):.2f}"
                    ax.set_title(label, fontsize=7)
        axes[2 * r, 0].set_ylabel("frame", fontsize=8)
        axes[2 * r + 1, 0].set_ylabel(row.get("cam_label", "Grad-CAM"), fontsize=8)
        axes[2 * r, 0].annotate(row.get("title", ""), (0, 1), xycoords="axes fraction", xytext=(0, 24),
                                textcoords="offset points", fontsize=9, ha="left", va="bottom")
    fig.subplots_adjust(hspace=0.45, wspace=0.05)
    return fig


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


def fer_gcn_fig3_figure(frames: np.ndarray, sims: Mapping[str, np.ndarray], to_apex: Mapping[str, np.ndarray],
                        apex: int, gt: np.ndarray | None = None, title: str = "") -> Figure:
    """FER-GCN Fig. 3, measured: the frames of one clip (top, apex boxed), the frame-by-frame
    similarity of its node features at each stage (``sims[name]`` ``(N, N)``, seaborn heatmaps),
    and the similarity of every frame to the apex frame per stage over the test clips
    (``to_apex[name]`` ``(n, N)``, mean ± std, seaborn ``lineplot``) with the clip's ground-truth
    intensity ``gt`` ``(N,)``."""
    names = list(sims)
    if not names or set(names) != set(to_apex):
        raise ValueError("sims and to_apex need the same, non-empty stage names")
    n = len(frames)
    fig = plt.figure(figsize=(max(11.0, 0.6 * n + 1), 5.4))
    outer = fig.add_gridspec(2, 1, height_ratios=[1, 3.4], hspace=0.3)
    strip = outer[0].subgridspec(1, n, wspace=0.04)
    for i in range(n):
        ax = fig.add_subplot(strip[0, i])
        ax.imshow(frames[i])
        ax.set_xticks([])
        ax.set_yticks([])
        for sp in ax.spines.values():
            sp.set_color("C3" if i == apex else "0.7")
            sp.set_linewidth(2.5 if i == apex else 0.5)
        ax.set_title(str(i), fontsize=7)
    fig.suptitle(title, fontsize=9)
    bottom = outer[1].subgridspec(2, len(names) + 1, wspace=0.3, hspace=0.45, height_ratios=[1, 0.05],
                                  width_ratios=[1] * len(names) + [1.7])
    ticks = np.arange(0, n, max(1, n // 4))
    cax = None
    for j, name in enumerate(names):
        ax = fig.add_subplot(bottom[0, j])
        if j == 0:
            cax = fig.add_subplot(bottom[1, :len(names)])
        # seaborn heatmap: cell (i, k) is frame i × frame k; one shared colour bar under the row
        sns.heatmap(np.asarray(sims[name]), vmin=-1, vmax=1, cmap="RdBu_r", square=True, ax=ax, cbar=j == 0,
                    cbar_ax=cax if j == 0 else None, cbar_kws={"orientation": "horizontal"},
                    xticklabels=False, yticklabels=False)
        ax.set_title(f"{name}: frame × frame\nsimilarity (this clip)", fontsize=8)
        ax.set_xlabel("frame", fontsize=8)
        if j == 0:
            ax.set_ylabel("frame", fontsize=8)
        ax.set_xticks(ticks + 0.5, [str(t) for t in ticks])
        ax.set_yticks(ticks + 0.5, [str(t) for t in ticks], rotation=0)
        ax.tick_params(labelsize=6, length=2)
    assert cax is not None
    cax.tick_params(labelsize=6)
    cax.set_xlabel("cosine similarity", fontsize=7)
    ax = fig.add_subplot(bottom[:, -1])
    x = np.arange(n)
    colours = palette(len(names))
    for j, name in enumerate(names):
        v = np.asarray(to_apex[name], dtype=float)
        long = pd.DataFrame({"frame": np.tile(x, len(v)), "similarity": v.ravel()})
        sns.lineplot(data=long, x="frame", y="similarity", color=colours[j], marker=".", errorbar="sd",
                     err_kws={"alpha": 0.15, "lw": 0}, label=name, ax=ax)
    if gt is not None:
        ax.plot(x, np.asarray(gt, dtype=float), "k--", lw=1, label="GT intensity (this clip)")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlabel("frame (node)", fontsize=8)
    ax.set_ylabel("similarity to the apex frame", fontsize=8)
    ax.yaxis.set_label_position("right")
    ax.yaxis.tick_right()
    ax.set_title("similarity to each clip's apex frame\n(test clips, mean ± std)", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=6, loc="lower right")
    return fig
