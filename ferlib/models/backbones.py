"""Per-frame CNN trunks shared by every frame-based method.

Each builder returns a :class:`Backbone`: a trunk mapping frames ``(N, 3, H, W)`` to a feature
map ``(N, C, h, w)`` plus its channel count ``C``. Methods flatten ``(B, T)`` into ``N = B·T`` and
call the trunk once.

Pretrained torchvision weights (``weights="IMAGENET1K_V1"`` …, only when asked for) come through
torchvision's own weights API, :meth:`WeightsEnum.get_state_dict` (``check_hash=True``,
``weights_only=True``): online, the file is downloaded once into torch's hub cache
(``$TORCH_HOME/hub/checkpoints``, see :func:`torch.hub.get_dir`) and read from there afterwards.
With ``FERLIB_OFFLINE=1`` (or no network) a file missing from the cache raises
:class:`WeightsNotCachedError` (a :class:`FileNotFoundError`) naming the file, the cache path and
how to fill it. A cached file whose SHA-256 does not start with the hash in its name (a
truncated or corrupt download) raises :class:`ValueError` naming it; torch checks the hash only
while downloading, so ferlib checks it on every read.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from dataclasses import dataclass
from typing import Any
from pathlib import Path
from urllib.parse import urlparse

import torch
import torchvision
from torch import nn
from torchvision.models import WeightsEnum

BACKBONES = ("small_cnn", "resnet18", "vgg16_bn")


@dataclass
class Backbone:
    """A trunk ``(N, 3, H, W) -> (N, C, h, w)`` and its output channel count ``C``."""

    trunk: nn.Module
    out_channels: int


#: frames per call of a :class:`FrameTrunk`'s layers where chunks cannot change a number (see there):
#: a chunk's activations (a few MB at the demo's 64 px) stay in the core's cache, where the
#: memory-bound layers (batch norm and max-pool at full resolution) run several times faster than
#: over hundreds of frames at once (``benchmarks/bench_models.py``, column chunked/one-call)
CPU_CHUNK_FRAMES = 32


def max_pool_2x2(x: torch.Tensor) -> torch.Tensor:
    """``F.max_pool2d(x, 2)`` of ``(N, C, H, W)`` maps stored channels-last, H and W even, as two elementwise
    maxima (of column pairs, then of row pairs): the same values, NaN included, and on a CPU faster than the
    pooling kernel on the demo's maps (what it buys a whole model: ``benchmarks/bench_models.py``, column
    maxima/kernel). Forward only: the gradient of ``torch.maximum`` splits ties, the kernel's goes to one cell."""
    v = x.permute(0, 2, 3, 1)  # (N, H, W, C), contiguous
    cols = torch.maximum(v[:, :, 0::2], v[:, :, 1::2])
    return torch.maximum(cols[:, 0::2], cols[:, 1::2]).permute(0, 3, 1, 2)


def _pools_2x2(layer: nn.Module, x: torch.Tensor) -> bool:
    """Whether ``layer(x)`` is a plain 2×2, stride-2 max-pool that :func:`max_pool_2x2` computes."""
    return (type(layer) is nn.MaxPool2d and x.device.type == "cpu" and x.dim() == 4
            and layer.kernel_size in (2, (2, 2)) and layer.stride in (2, (2, 2)) and layer.padding in (0, (0, 0))
            and layer.dilation in (1, (1, 1)) and not layer.return_indices
            and x.shape[-1] % 2 == 0 and x.shape[-2] % 2 == 0 and x.is_contiguous(memory_format=torch.channels_last))


