"""The contract every ferlib model follows.

* Frame models take float clips ``(B, T, C, H, W)`` with values in [0, 1].
* Landmark-guided frame models (kp_gcn_msa) also take ``landmarks`` ``(B, T, 68, 2)`` in
  pixel coordinates ``(x, y)`` of the frames they are given.
* Landmark-only models (stgcn) take ``(B, C, T, V)`` tensors (C = 2 coordinates, V = 68).

``forward`` returns ``(logits, extras)``: logits ``(B, num_classes)`` and a dict of
interpretable by-products (per-frame weights, attentions, embeddings, auxiliary logits), each a
tensor whose first dimension is B.

Backbones run once on the flattened ``B·T`` frames: no Python loop over frames or nodes.
"""

from __future__ import annotations

from typing import Literal

import torch
from torch import nn

InputKind = Literal["frames", "frames+landmarks", "landmarks"]

ModelOutput = tuple[torch.Tensor, dict[str, torch.Tensor]]


class FERModel(nn.Module):
    """Base class: records the input kind and checks clip tensors.

    Subclasses set ``input_kind`` and ``min_frames`` and call :meth:`check_clips` at the top of
    ``forward``.
    """

    input_kind: InputKind = "frames"
    min_frames: int = 1

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an int >= 2, got {num_classes!r}")
        self.num_classes = num_classes

    def check_clips(self, clips: torch.Tensor) -> tuple[int, int]:
        """Validate a ``(B, T, C, H, W)`` clip batch; returns ``(B, T)``."""
        if not isinstance(clips, torch.Tensor):
            raise TypeError(f"{type(self).__name__} expects a tensor (B, T, C, H, W), got {type(clips).__name__}")
        if clips.dim() != 5:
            raise ValueError(
                f"{type(self).__name__} expects clips of shape (B, T, C, H, W) (5 dims), "
                f"got {tuple(clips.shape)} ({clips.dim()} dims)"
            )
        b, t = clips.shape[:2]
        if t < self.min_frames:
            raise ValueError(
                f"{type(self).__name__} needs at least {self.min_frames} frames per clip, got T={t}"
            )
        return b, t

    def check_landmarks(self, landmarks: torch.Tensor | None, b: int, t: int) -> torch.Tensor:
        """Validate ``(B, T, 68, 2)`` landmarks for a clip batch of size (b, t)."""
        if landmarks is None:
            raise ValueError(
                f"{type(self).__name__} is landmark-guided: pass landmarks=(B, T, 68, 2) in pixel "
                "coordinates of the frames (the clip store keeps them for every frame)"
            )
        if landmarks.dim() != 4 or tuple(landmarks.shape[:2]) != (b, t) or landmarks.shape[-1] != 2:
            raise ValueError(
                f"{type(self).__name__} expects landmarks of shape ({b}, {t}, V, 2), got {tuple(landmarks.shape)}"
            )
        return landmarks
