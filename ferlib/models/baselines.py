"""Baselines of the papers' tables: per-frame CNNs, CNN + recurrent layer, and a 3D CNN.

Registered methods (each with a ``demo`` and a ``paper`` size):

* ``cnn_mean`` — per-frame CNN, global average pooling, **mean of the frame features**, linear
  classifier (FER-GCN Table V's "VGG16" row pools this way).
* ``cnn_score_fusion`` — per-frame CNN and classifier, **frame scores fused** (FAN Tables 1–2
  "Score fusion (baseline)": ResNet-18 scores for every frame, summed). ``score_fusion`` chooses
  ``"mean_probs"`` (default: ``log(mean_t softmax(s_t))``, so ``softmax(logits)`` is the mean of the
  frame probabilities, the official evaluation's sum up to a constant, and cross-entropy on it
  trains end to end) or ``"mean_logits"``.
* ``cnn_lstm`` / ``cnn_gru`` — per-frame CNN features → ``nn.LSTM`` / ``nn.GRU`` → classifier
  (FER-GCN Table VI's CNN-LSTM rows). Read-out: the last hidden state (both directions when
  bidirectional) or the mean over time steps (``readout="mean"``).
* ``r3d_18`` — torchvision's 3D ResNet-18 (``width=64``, ``layers=(2, 2, 2, 2)``: the model of
  ``torchvision.models.video.r3d_18`` itself). The ``demo`` size narrows it (``width=8``) with the
  same torchvision blocks so that it trains on a CPU; its state-dict layout stays torchvision's.
  Weights are ``None`` by default; ``weights="KINETICS400_V1"`` loads them from torch's hub cache
  only (never downloaded), drops Kinetics' classifier and normalises inputs with Kinetics' mean/std.

All frame models take clips ``(B, T, C, H, W)`` in [0, 1]; the 2D ones keep their per-frame trunk at
``self.trunk`` and run it once on ``B·T`` frames. ``extras`` keys: ``"embedding"`` ``(B, D)`` (the
clip feature before the classifier; for score fusion the mean frame feature),
``"frame_weights"`` ``(B, T)`` (uniform ``1/T`` where frames are averaged) and, for score fusion,
``"frame_logits"`` ``(B, T, C)``.
"""

from __future__ import annotations

import math
from typing import Any, Literal, Sequence

import torch
import torchvision
from torch import nn
from torchvision.models.video.resnet import BasicBlock, Conv3DSimple

from ferlib.models.backbones import InputNormalisation, build_backbone, load_torchvision_weights
from ferlib.models.base import FERModel, ModelOutput
from ferlib.models.registry import DEMO_DEFAULTS, DEMO_PRETRAINED, MethodSpec, PaperRefs, ModelProfile, cite, register

ScoreFusion = Literal["mean_probs", "mean_logits"]
Pooling = Literal["mean", "score"]

KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)


def fuse_frame_scores(frame_logits: torch.Tensor, mode: ScoreFusion = "mean_probs") -> torch.Tensor:
    """Fuse per-frame class scores ``(B, T, C)`` into clip logits ``(B, C)``.

    ``"mean_probs"``: ``log(1/T Σ_t softmax(s_t))`` (log of the mean frame probability, computed
    with ``logsumexp`` for stability); ``"mean_logits"``: ``1/T Σ_t s_t``.
    """
    if frame_logits.dim() != 3:
        raise ValueError(f"frame_logits must be (B, T, C), got {tuple(frame_logits.shape)}")
    if mode == "mean_probs":
        t = frame_logits.shape[1]
        return torch.logsumexp(torch.log_softmax(frame_logits, dim=-1), dim=1) - math.log(t)
    if mode == "mean_logits":
        return frame_logits.mean(dim=1)
    raise ValueError(f"score_fusion must be 'mean_probs' or 'mean_logits', got {mode!r}")


def frame_features(trunk: nn.Module, clips: torch.Tensor) -> torch.Tensor:
    """Run a 2D trunk once on every frame and average-pool: ``(B, T, C, H, W) -> (B, T, C')``."""
    b, t = clips.shape[:2]
    maps = trunk(clips.flatten(0, 1))  # (B·T, C', h, w)
    return maps.mean(dim=(2, 3)).unflatten(0, (b, t))


def _uniform(b: int, t: int, like: torch.Tensor) -> torch.Tensor:
    return torch.full((b, t), 1.0 / t, dtype=like.dtype, device=like.device)