class FrameTrunk(nn.Sequential):
    """A per-frame CNN ``(N, 3, H, W) -> (N, C, h, w)``: an ``nn.Sequential`` (same children, same
    state-dict keys) that runs its frames in chunks of :data:`CPU_CHUNK_FRAMES` on a CPU wherever
    each frame's output depends on that frame alone, so the numbers are those of one call:

    * evaluating (eval mode, no gradients): the whole trunk, chunk by chunk;
    * training: its frozen stem (the leading layers with no trainable parameter and no batch norm
      on batch statistics, e.g. ``freeze_trunk``'s block) runs without autograd, chunk by chunk
      (nothing upstream needs a gradient), then the rest on all frames at once.

    Without autograd its 2×2 max-pools on channels-last maps run as :func:`max_pool_2x2` (the same values).

    ``chunk_frames`` (default :data:`CPU_CHUNK_FRAMES`; 0: never chunk) sets the chunk."""

    chunk_frames: int = CPU_CHUNK_FRAMES
    maxima_pool: bool = True  # False: every max-pool through its own kernel (for benchmarks/bench_models.py)

    def _frozen_stem(self) -> int:
        """How many leading children hold no trainable parameter and no batch norm in training mode."""
        for k, child in enumerate(self):
            if any(p.requires_grad for p in child.parameters()) or any(
                    isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.modules.dropout._DropoutNd)) and m.training
                    for m in child.modules()):
                return k
        return len(self)

    def _chunked(self, layers: list[nn.Module], x: torch.Tensor) -> torch.Tensor:
        chunk = int(self.chunk_frames)
        parts = x.split(chunk) if x.device.type == "cpu" and 0 < chunk < len(x) else (x,)
        outs = []
        for part in parts:
            for layer in layers:  # no autograd here: a 2×2 max-pool may take the faster route
                part = max_pool_2x2(part) if self.maxima_pool and _pools_2x2(layer, part) else layer(part)
            outs.append(part)
        return outs[0] if len(outs) == 1 else torch.cat(outs)

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        if not torch.is_grad_enabled():
            return self._chunked(list(self), frames) if not self.training else super().forward(frames)
        stem = self._frozen_stem() if self.training else 0
        if stem == 0:
            return super().forward(frames)
        layers = list(self)
        with torch.no_grad():
            x = self._chunked(layers[:stem], frames)
        for layer in layers[stem:]:
            x = layer(x)
        return x


class InputNormalisation(nn.Module):
    """``(x - mean) / std`` per colour channel on frames ``(..., 3, H, W)`` in [0, 1]: the input
    normalisation the trunk's weights were trained with, applied inside the model so that every
    path (training, evaluation, Grad-CAM, transfer) feeds the trunk what it expects.

    Identity (mean 0, std 1) until :func:`ferlib.models.trunks.load_trunk` sets it from the trunk
    source (torchvision weights: their ``transforms()`` mean/std; Emotion-FAN: none, as its code
    feeds ``ToTensor()`` output). The buffers travel inside checkpoints; a checkpoint made before
    they existed loads as identity, which is what its model was trained with."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(3, 1, 1))
        self.register_buffer("std", torch.ones(3, 1, 1))
        self.identity = True  # skip the arithmetic (and accept any channel count) while it is identity

    def set(self, mean: list[float] | tuple[float, ...], std: list[float] | tuple[float, ...]) -> None:
        """Use ``mean``/``std`` (three values each, for [0, 1] pixels)."""
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype).view(3, 1, 1))
        self.std.copy_(torch.as_tensor(std, dtype=self.std.dtype).view(3, 1, 1))
        self._update()

    def _update(self) -> None:
        self.identity = bool((self.mean == 0).all() and (self.std == 1).all())

    def values(self) -> tuple[list[float], list[float]]:
        """``(mean, std)`` as lists."""
        return self.mean.flatten().tolist(), self.std.flatten().tolist()

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return frames if self.identity else (frames - self.mean) / self.std

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs) -> None:  # noqa: ANN001 - torch's signature
        for name in ("mean", "std"):  # a checkpoint without them: identity, as its model was trained
            state_dict.setdefault(prefix + name, torch.zeros(3, 1, 1) if name == "mean" else torch.ones(3, 1, 1))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)
        self._update()


#: environment switch that forbids downloads (``1``, ``true``, ``yes`` or ``on``), in the spirit of
#: ``HF_HUB_OFFLINE``: files must then already be in torch's hub cache
OFFLINE_ENV = "FERLIB_OFFLINE"


class WeightsNotCachedError(FileNotFoundError):
    """A weight file is not in the local cache and cannot be downloaded (offline, or no network)."""


def is_offline() -> bool:
    """Whether :data:`OFFLINE_ENV` forbids downloads."""
    return os.environ.get(OFFLINE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def hub_checkpoints_dir() -> Path:
    """torch's hub cache for weight files: ``<torch.hub.get_dir()>/checkpoints``."""
    return Path(torch.hub.get_dir()) / "checkpoints"


