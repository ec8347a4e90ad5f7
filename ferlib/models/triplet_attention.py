"""Triplet attention (Misra et al., WACV 2021, "Rotate to attend"), used by KP-GCN-MSA eq. 1.

A :class:`TripletAttention` block maps a feature map ``(N, C, H, W)`` to a re-weighted map of the
same shape. Each of its three branches looks at two of the three axes:

* ``cw`` (C–W plane): Z-pool over H, gate of shape ``(N, 1, C, W)``;
* ``hc`` (H–C plane): Z-pool over W, gate of shape ``(N, 1, H, C)``;
* ``hw`` (H–W plane): Z-pool over C, gate of shape ``(N, 1, H, W)`` (the spatial gate).

Z-pool is ``concat(max, mean)`` over the pooled axis (2 maps), then a 2→1 convolution (k = 7,
no bias) → BatchNorm → sigmoid gives the gate, and the branch output is ``x · gate``. The block
averages the three branch outputs. The official code permutes ``x`` before each branch; here the
pooling is done along the axis directly and only the small gate is permuted, which gives the same
numbers (the test compares against a permute-based version) with less memory traffic. The plane
orientation of each convolution follows the official code (``cw`` convolves over ``(C, W)``,
``hc`` over ``(H, C)``), so official weights load unchanged.

Initialisation and what "γ = 0" means
-------------------------------------
The official ImageNet ResNet code zeroes the BatchNorm γ of every key that contains
``"SpatialGate"``, i.e. only the ``hw`` branch (a rule inherited from the CBAM code base). With
γ = 0 and β = 0 that branch's pre-sigmoid map is 0 whatever the input, so its gate is
``sigmoid(0) = 0.5`` everywhere: the ``hw`` branch starts as the input-independent scaling
``0.5·x``. The block as a whole is therefore **not** an identity at start; it is
``x · (0.5 + g_cw + g_hc) / 3`` with the two other gates input-dependent (around 0.5 each), a
uniform damping of about one half on the residual branch. The spatial gate only becomes
input-dependent once γ moves away from 0 (γ receives gradient from the first step). The same
code initialises the gate convolutions with Kaiming-normal (fan-out); both choices are followed
here (``zero_init_spatial=True``) and can be switched off. The newer official module (with the
``cw/hc/hw`` names) is used without that init loop, i.e. with γ = 1.

Checkpoint names
----------------
The official code renamed its branches mid-project: ``ChannelGateH`` → ``cw``,
``ChannelGateW`` → ``hc``, ``SpatialGate`` → ``hw``, and the gate's conv+BN child ``spatial`` →
``conv``. ferlib uses the newer names (``hw.conv.conv.weight``, ``hw.conv.bn.weight`` …);
:func:`load_triplet_attention_state_dict` accepts both, plus a DataParallel ``module.`` prefix
and torchvision ResNet names for ferlib's ``nn.Sequential`` ResNet trunk.

ResNet placement
----------------
:func:`add_triplet_attention` puts a block in every torchvision ``BasicBlock`` after its last BN
(``bn2``) and before the residual addition (8 blocks in ResNet-18), as the official ResNet does.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn
from torchvision.models.resnet import BasicBlock

from ferlib.models.foreign import ForeignLoadReport, StateSource, read_checkpoint

#: old official branch names → names used here
OLD_TO_NEW_BRANCH = {"ChannelGateH": "cw", "ChannelGateW": "hc", "SpatialGate": "hw"}

#: torchvision ResNet top-level names → indices in :func:`ferlib.models.backbones.resnet18`'s trunk
RESNET_TRUNK_NAMES = {
    "conv1": "0",
    "bn1": "1",
    "layer1": "4",
    "layer2": "5",
    "layer3": "6",
    "layer4": "7",
}


def z_pool(x: torch.Tensor, dim: int) -> torch.Tensor:
    """Z-pool: ``concat(max, mean)`` over ``dim``; ``(N, …)`` → ``(N, 2, …)`` with ``dim`` removed.

    Channel 0 is the max, channel 1 the mean (the official order). The max is ``torch.max``'s, as in
    the official code: its gradient goes to one arg-max (``amax`` would share it among ties, at
    several times the cost of a step's backward on small maps)."""
    return torch.stack((x.max(dim=dim).values, x.mean(dim=dim)), dim=1)


class ConvBN(nn.Module):
    """2→1 convolution (no bias, 'same' padding) followed by BatchNorm2d(1).

    BN momentum 0.01 and eps 1e-5 as in the official code (PyTorch momentum convention)."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        if kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be a positive odd int, got {kernel_size!r}")
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=(kernel_size - 1) // 2, bias=False)
        self.bn = nn.BatchNorm2d(1, eps=1e-5, momentum=0.01)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.bn(self.conv(z))


class AttentionGate(nn.Module):
    """One branch's gate: ``(N, 2, P, Q)`` Z-pooled maps → ``sigmoid(BN(conv(z)))`` ``(N, 1, P, Q)``."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = ConvBN(kernel_size)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        # channels-last: oneDNN's 2-channel convolution (and its backward) is 3-4x faster so on a CPU
        return torch.sigmoid(self.conv(z.contiguous(memory_format=torch.channels_last)))


class TripletAttention(nn.Module):
    """Triplet attention on ``(N, C, H, W)`` feature maps; output has the input's shape.

    Args:
        kernel_size: side of each branch's convolution (7 in the paper).
        no_spatial: drop the ``hw`` branch and average the two others (official option).
        zero_init_spatial: start the ``hw`` branch's BN γ at 0 (official ImageNet ResNet init,
            see the module docstring); the gate convolutions get Kaiming-normal fan-out init.
    """

    def __init__(self, kernel_size: int = 7, no_spatial: bool = False, zero_init_spatial: bool = True) -> None:
        super().__init__()
        self.no_spatial = no_spatial
        self.cw = AttentionGate(kernel_size)
        self.hc = AttentionGate(kernel_size)
        self.hw = None if no_spatial else AttentionGate(kernel_size)
        for gate in self.gates():
            nn.init.kaiming_normal_(gate.conv.conv.weight, mode="fan_out", nonlinearity="relu")
        if self.hw is not None and zero_init_spatial:
            nn.init.zeros_(self.hw.conv.bn.weight)

    def gates(self) -> list[AttentionGate]:
        """The branches present, in the order cw, hc, hw."""
        return [g for g in (self.cw, self.hc, self.hw) if g is not None]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4:
            raise ValueError(f"TripletAttention expects (N, C, H, W) feature maps, got shape {tuple(x.shape)}")
        # cw: pool over H -> (N, 2, C, W); gate (N, 1, C, W) -> (N, C, 1, W)
        g_cw = self.cw(z_pool(x, 2)).permute(0, 2, 1, 3)
        # hc: pool over W -> (N, C, H) -> planes (N, 2, H, C); gate (N, 1, H, C) -> (N, C, H, 1)
        g_hc = self.hc(z_pool(x, 3).transpose(-1, -2)).permute(0, 3, 2, 1)
        if self.hw is None:
            return x * ((g_cw + g_hc) / 2)
        # hw: pool over C -> (N, 2, H, W); gate (N, 1, H, W)
        g_hw = self.hw(z_pool(x, 1))
        # mean of the three branch outputs x·g: one multiply with the summed (broadcast) gates
        return x * ((g_cw + g_hc + g_hw) / 3)


class TripletAttentionBasicBlock(nn.Module):
    """A torchvision ``BasicBlock`` with triplet attention after ``bn2``, before the residual sum.

    Keeps the wrapped block's submodules under their names (``conv1``, ``bn1``, ``conv2``,
    ``bn2``, ``downsample``) so torchvision ResNet weights keep their keys, and adds
    ``triplet_attention`` (the official key)."""

    def __init__(self, block: BasicBlock, **triplet_kwargs: object) -> None:
        super().__init__()
        self.conv1 = block.conv1
        self.bn1 = block.bn1
        self.relu = block.relu
        self.conv2 = block.conv2
        self.bn2 = block.bn2
        self.downsample = block.downsample
        self.stride = block.stride
        self.triplet_attention = TripletAttention(**triplet_kwargs)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = self.triplet_attention(out)
        return self.relu(out + identity)


def add_triplet_attention(module: nn.Module, **triplet_kwargs: object) -> int:
    """Insert triplet attention in every torchvision ``BasicBlock`` inside ``module``, in place.

    Works on a torchvision ``resnet18`` and on :func:`ferlib.models.backbones.resnet18`'s trunk.
    Returns how many blocks were wrapped (8 for ResNet-18); raises ``ValueError`` when there is
    none (e.g. the ``small_cnn`` trunk: apply :class:`TripletAttention` to its output instead).
    """
    count = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, BasicBlock):
                setattr(parent, name, TripletAttentionBasicBlock(child, **triplet_kwargs))
                count += 1
    if count == 0:
        raise ValueError(
            f"add_triplet_attention found no torchvision BasicBlock in {type(module).__name__}; "
            "it needs a ResNet-18/34 trunk (use TripletAttention on the output map otherwise)"
        )
    return count