class FrameCNN(FERModel):
    """Per-frame 2D CNN with ``pooling="mean"`` (mean feature → classifier) or ``"score"`` (classifier
    per frame → :func:`fuse_frame_scores`). ``dropout`` is applied before the classifier."""

    def __init__(
        self,
        num_classes: int,
        backbone: str = "resnet18",
        weights: str | None = None,
        backbone_kwargs: dict[str, Any] | None = None,
        pooling: Pooling = "mean",
        score_fusion: ScoreFusion = "mean_probs",
        dropout: float = 0.0,
    ) -> None:
        super().__init__(num_classes)
        if pooling not in ("mean", "score"):
            raise ValueError(f"pooling must be 'mean' or 'score', got {pooling!r}")
        if score_fusion not in ("mean_probs", "mean_logits"):
            raise ValueError(f"score_fusion must be 'mean_probs' or 'mean_logits', got {score_fusion!r}")
        net = build_backbone(backbone, weights, **(backbone_kwargs or {}))
        self.trunk = net.trunk
        self.input_norm = InputNormalisation()
        self.pooling = pooling
        self.score_fusion = score_fusion
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(net.out_channels, num_classes)

    def forward(self, clips: torch.Tensor) -> ModelOutput:
        b, t = self.check_clips(clips)
        feats = frame_features(self.trunk, self.input_norm(clips))  # (B, T, C')
        embedding = feats.mean(dim=1)
        extras = {"embedding": embedding, "frame_weights": _uniform(b, t, feats)}
        if self.pooling == "mean":
            return self.classifier(self.dropout(embedding)), extras
        frame_logits = self.classifier(self.dropout(feats))  # (B, T, C)
        extras["frame_logits"] = frame_logits
        return fuse_frame_scores(frame_logits, self.score_fusion), extras


class RecurrentCNN(FERModel):
    """Per-frame 2D CNN features ``(B, T, C')`` → ``nn.LSTM``/``nn.GRU`` → ``Dropout`` → ``Linear``."""

    def __init__(
        self,
        num_classes: int,
        backbone: str = "resnet18",
        weights: str | None = None,
        backbone_kwargs: dict[str, Any] | None = None,
        cell: Literal["lstm", "gru"] = "lstm",
        hidden_size: int = 512,
        num_layers: int = 1,
        bidirectional: bool = False,
        readout: Literal["last", "mean"] = "last",
        dropout: float = 0.0,
    ) -> None:
        super().__init__(num_classes)
        rnn_types = {"lstm": nn.LSTM, "gru": nn.GRU}
        if cell not in rnn_types:
            raise ValueError(f"cell must be 'lstm' or 'gru', got {cell!r}")
        if readout not in ("last", "mean"):
            raise ValueError(f"readout must be 'last' or 'mean', got {readout!r}")
        net = build_backbone(backbone, weights, **(backbone_kwargs or {}))
        self.trunk = net.trunk
        self.input_norm = InputNormalisation()
        self.readout = readout
        self.rnn = rnn_types[cell](
            net.out_channels, hidden_size, num_layers=num_layers, batch_first=True, bidirectional=bidirectional
        )
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, clips: torch.Tensor) -> ModelOutput:
        b, t = self.check_clips(clips)
        feats = frame_features(self.trunk, self.input_norm(clips))
        out, state = self.rnn(feats)  # out (B, T, H·dirs)
        if self.readout == "mean":
            embedding = out.mean(dim=1)
        else:
            h_n = state[0] if isinstance(state, tuple) else state  # (layers·dirs, B, H)
            dirs = 2 if self.rnn.bidirectional else 1
            embedding = h_n[-dirs:].transpose(0, 1).flatten(1)  # last layer, every direction
        logits = self.classifier(self.dropout(embedding))
        return logits, {"embedding": embedding}


def _video_resnet_layer(inplanes: int, planes: int, blocks: int, stride: int) -> nn.Sequential:
    """One stage of torchvision's video ResNet (BasicBlock, Conv3DSimple), as its ``_make_layer``."""
    downsample = None
    if stride != 1 or inplanes != planes:
        downsample = nn.Sequential(
            nn.Conv3d(inplanes, planes, kernel_size=1, stride=Conv3DSimple.get_downsample_stride(stride), bias=False),
            nn.BatchNorm3d(planes),
        )
    layers = [BasicBlock(inplanes, planes, Conv3DSimple, stride, downsample)]
    layers += [BasicBlock(planes, planes, Conv3DSimple) for _ in range(1, blocks)]
    return nn.Sequential(*layers)