def get_weights(weights: str | WeightsEnum) -> WeightsEnum:
    """A torchvision weight enum member from its name (``"ResNet18_Weights.IMAGENET1K_V1"``) or itself."""
    return torchvision.models.get_weight(weights) if isinstance(weights, str) else weights


def weights_name(weights: str | WeightsEnum) -> str:
    """``"ResNet18_Weights.IMAGENET1K_V1"`` for a weight enum member or its name."""
    w = get_weights(weights)
    return f"{type(w).__name__}.{w.name}"


def cached_weights_path(weights: str | WeightsEnum) -> Path:
    """Where torch's hub cache keeps the file of a torchvision weight enum, e.g.
    ``"ResNet18_Weights.IMAGENET1K_V1"`` → ``<hub>/checkpoints/resnet18-f37072fd.pth``."""
    url = get_weights(weights).url
    return hub_checkpoints_dir() / os.path.basename(urlparse(url).path)


def ferlib_cache_dir() -> Path:
    """ferlib's own cache (never torch's hub cache): ``$FERLIB_CACHE``, or ``~/.cache/ferlib``."""
    return Path(os.environ.get("FERLIB_CACHE", Path.home() / ".cache" / "ferlib"))


SEAL_SUFFIX = ".sha256"


class SealError(ValueError):
    """A file ferlib wrote no longer has the size and SHA-256 recorded beside it when it was written."""


def _digest(path: Path) -> list[Any]:
    with open(path, "rb") as f:
        return [path.stat().st_size, hashlib.file_digest(f, "sha256").hexdigest()]


def replace_sealed(tmp: str | Path, final: str | Path) -> Path:
    """Move the finished file ``tmp`` onto ``final`` (``os.replace``) after recording its size and
    SHA-256 in ``<final>.sha256``. The record keeps the digest of the file it replaces too, so a
    kill between the two renames leaves a pair that still checks (:func:`check_sealed`)."""
    tmp, final = Path(tmp), Path(final)
    side = final.with_name(final.name + SEAL_SUFFIX)
    known: list[Any] = []
    if final.is_file():
        try:  # the record of the file being replaced, when its size still fits (not re-hashed: one hash a save)
            known = [d for d in json.loads(side.read_text())["digests"][:1] if d[0] == final.stat().st_size]
        except (OSError, ValueError, KeyError, TypeError, IndexError):
            known = []
    record = {"file": final.name, "digests": [_digest(tmp), *known]}
    side_tmp = side.with_name(f".{side.name}.{os.getpid()}.tmp")
    side_tmp.write_text(json.dumps(record))
    os.replace(side_tmp, side)
    os.replace(tmp, final)
    return final


def check_sealed(path: str | Path) -> None:
    """Raise :class:`SealError` (one line naming ``path``) when ``path`` differs in size or SHA-256
    from what :func:`replace_sealed` recorded; a file without a record (written before records
    existed, or by someone else) passes."""
    path = Path(path)
    side = path.with_name(path.name + SEAL_SUFFIX)
    if not side.is_file():
        return
    try:
        digests = json.loads(side.read_text())["digests"]
    except (OSError, ValueError, KeyError, TypeError):
        raise SealError(f"{side} (the size and SHA-256 ferlib recorded for {path.name}) is corrupt; "
                        f"delete {path} and {side.name} to make them again") from None
    got = _digest(path)
    if got not in digests:
        size, sha = digests[0]
        raise SealError(f"{path} changed after ferlib wrote it ({got[0]} bytes, sha256 {got[1][:12]}; recorded "
                        f"{size} bytes, sha256 {sha[:12]}): it is not loaded; delete it (and {side.name}) to make it again")