def _translate_key(key: str) -> str:
    """Old official branch names → new ones (``ChannelGateH.spatial.x`` → ``cw.conv.x``)."""
    parts = key.split(".")
    out: list[str] = []
    i = 0
    while i < len(parts):
        part = parts[i]
        if part in OLD_TO_NEW_BRANCH:
            out.append(OLD_TO_NEW_BRANCH[part])
            if i + 1 < len(parts) and parts[i + 1] == "spatial":
                out.append("conv")
                i += 1
        else:
            out.append(part)
        i += 1
    return ".".join(out)


def _to_trunk_key(key: str) -> str:
    """torchvision ResNet name → name inside ferlib's ``nn.Sequential`` ResNet trunk."""
    head, _, rest = key.partition(".")
    return f"{RESNET_TRUNK_NAMES[head]}.{rest}" if head in RESNET_TRUNK_NAMES and rest else key


def load_triplet_attention_state_dict(
    module: nn.Module,
    source: StateSource,
    strict: bool = True,
    ignore_prefixes: tuple[str, ...] = ("fc.",),
    weights_only: bool = True,
) -> ForeignLoadReport:
    """Load official triplet-attention weights (either naming scheme; a file or a state dict) into
    ``module``; returns the :class:`~ferlib.models.foreign.ForeignLoadReport`.

    Accepts a bare :class:`TripletAttention`, a model holding such blocks, a ResNet with
    :func:`add_triplet_attention` applied, or ferlib's ResNet trunk (``nn.Sequential`` whose keys
    are ``0.``, ``1.``, ``4.``…``7.`` instead of ``conv1``, ``bn1``, ``layer1``…``layer4``).
    Keys are rewritten as follows: a ``module.`` prefix (DataParallel) is dropped; old branch
    names ``ChannelGateH``/``ChannelGateW``/``SpatialGate`` (with child ``spatial``) become
    ``cw``/``hc``/``hw`` (child ``conv``); torchvision ResNet names are mapped to trunk indices
    when the module uses those. A checkpoint dict wrapping its weights under ``"state_dict"`` (the
    official training script's ``{'epoch', 'arch', 'state_dict', …}``) is unwrapped; files are
    read with ``torch.load(weights_only=True)``. Keys starting with one of ``ignore_prefixes``
    (a classifier) are skipped when the module has no such key and listed under ``dropped``.

    ``strict``: a checkpoint key with no place in the module, or a module key the checkpoint does
    not fill (``num_batches_tracked`` counters aside), raises ``ValueError`` naming them; with
    ``strict=False`` they are listed under ``unexpected`` / ``missing``. A shape difference
    always raises ``ValueError``.
    """
    state_dict = read_checkpoint(source, weights_only=weights_only)
    where = str(source) if isinstance(source, (str, Path)) else "checkpoint"
    own = module.state_dict()
    report = ForeignLoadReport()
    translated: dict[str, torch.Tensor] = {}
    for key, value in state_dict.items():
        new = key[len("module.") :] if key.startswith("module.") else key
        new = _translate_key(new)
        if new not in own and _to_trunk_key(new) in own:
            new = _to_trunk_key(new)
        if new not in own:
            (report.dropped if new.startswith(ignore_prefixes) else report.unexpected).append(key)
            continue
        if new in translated:
            raise ValueError(f"{where} has two keys that both map to {new!r} (second: {key!r})")
        if tuple(value.shape) != tuple(own[new].shape):
            raise ValueError(f"{where} key {key!r} has shape {tuple(value.shape)}, the module's {new!r} has {tuple(own[new].shape)}")
        translated[new] = value
    report.missing = sorted(k for k in own if k not in translated and not k.endswith("num_batches_tracked"))
    if strict and (report.unexpected or report.missing):
        raise ValueError(
            f"{where} does not match {type(module).__name__} (strict=True): keys with no place in the module "
            f"{report.unexpected[:6]}, module keys not in the checkpoint {report.missing[:6]}"
        )
    if not translated:
        raise ValueError(f"{where} has no triplet-attention or ResNet key of {type(module).__name__} (first keys: {list(state_dict)[:5]})")
    module.load_state_dict(translated, strict=False)
    report.loaded = sorted(translated)
    return report
