"""Grad-CAM over the frames of a clip, computed (FER-GCN Fig. 1 style); :mod:`ferlib.viz.gradcam` draws it.

Grad-CAM uses pytorch-grad-cam (``pytorch_grad_cam.GradCAM``). Every CNN-based ferlib model keeps
its per-frame CNN at ``model.trunk`` and runs it once on the ``B·T`` frames of a batch;
:class:`ClipLogits` wraps a model so that Grad-CAM sees an image batch — the ``T`` frames
``(T, 3, H, W)`` of one clip — and a logits-only output ``(1, C)``. The target layer is the
trunk's last spatial map (:func:`default_target_layer`); its activations hold one row per frame,
so one backward pass of the clip's class score gives a map for every frame: ``(T, H, W)`` in
[0, 1] (pytorch-grad-cam rescales each frame's map to [0, 1] on its own, so maps compare *where* a
frame is looked at, not *how much*). The target is the predicted class unless one is given.
KP-GCN-MSA's landmarks are bound into the wrapper. Where the trunk ends on a whole-map layer
instead of feeding a global average pool (the demo ``small_cnn``), Grad-CAM's spatially averaged
gradients are not faithful and HiResCAM, its per-cell form in the same library, is used instead
(:func:`choose_cam_method`). :func:`choose_clip` picks one test clip to show for every method.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from pytorch_grad_cam import GradCAM, HiResCAM
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from torch import nn

from ferlib.analysis.inference import model_inputs

__all__ = ["choose_clip", "ClipLogits", "default_target_layer", "CAM_METHODS", "choose_cam_method", "clip_gradcam", "cam_consistency", "consistency_table"]


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


def cam_consistency(cams: np.ndarray) -> float:
    """How much the frames of one clip look at the same place: the mean Pearson correlation between the
    maps of every pair of frames, ``cams`` ``(T, H, W)``; 1 when every frame's map is the same up to scale
    (FER-GCN Fig. 1's claim for its GCN features), near 0 when each frame looks elsewhere. Frames whose
    map is flat (no spread) are left out; NaN when fewer than two are left."""
    flat = np.asarray(cams, dtype=np.float64).reshape(len(cams), -1)
    flat = flat[flat.std(axis=1) > 1e-8]
    if len(flat) < 2:
        return float("nan")
    r = np.corrcoef(flat)
    return float(r[np.triu_indices(len(flat), k=1)].mean())


def consistency_table(models: Mapping[str, tuple[nn.Module, Any]], store: Any, rows: Sequence[int],
                      method: str = "auto") -> pd.DataFrame:
    """:func:`cam_consistency` of the predicted class's maps over the clips ``rows`` of ``store``, per
    model: ``models`` maps a label to ``(model, its run's TrainConfig)`` (each clip sampled as that run
    tests one). One row per label: mean and sd over the clips, and how many clips gave a value.
    ``method``: ``"auto"`` (:func:`choose_cam_method`) or one of :data:`CAM_METHODS`."""
    out = []
    for label, (model, cfg) in models.items():
        values = []
        for r in rows:
            frames = model_inputs(store, [r], cfg)["frames"][0]
            how = choose_cam_method(model, frames) if method == "auto" else method
            values.append(cam_consistency(clip_gradcam(model, frames, method=how)[0]))
        v = np.asarray(values, dtype=float)
        v = v[np.isfinite(v)]
        out.append({"model": label, "consistency_mean": float(v.mean()) if len(v) else float("nan"),
                    "consistency_sd": float(v.std(ddof=1)) if len(v) > 1 else float("nan"), "clips": int(len(v))})
    return pd.DataFrame(out)