def sha256_file(path: str | Path, chunk: int = 1 << 22) -> str:
    """Hex SHA-256 of a file, read in 4 MiB chunks.

    Hashing runs at about 0.4–1.5 GB/s (1.4 s for VGG16-BN's 528 MiB on a busy 2-core machine), so
    digests are remembered in ``<ferlib cache>/sha256.json`` under the file's absolute path, size
    and modification time; a file rewritten, truncated or replaced is hashed again."""
    path = Path(path).resolve()
    st = path.stat()
    stamp = [st.st_size, st.st_mtime_ns]
    memo_path = ferlib_cache_dir() / "sha256.json"
    try:
        memo = json.loads(memo_path.read_text())
    except (OSError, ValueError):
        memo = {}
    known = memo.get(str(path)) if isinstance(memo, dict) else None
    if isinstance(known, list) and known[:2] == stamp and isinstance(known[-1], str):
        return known[-1]
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    memo = memo if isinstance(memo, dict) else {}
    memo[str(path)] = [*stamp, digest.hexdigest()]
    try:  # best effort: a read-only cache only costs the hashing time
        memo_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo_path.with_name(f".sha256.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(dict(list(memo.items())[-256:])))
        os.replace(tmp, memo_path)
    except OSError:
        pass
    return digest.hexdigest()


def verify_hash_prefix(path: Path, sha256: str | None = None) -> str:
    """The file's SHA-256, after checking it against the hash prefix torch's naming convention puts
    in the file name (``resnet18-f37072fd.pth``); names without one are not checked. A mismatch
    raises :class:`ValueError` naming the file and how to repair it."""
    sha256 = sha256 or sha256_file(path)
    match = torch.hub.HASH_REGEX.search(path.name)
    if match and match.group(1) and not sha256.startswith(match.group(1)):
        raise ValueError(
            f"cached weight file {path} is corrupt or truncated: its SHA-256 starts with {sha256[:len(match.group(1))]}, "
            f"its name promises {match.group(1)} ({path.stat().st_size} bytes); delete it and run again online "
            "to download it anew"
        )
    return sha256


@dataclass
class WeightsFile:
    """A torchvision weight file read from the hub cache: its state dict, path and SHA-256."""

    state_dict: dict[str, torch.Tensor]
    path: Path
    sha256: str
    name: str


def fetch_torchvision_weights(weights: str | WeightsEnum, progress: bool = True) -> WeightsFile:
    """Read a torchvision weight file through ``WeightsEnum.get_state_dict`` (downloading it into
    torch's hub cache first when it is missing and downloads are allowed), hash-checked, with
    ``weights_only=True``.

    Raises :class:`WeightsNotCachedError` when the file is missing and offline (:data:`OFFLINE_ENV`)
    or the download fails, and :class:`ValueError` naming the file when it is corrupt, truncated or
    not a state dict."""
    w = get_weights(weights)
    name = weights_name(w)
    path = cached_weights_path(w)
    how = (f"download {w.url} on a machine with network access and copy it to {path} "
           f"(the hub cache is $TORCH_HOME/hub, now {torch.hub.get_dir()})")
    state = None
    if not path.is_file():
        if is_offline():
            raise WeightsNotCachedError(
                f"pretrained weights {name} are not in torch's hub cache: expected {path}, and downloads are off "
                f"({OFFLINE_ENV}={os.environ.get(OFFLINE_ENV)}); {how}, or unset {OFFLINE_ENV} to let torchvision download it")
        try:
            state = w.get_state_dict(progress=progress, check_hash=True, weights_only=True)
        except Exception as err:
            detail = " ".join(str(err).split())[:200]
            if not path.is_file():  # nothing arrived: no network, or the server refused
                if isinstance(err, RuntimeError):  # torch.hub: "invalid hash value" of the downloaded bytes
                    raise ValueError(f"downloading {w.url} to {path} failed: {detail}") from err
                raise WeightsNotCachedError(
                    f"pretrained weights {name} are not in torch's hub cache ({path}) and downloading {w.url} "
                    f"failed ({detail}); {how}") from err
            raise ValueError(f"downloaded {path} ({name}) but could not read it: {detail}") from err
    sha256 = verify_hash_prefix(path)
    if state is None:
        try:
            if zipfile.is_zipfile(path):  # torch.save's format: memory-map it, so only the tensors a trunk
                # takes are read from disk (VGG16-BN's classifier, 470 of its 528 MiB, never is)
                state = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
            else:  # a legacy file (or a truncated one): read whole, as load_state_dict_from_url does on a hit
                state = w.get_state_dict(progress=False, check_hash=True, weights_only=True)
        except Exception as err:  # torch raises many types for a truncated or foreign file
            raise ValueError(
                f"could not read cached weight file {path} ({name}): {' '.join(str(err).split())[:300]}; "
                "delete it and run again online to download it anew") from err
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"cached weight file {path} ({name}) does not hold a state dict of tensors")
    return WeightsFile(state, path, sha256, name)


