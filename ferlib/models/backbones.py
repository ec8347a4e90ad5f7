"""Per-frame CNN trunks shared by every frame-based method.

Each builder returns a :class:`Backbone`: a trunk mapping frames ``(N, 3, H, W)`` to a feature
map ``(N, C, h, w)`` plus its channel count ``C``. Methods flatten ``(B, T)`` into ``N = B·T`` and
call the trunk once.

ImageNet weights come only from torchvision's weight enums and only when the user asks for them
(``weights="IMAGENET1K_V1"`` …) *and* the file is already in torch's hub cache: ferlib never
downloads at run time. A missing file raises :class:`FileNotFoundError` naming the path to fill.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

BACKBONES = ("small_cnn", "resnet18", "vgg16_bn")


@dataclass
class Backbone:
    """A trunk ``(N, 3, H, W) -> (N, C, h, w)`` and its output channel count ``C``."""

    trunk: nn.Module
    out_channels: int


def cached_weights_path(enum_name: str) -> Path:
    """Where torch's hub cache keeps the file of a torchvision weight enum, e.g.
    ``"ResNet18_Weights.IMAGENET1K_V1"``."""
    weights = torchvision.models.get_weight(enum_name)
    filename = weights.url.rsplit("/", 1)[-1]
    return Path(torch.hub.get_dir()) / "checkpoints" / filename


def load_torchvision_weights(enum_name: str) -> dict[str, torch.Tensor]:
    """State dict of a torchvision weight enum, from the local cache only."""
    path = cached_weights_path(enum_name)
    if not path.is_file():
        url = torchvision.models.get_weight(enum_name).url
        raise FileNotFoundError(
            f"pretrained weights {enum_name} are not in the local cache: expected {path}. "
            f"ferlib never downloads at run time; fetch {url} on a machine with network access "
            f"and copy it to {path}, or build the model with weights=None."
        )
    return torch.load(path, map_location="cpu", weights_only=True)


def small_cnn(width: int = 32, depth: int = 4, weights: str | Path | None = None, whole_map: int = 0) -> Backbone:
    """A small VGG-style trunk for the CPU ``demo`` profile: ``depth`` blocks of
    conv3×3-BN-ReLU-maxpool2, channels ``width·2^i`` capped at ``8·width``.

    ``whole_map`` > 0 appends a ``whole_map×whole_map`` convolution (no padding) + BN + ReLU that
    sees the whole last map (4 for 64-px input at depth 4) and outputs ``(N, C, 1, 1)``: like
    VGG's first fully connected layer it keeps *where* a feature is, which global average pooling
    discards (on aligned faces, where the brows or mouth corners sit is the expression).

    ``weights`` is a file made by :func:`ferlib.train.pretrain.frame_pretrained` (frame-level
    pre-training on generated faces); a trunk of smaller ``depth`` takes its first blocks."""
    layers: list[nn.Module] = []
    c_in = 3
    c_out = width
    for i in range(depth):
        c_out = min(width * 2**i, 8 * width)
        layers += [
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
            nn.MaxPool2d(2),
        ]
        c_in = c_out
    if whole_map:
        layers += [nn.AdaptiveAvgPool2d(whole_map),  # identity at the intended input size; any size works
                   nn.Conv2d(c_out, c_out, whole_map, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    trunk = nn.Sequential(*layers)
    if weights is not None:
        load_small_cnn_weights(trunk, weights)
    return Backbone(trunk, c_out)


def load_small_cnn_weights(trunk: nn.Module, path: str | Path) -> None:
    """Load a frame-pretrained ``small_cnn`` file into a ``small_cnn`` trunk: every tensor the
    trunk has (a trunk of smaller depth or without ``whole_map`` takes the file's first layers)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"small_cnn weights {path} do not exist; make them with ferlib.train.pretrain.frame_pretrained() "
            "or build the model with weights=None")
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(payload, dict) or "trunk" not in payload or "meta" not in payload:
        raise ValueError(f"{path} is not a ferlib small_cnn weight file (no 'trunk'/'meta' entries)")
    own = trunk.state_dict()
    missing = [k for k in own if k not in payload["trunk"] or payload["trunk"][k].shape != own[k].shape]
    if missing:
        raise ValueError(f"{path} (small_cnn width {payload['meta'].get('width')}, depth {payload['meta'].get('depth')}) "
                         f"does not fit this trunk: no tensor of the right shape for {missing[:3]}")
    trunk.load_state_dict({k: payload["trunk"][k] for k in own})


def _stride_one(stage: nn.Sequential) -> None:
    """Turn the first block of a ResNet stage from stride 2 into stride 1 (same weights)."""
    block = stage[0]
    block.conv1.stride = (1, 1)
    if block.downsample is not None:
        block.downsample[0].stride = (1, 1)


def resnet18(weights: str | None = None, output_stride: int = 32) -> Backbone:
    """torchvision's ResNet-18 without ``avgpool``/``fc``; 512 channels.

    ``output_stride`` 32 is the standard network; 16 sets layer4's stride to 1 and 8 also
    layer3's (the KP-GCN-MSA paper's "stride of the last two convolution layers changed" to get
    a larger feature map). Pretrained weights load unchanged, since only strides differ.
    """
    if output_stride not in (8, 16, 32):
        raise ValueError(f"output_stride must be 8, 16 or 32, got {output_stride!r}")
    net = torchvision.models.resnet18(weights=None)
    if weights is not None:
        net.load_state_dict(load_torchvision_weights(f"ResNet18_Weights.{weights}"))
    if output_stride <= 16:
        _stride_one(net.layer4)
    if output_stride == 8:
        _stride_one(net.layer3)
    trunk = nn.Sequential(
        net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3, net.layer4
    )
    return Backbone(trunk, 512)


def vgg16_bn(weights: str | None = None) -> Backbone:
    """torchvision's VGG16-BN convolutional part (``features``); 512 channels (FER-GCN's CNN)."""
    net = torchvision.models.vgg16_bn(weights=None)
    if weights is not None:
        net.load_state_dict(load_torchvision_weights(f"VGG16_BN_Weights.{weights}"))
    return Backbone(net.features, 512)


def build_backbone(name: str, weights: str | None = None, **kwargs: object) -> Backbone:
    """Build a trunk by name: one of :data:`BACKBONES`."""
    if name == "small_cnn":
        return small_cnn(weights=weights, **kwargs)  # type: ignore[arg-type]
    if name == "resnet18":
        return resnet18(weights, **kwargs)  # type: ignore[arg-type]
    if name == "vgg16_bn":
        return vgg16_bn(weights, **kwargs)  # type: ignore[arg-type]
    raise ValueError(f"unknown backbone {name!r}; expected one of {BACKBONES}")


def run_per_frame(trunk: nn.Module, clips: torch.Tensor) -> torch.Tensor:
    """Apply a trunk to every frame at once: ``(B, T, C, H, W) -> (B, T, C', h, w)``."""
    b, t = clips.shape[:2]
    maps = trunk(clips.flatten(0, 1))
    return maps.unflatten(0, (b, t))