class R3D(FERModel):
    """torchvision's R3D (3D ResNet with BasicBlocks and full 3×3×3 convolutions).

    ``width=64, layers=(2, 2, 2, 2)`` is ``r3d_18`` exactly (same modules, names and init); other
    widths scale every stage (``w, 2w, 4w, 8w``). Input clips ``(B, T, C, H, W)`` are permuted to the
    video layout ``(B, C, T, H, W)`` inside. ``normalize`` (default: when ``weights`` is given)
    applies Kinetics-400's mean/std, which the pretrained weights expect.
    """

    def __init__(
        self,
        num_classes: int,
        weights: str | None = None,
        width: int = 64,
        layers: Sequence[int] = (2, 2, 2, 2),
        normalize: bool | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__(num_classes)
        if len(layers) != 4 or any(int(n) < 1 for n in layers):
            raise ValueError(f"layers must be 4 positive block counts, got {layers!r}")
        if weights is not None and (width != 64 or tuple(layers) != (2, 2, 2, 2)):
            raise ValueError(f"pretrained weights {weights!r} need width=64 and layers=(2, 2, 2, 2) (r3d_18)")
        self.stem = nn.Sequential(
            nn.Conv3d(3, width, kernel_size=(3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False),
            nn.BatchNorm3d(width),
            nn.ReLU(inplace=True),
        )
        widths = [width * 2**i for i in range(4)]
        inplanes = width
        stages = []
        for i, (planes, blocks) in enumerate(zip(widths, layers)):
            stages.append(_video_resnet_layer(inplanes, planes, int(blocks), 1 if i == 0 else 2))
            inplanes = planes
        self.layer1, self.layer2, self.layer3, self.layer4 = stages
        self.avgpool = nn.AdaptiveAvgPool3d((1, 1, 1))
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(widths[-1], num_classes)
        self._init_like_torchvision()
        if weights is not None:
            state = load_torchvision_weights(f"R3D_18_Weights.{weights}")
            state = {k: v for k, v in state.items() if not k.startswith("fc.")}
            result = self.load_state_dict(state, strict=False)
            missing = [k for k in result.missing_keys if not k.startswith("fc.")]
            if missing or result.unexpected_keys:
                raise ValueError(
                    f"R3D_18_Weights.{weights} does not match r3d_18: missing {missing}, "
                    f"unexpected {result.unexpected_keys}"
                )
        self.normalize = weights is not None if normalize is None else normalize
        self.register_buffer("mean", torch.tensor(KINETICS_MEAN).view(1, 3, 1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(KINETICS_STD).view(1, 3, 1, 1, 1), persistent=False)

    def _init_like_torchvision(self) -> None:
        for m in self.modules():
            if isinstance(m, nn.Conv3d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm3d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, clips: torch.Tensor) -> ModelOutput:
        self.check_clips(clips)
        if clips.shape[2] != 3:
            raise ValueError(f"R3D expects 3-channel clips (B, T, 3, H, W), got {tuple(clips.shape)}")
        x = clips.permute(0, 2, 1, 3, 4)  # (B, C, T, H, W)
        if self.normalize:
            x = (x - self.mean) / self.std
        x = self.layer4(self.layer3(self.layer2(self.layer1(self.stem(x)))))
        embedding = self.avgpool(x).flatten(1)
        return self.fc(self.dropout(embedding)), {"embedding": embedding}


def build_frame_cnn(num_classes: int = 7, **kwargs: Any) -> FrameCNN:
    return FrameCNN(num_classes=num_classes, **kwargs)


def build_recurrent_cnn(num_classes: int = 7, **kwargs: Any) -> RecurrentCNN:
    return RecurrentCNN(num_classes=num_classes, **kwargs)


def build_r3d(num_classes: int = 7, **kwargs: Any) -> R3D:
    return R3D(num_classes=num_classes, **kwargs)


def r3d_18_reference(num_classes: int) -> nn.Module:
    """torchvision's own ``r3d_18`` (no weights), to compare layouts with :class:`R3D`."""
    return torchvision.models.video.r3d_18(weights=None, num_classes=num_classes)


_DEMO_2D = {"backbone": "small_cnn", "backbone_kwargs": {"width": 16}}
_PAPER_2D = {"backbone": "resnet18"}


def _profiles(demo: dict[str, Any], paper: dict[str, Any], paper_input_side: int = 224) -> dict[str, ModelProfile]:
    return {
        "demo": ModelProfile(kwargs=demo, input_side=64, num_frames=16, sampler="chronological"),
        "paper": ModelProfile(kwargs=paper, input_side=paper_input_side, num_frames=16, sampler="chronological"),
    }


# The baselines are rows of the papers' comparison tables, trained with the recipe of the paper that
# compares against them: FAN's for the 2D frame models (CK+, AFEW), Former-DFER's for R(2+1)D/3D CNNs on DFEW.
_FAN_LIKE = {
    **cite("ferlib's choice: FAN's text recipe (FAN paper §3.1), whose tables hold these baselines",
           optimizer="sgd", momentum=0.9, weight_decay=1e-4, batch_size=48, schedule="step", gamma=0.2),
    **cite("ferlib's choice: ImageNet ResNet-18", init_trunk="imagenet"),
    **cite("official Emotion-FAN code (resize 224, flip)", augmentation="resize_flip"),
}
_FRAME_RECIPES = {
    "ckplus": {**_FAN_LIKE, **cite("FAN paper §3.1 (CK+)", lr=0.1, milestones=[30], epochs=60,
                                    protocol=("fan_ckplus", {"k": 10}))},
    "afew": {**_FAN_LIKE, **cite("ferlib's choice: FAN's AFEW schedule with the CK+ lr (4e-6 does not move an "
                                 "ImageNet trunk)", lr=1e-2, milestones=[60, 120], epochs=180)},
    "synth": {**_FAN_LIKE, **cite("ferlib's choice", lr=1e-2, milestones=[30], epochs=60,
                                   protocol=("subject_kfold", {"k": 10}))},
    "demo": {**DEMO_DEFAULTS, **DEMO_PRETRAINED},
}
_FORMER_DFER = "Former-DFER recipe (the DFEW standard; REFERENCES)"
_R3D_RECIPES = {
    "dfew": {**cite(_FORMER_DFER, optimizer="sgd", lr=1e-2, momentum=0.9, weight_decay=1e-4, schedule="step",
                    milestones=[40], gamma=0.1, epochs=100, batch_size=32, sampler="tsn", num_frames=16,
                    test_sampler="tsn", augmentation="former_dfer")},
    "synth": {**cite(_FORMER_DFER, optimizer="sgd", lr=1e-2, momentum=0.9, weight_decay=1e-4, schedule="step",
                     milestones=[40], gamma=0.1, epochs=100, batch_size=32),
              **cite("ferlib's choice", protocol=("subject_kfold", {"k": 10}))},
    "demo": DEMO_DEFAULTS,
}
_PAPERS_2D = PaperRefs()


def _spec(name: str, factory: Any, profiles: dict[str, ModelProfile], recipes: dict[str, Any], description: str,
          cost_row: bool = False) -> MethodSpec:
    return register(MethodSpec(name=name, factory=factory, profiles=profiles, inputs="frames", recipes=recipes,
                               description=description, cost_row=cost_row))


_spec("cnn_mean", build_frame_cnn, _profiles({**_DEMO_2D, "pooling": "mean"}, {**_PAPER_2D, "pooling": "mean"}),
      _FRAME_RECIPES, "per-frame CNN, mean of the frame features", cost_row=True)
_spec("cnn_score_fusion", build_frame_cnn, _profiles({**_DEMO_2D, "pooling": "score"}, {**_PAPER_2D, "pooling": "score"}),
      _FRAME_RECIPES, "per-frame CNN, fused frame scores")
_spec("cnn_lstm", build_recurrent_cnn,
      _profiles({**_DEMO_2D, "cell": "lstm", "hidden_size": 64}, {**_PAPER_2D, "cell": "lstm", "hidden_size": 512}),
      _FRAME_RECIPES, "per-frame CNN + LSTM", cost_row=True)
_spec("cnn_gru", build_recurrent_cnn,
      _profiles({**_DEMO_2D, "cell": "gru", "hidden_size": 64}, {**_PAPER_2D, "cell": "gru", "hidden_size": 512}),
      _FRAME_RECIPES, "per-frame CNN + GRU")
_spec("r3d_18", build_r3d, _profiles({"width": 8}, {"width": 64}, paper_input_side=112), _R3D_RECIPES,
      "torchvision-layout R3D-18 (the 3D-CNN row of the tables)", cost_row=True)