def load_torchvision_weights(weights: str | WeightsEnum, progress: bool = True) -> dict[str, torch.Tensor]:
    """State dict of a torchvision weight enum (see :func:`fetch_torchvision_weights`)."""
    return fetch_torchvision_weights(weights, progress).state_dict


def small_cnn(width: int = 32, depth: int = 4, weights: str | Path | None = None, whole_map: int = 0) -> Backbone:
    """A small VGG-style trunk for the CPU ``demo`` size: ``depth`` blocks of
    conv3×3-BN-ReLU-maxpool2, channels ``width·2^i`` capped at ``8·width``. Each block pools before
    its ReLU: max and ReLU commute, so the numbers (and their gradients) are those of
    conv-BN-ReLU-pool, with the ReLU on a quarter of the cells.

    ``whole_map`` > 0 appends a ``whole_map×whole_map`` convolution (no padding) + BN + ReLU that
    sees the whole last map (4 for 64-px input at depth 4) and outputs ``(N, C, 1, 1)``: like
    VGG's first fully connected layer it keeps *where* a feature is, which global average pooling
    discards (on aligned faces, where the brows or mouth corners sit is the expression).

    ``weights`` is a file made by :func:`ferlib.experiments.pretrain.frame_pretrained` (frame-level
    pre-training on generated faces); a trunk of smaller ``depth`` takes its first blocks."""
    layers: list[nn.Module] = []
    c_in = 3
    c_out = width
    for i in range(depth):
        c_out = min(width * 2**i, 8 * width)
        layers += [
            nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.MaxPool2d(2),
            nn.ReLU(inplace=True),
        ]
        c_in = c_out
    if whole_map:
        layers += [nn.AdaptiveAvgPool2d(whole_map),  # identity at the intended input size; any size works
                   nn.Conv2d(c_out, c_out, whole_map, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
    trunk = FrameTrunk(*layers)
    if weights is not None:
        load_small_cnn_weights(trunk, weights)
    return Backbone(trunk, c_out)


def load_small_cnn_weights(trunk: nn.Module, path: str | Path) -> None:
    """Load a frame-pretrained ``small_cnn`` file into a ``small_cnn`` trunk: every tensor the
    trunk has (a trunk of smaller depth or without ``whole_map`` takes the file's first layers)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"small_cnn weights {path} do not exist; make them with ferlib.experiments.pretrain.frame_pretrained() (`python -m ferlib pretrain`) "
            "or build the model with weights=None")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated, corrupt, or pickled Python objects (refused by weights_only)
        raise ValueError(f"could not read {path} as a small_cnn weight file: {' '.join(str(err).split())[:300]}") from err
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
    trunk = FrameTrunk(
        net.conv1, net.bn1, net.relu, net.maxpool, net.layer1, net.layer2, net.layer3, net.layer4
    )
    return Backbone(trunk, 512)


def vgg16_bn(weights: str | None = None) -> Backbone:
    """torchvision's VGG16-BN convolutional part (``features``); 512 channels (FER-GCN's CNN)."""
    net = torchvision.models.vgg16_bn(weights=None)
    if weights is not None:
        net.load_state_dict(load_torchvision_weights(f"VGG16_BN_Weights.{weights}"))
    return Backbone(FrameTrunk(*net.features), 512)  # torchvision's features: the same children and keys


def build_backbone(name: str, weights: str | None = None, **kwargs: object) -> Backbone:
    """Build a trunk by name: one of :data:`BACKBONES`."""
    if name == "small_cnn":
        return small_cnn(weights=weights, **kwargs)  # type: ignore[arg-type]
    if name == "resnet18":
        return resnet18(weights, **kwargs)  # type: ignore[arg-type]
    if name == "vgg16_bn":
        return vgg16_bn(weights, **kwargs)  # type: ignore[arg-type]
    raise ValueError(f"unknown backbone {name!r}; expected one of {BACKBONES}")


class FrozenBatchNorm2d(nn.BatchNorm2d):
    """A ``BatchNorm2d`` that normalises with its running statistics whatever the model's mode:
    ``train()`` leaves it in eval mode, so its statistics never move. Same parameters and buffers
    (and state-dict keys) as the ``BatchNorm2d`` it replaces; torchvision's ``FrozenBatchNorm2d``
    drops ``num_batches_tracked``, so checkpoints of frozen and unfrozen runs would not share keys."""

    def train(self, mode: bool = True) -> "FrozenBatchNorm2d":
        return super().train(False)


def freeze_leading_convs(trunk: nn.Module, n: int) -> list[str]:
    """Keep the first ``n`` convolutions of ``trunk`` (in module order), each with the
    ``BatchNorm2d`` right after it, as they start: no gradient, and the BatchNorm replaced by a
    :class:`FrozenBatchNorm2d` (running statistics, fixed). The usual way to fine-tune a
    pre-trained stem (Detectron2's ``FREEZE_AT``, torchvision's ``trainable_backbone_layers``); on a
    CPU it also spares the backward pass through the largest feature maps. Returns the frozen
    modules' names; a trunk with fewer than ``n`` conv → BatchNorm pairs raises ``ValueError``."""
    if n < 0:
        raise ValueError(f"the number of frozen convolutions must be >= 0, got {n}")
    named = list(trunk.named_modules())
    pairs = [(named[i], named[i + 1]) for i in range(len(named) - 1)
             if isinstance(named[i][1], nn.Conv2d) and type(named[i + 1][1]) in (nn.BatchNorm2d, FrozenBatchNorm2d)]
    if len(pairs) < n:
        raise ValueError(f"cannot freeze {n} convolutions: the trunk has {len(pairs)} convolutions followed by a BatchNorm2d")
    frozen: list[str] = []
    for (conv_name, conv), (bn_name, bn) in pairs[:n]:
        conv.requires_grad_(False)
        if type(bn) is nn.BatchNorm2d:
            new = FrozenBatchNorm2d(bn.num_features, bn.eps, bn.momentum, bn.affine, bn.track_running_stats)
            new.load_state_dict(bn.state_dict())
            parent = trunk.get_submodule(bn_name.rpartition(".")[0]) if "." in bn_name else trunk
            setattr(parent, bn_name.rpartition(".")[2], new)
            bn = new
        bn.requires_grad_(False).eval()
        frozen += [conv_name, bn_name]
    return frozen
