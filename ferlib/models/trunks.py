"""Where a model's per-frame CNN (its ``trunk``) starts from: one entry point, :func:`load_trunk`.

Every paper here starts its CNN from weights trained on still images, and its numbers depend on
them. ``TrainConfig.init_trunk`` (``--trunk`` on the command line) names the start:

==================  ===========================================================================
``source``          what it loads
==================  ===========================================================================
``""``              nothing: the trunk keeps torch's random initialisation (the report says so)
``"synth-frames"``  the demo model's frame-level pre-training of ``small_cnn`` on generated faces
                    (:func:`ferlib.experiments.pretrain.frame_pretrained`, made once, ≈ 1 min on a
                    CPU, by ``python -m ferlib pretrain`` or by the entry points that train; here a
                    missing file is an error naming it and that command)
``"imagenet"``      torchvision's ImageNet weights of the trunk's architecture: ``resnet18`` →
                    ``ResNet18_Weights.IMAGENET1K_V1``, ``vgg16_bn`` → ``VGG16_BN_Weights.IMAGENET1K_V1``,
                    through torchvision's weights API (downloaded once into torch's hub cache;
                    ``FERLIB_OFFLINE=1`` forbids the download, see :mod:`ferlib.models.backbones`)
``"emotion-fan"``   the official Emotion-FAN ResNet-18 pre-trained on MS-Celeb-1M and FER+
                    (``Resnet18_FER+_pytorch.pth.tar``), looked for in
                    ``<torch hub dir>/checkpoints/``; it cannot be downloaded automatically (the
                    official repository links it from its README), so a missing file is an error
                    naming the path to fill
a file path         format detected: a ferlib ``small_cnn`` file, the Emotion-FAN layout
                    (``module.``-prefixed torchvision names in a dict with ``state_dict``), a plain
                    torchvision ResNet-18 / VGG16-BN state dict, the official triplet-attention
                    ResNet (either naming), or a state dict of the trunk itself
==================  ===========================================================================

What each method's paper used, and so the ``init_trunk`` of its paper recipes (the model files' ``RECIPES``):
FER-GCN: VGG16-BN "initialized with the pre-trained model on ImageNet" (FER-GCN paper) →
``"imagenet"``; FAN: ResNet-18 "pre-trained on MS-Celeb-1M face recognition dataset and FER-Plus
expression dataset" (FAN paper, sec. 3.1) → ``"emotion-fan"``; KP-GCN-MSA: not said →
``"imagenet"`` (ferlib's choice); the ``cnn_*`` baselines → ``"imagenet"``; ST-GCN and ``r3d_18``
have no per-frame trunk → ``""``.

Input normalisation: each source carries the pixel normalisation its weights were trained with,
and :func:`load_trunk` sets it in the model's :class:`ferlib.models.backbones.InputNormalisation`
(``model.input_norm``), so that the model still takes [0, 1] pixels and every path (training,
evaluation, Grad-CAM, transfer) gets it: ``"imagenet"`` → the mean/std of the torchvision
weights' ``transforms()``; ``"emotion-fan"`` → none (the official ``load.py`` feeds ``ToTensor()``
output unnormalised); ``"synth-frames"``, ``""`` and files → none (a file does not say; ferlib's
own files were trained on [0, 1] pixels).

Rules: every file is read with ``torch.load(weights_only=True)`` (a file that pickles Python
objects is refused, never executed); a classifier in the file (``fc``, ``classifier``, FAN's heads)
is dropped and reported; triplet-attention modules of KP-GCN-MSA's trunk that the file lacks keep
their initialisation and are reported as missing; anything else that does not fit — a file for
another architecture, a truncated or corrupt file, a missing file — raises one error naming the
file. A source never silently falls back to random weights. :func:`describe_trunk` says, without
building or loading anything, which file a source resolves to, whether it is there and its
checksum (for a planning printout before training).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import torch
import torchvision
from torch import nn
from torchvision.models import WeightsEnum

from ferlib.models.backbones import (
    OFFLINE_ENV,
    InputNormalisation,
    SealError,
    check_sealed,
    cached_weights_path,
    fetch_torchvision_weights,
    get_weights,
    hub_checkpoints_dir,
    is_offline,
    sha256_file,
    weights_name,
)
from ferlib.models.foreign import load_file, unwrap_state_dict
from ferlib.models.synth_frames import default_file, missing_message
from ferlib.models.registry import methods, model_profile
from ferlib.models.triplet_attention import RESNET_TRUNK_NAMES, TripletAttention, _translate_key

SYNTH_FRAMES = "synth-frames"
IMAGENET = "imagenet"
EMOTION_FAN = "emotion-fan"
#: the named sources (anything else is a file path)
NAMED_SOURCES = ("", SYNTH_FRAMES, IMAGENET, EMOTION_FAN)

#: torchvision weights of each trunk architecture (enum names; tests may put an enum member here)
IMAGENET_WEIGHTS: dict[str, str | WeightsEnum] = {
    "resnet18": "ResNet18_Weights.IMAGENET1K_V1",
    "vgg16_bn": "VGG16_BN_Weights.IMAGENET1K_V1",
}
#: the official Emotion-FAN backbone file (MS-Celeb-1M + FER+), looked for in the hub cache
EMOTION_FAN_FILE = "Resnet18_FER+_pytorch.pth.tar"
EMOTION_FAN_REPO = "https://github.com/Open-Debin/Emotion-FAN"

#: checkpoint key prefixes that are heads, not trunk: dropped and reported
HEAD_PREFIXES = ("fc.", "classifier.", "alpha.0.", "beta.0.", "pred_fc1.", "pred_fc2.")

ARCHITECTURES = ("resnet18", "vgg16_bn", "small_cnn")


def emotion_fan_path() -> Path:
    """Where the Emotion-FAN backbone file is looked for: ``<torch hub dir>/checkpoints/Resnet18_FER+_pytorch.pth.tar``."""
    return hub_checkpoints_dir() / EMOTION_FAN_FILE


@dataclass
class TrunkReport:
    """What :func:`load_trunk` did. ``loaded``/``missing`` hold model key names (``trunk.…``),
    ``dropped`` the file's keys it discarded on purpose (classifier, heads, layers the trunk lacks)."""

    source: str
    kind: str  # "random" | "synth-frames" | "imagenet" | "emotion-fan" | "file"
    architecture: str  # resnet18 | vgg16_bn | small_cnn | none (no trunk)
    file: str | None = None
    sha256: str | None = None
    format: str | None = None  # torchvision | emotion-fan | ferlib-small-cnn | ferlib-trunk
    weights: str | None = None  # torchvision enum, e.g. "ResNet18_Weights.IMAGENET1K_V1"
    loaded: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    input_mean: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    input_std: list[float] = field(default_factory=lambda: [1.0, 1.0, 1.0])
    seconds: float = 0.0  # wall time of the load (not in to_dict: a run's results stay reproducible)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict of every field but ``seconds``."""
        d = dataclasses.asdict(self)
        d.pop("seconds")
        return d

    def summary(self) -> str:
        """A few lines for a run's log."""
        if self.kind == "random":
            return f"trunk ({self.architecture}): random initialisation; " + " ".join(self.notes)
        head = f"trunk ({self.architecture}) from {self.source!r}"
        if self.weights:
            head += f" = {self.weights}"
        lines = [f"{head}: {self.file} (sha256 {self.sha256}, {self.format} layout) in {self.seconds:.2f} s",
                 f"  loaded {len(self.loaded)} tensors; dropped {len(self.dropped)}{_short(self.dropped)}; "
                 f"missing {len(self.missing)}{_short(self.missing)}"]
        lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines)


def _short(keys: list[str], n: int = 4) -> str:
    if not keys:
        return ""
    return " (" + ", ".join(keys[:n]) + (", …" if len(keys) > n else "") + ")"


# --------------------------------------------------------------------------- architecture


@lru_cache(maxsize=None)
def _reference_shapes(arch: str) -> dict[str, tuple[int, ...]]:
    """Key → shape of a trunk of ``arch`` in ferlib's layout (built on the meta device: no memory)."""
    with torch.device("meta"):
        if arch == "resnet18":
            net = torchvision.models.resnet18()
            return {_resnet_to_trunk(k): tuple(v.shape) for k, v in net.state_dict().items() if not k.startswith("fc.")}
        if arch == "vgg16_bn":
            return {k: tuple(v.shape) for k, v in torchvision.models.vgg16_bn().features.state_dict().items()}
    raise ValueError(f"no reference layout for {arch!r}")


def _resnet_to_trunk(key: str) -> str:
    head, _, rest = key.partition(".")
    return f"{RESNET_TRUNK_NAMES[head]}.{rest}" if head in RESNET_TRUNK_NAMES and rest else key


def _split_trunk(trunk: nn.Module) -> tuple[nn.Module, str]:
    """The CNN inside a trunk and its key prefix: KP-GCN-MSA's ``Sequential(cnn, TripletAttention)``
    → ``(cnn, "0.")``; any other trunk → ``(trunk, "")``."""
    if isinstance(trunk, nn.Sequential) and len(trunk) == 2 and isinstance(trunk[1], TripletAttention):
        return trunk[0], "0."
    return trunk, ""


def _attention_prefixes(trunk: nn.Module) -> tuple[str, ...]:
    return tuple(f"{name}." for name, m in trunk.named_modules() if isinstance(m, TripletAttention) and name)


def trunk_architecture(trunk: nn.Module) -> str:
    """``"resnet18"``, ``"vgg16_bn"`` or ``"small_cnn"`` of a ferlib trunk (strides and triplet
    attention aside); ``"unknown"`` for anything else."""
    cnn, prefix = _split_trunk(trunk)
    attn = _attention_prefixes(trunk)
    shapes = {k[len(prefix):]: tuple(v.shape) for k, v in trunk.state_dict().items()
              if k.startswith(prefix) and not k.startswith(attn)}
    for arch in ("resnet18", "vgg16_bn"):
        if shapes == _reference_shapes(arch):
            return arch
    if isinstance(cnn, nn.Sequential) and len(cnn) and isinstance(cnn[0], nn.Conv2d) and cnn[0].in_channels == 3:
        return "small_cnn"
    return "unknown"


def _file_architecture(keys: list[str]) -> str:
    """A guess at what a file holds, for error messages."""
    ks = {k[len("module."):] if k.startswith("module.") else k for k in keys}
    if any(k.startswith("st_gcn_networks.") for k in ks):
        return "ST-GCN"
    if "layer1.0.conv3.weight" in ks:
        return "a bottleneck ResNet (ResNet-50 or deeper)"
    if "layer1.2.conv1.weight" in ks:
        return "ResNet-34"
    if "layer1.0.conv1.weight" in ks:
        return "ResNet-18"
    if any(k.startswith("features.") for k in ks):
        return "VGG"
    if "4.0.conv1.weight" in ks:
        return "ResNet-18 (ferlib trunk)"
    return f"an unknown layout (first keys {sorted(ks)[:3]})"


def _model_arch(model_or_method: nn.Module | str, profile: str, backbone: str | None) -> str:
    if isinstance(model_or_method, nn.Module):
        trunk = getattr(model_or_method, "trunk", None)
        return trunk_architecture(trunk) if isinstance(trunk, nn.Module) else "none"
    if backbone:
        return backbone
    return str(model_profile(model_or_method, profile).kwargs.get("backbone", "none"))


# --------------------------------------------------------------------------- sources


def _synth_frames_file(must_exist: bool = True) -> Path:
    """The default ``"synth-frames"`` file; with ``must_exist``, raise naming it and the command
    that makes it when it is missing (the models never make it: that is training)."""
    path = default_file()
    if must_exist and not path.is_file():
        raise FileNotFoundError(missing_message(path))
    return path


def _check_source_fits(source: str, arch: str, owner: str) -> None:
    """Raise when a named source has no weights for ``arch``."""
    if source == SYNTH_FRAMES and arch != "small_cnn":
        raise ValueError(f"init_trunk={SYNTH_FRAMES!r} is the demo model's small_cnn pre-training; {owner}'s trunk is "
                         f"{arch}: use {IMAGENET!r}, {EMOTION_FAN!r} (resnet18), a weight file, or '' for random weights")
    if source == IMAGENET and arch not in IMAGENET_WEIGHTS:
        raise ValueError(f"init_trunk={IMAGENET!r}: torchvision ImageNet weights exist for {sorted(IMAGENET_WEIGHTS)}; "
                         f"{owner}'s trunk is {arch} (the demo model's small CNN: use {SYNTH_FRAMES!r} or the paper model)")
    if source == EMOTION_FAN and arch != "resnet18":
        raise ValueError(f"init_trunk={EMOTION_FAN!r} is a ResNet-18; {owner}'s trunk is {arch}")


def _emotion_fan_missing(path: Path) -> FileNotFoundError:
    return FileNotFoundError(
        f"init_trunk={EMOTION_FAN!r}: the official Emotion-FAN ResNet-18 (MS-Celeb-1M + FER+) is not at {path}. "
        f"It cannot be downloaded automatically: the official repository {EMOTION_FAN_REPO} links it from its README "
        f"('Download pretrain models'); download {EMOTION_FAN_FILE} by hand and copy it to {path} "
        f"(the hub dir is $TORCH_HOME/hub, now {torch.hub.get_dir()}), or choose init_trunk={IMAGENET!r} or ''"
    )


def _read_trunk_file(path: Path) -> tuple[dict[str, torch.Tensor], str, dict[str, Any] | None]:
    """State dict, detected format and (ferlib small_cnn files) meta of a trunk file."""
    check_sealed(path)
    obj = load_file(path, weights_only=True)
    if isinstance(obj, Mapping) and isinstance(obj.get("trunk"), Mapping) and isinstance(obj.get("meta"), Mapping):
        state = {str(k): v for k, v in obj["trunk"].items() if isinstance(v, torch.Tensor)}
        return state, "ferlib-small-cnn", dict(obj["meta"])
    state = unwrap_state_dict(obj, str(path))
    fmt = "emotion-fan" if all(k.startswith("module.") for k in state) else "torchvision"
    return state, fmt, None


def _map_into_trunk(state: dict[str, torch.Tensor], trunk: nn.Module, arch: str, fmt: str,
                    where: str, owner: str) -> tuple[dict[str, torch.Tensor], list[str], list[str], str]:
    """File tensors → trunk keys. Returns (mapped, dropped file keys, unfilled attention keys, format);
    raises naming ``where`` for anything that does not fit."""
    own = trunk.state_dict()
    _, prefix = _split_trunk(trunk)
    attn = _attention_prefixes(trunk)
    mapped: dict[str, torch.Tensor] = {}
    dropped, unexpected, direct = [], [], 0
    for raw, tensor in state.items():
        key = _translate_key(raw[len("module."):] if raw.startswith("module.") else raw)
        target = None
        if fmt != "ferlib-small-cnn" and key in own:
            target, direct = key, direct + 1
        elif arch == "resnet18" and prefix + _resnet_to_trunk(key) in own:
            target = prefix + _resnet_to_trunk(key)
        elif arch == "vgg16_bn" and key.startswith("features.") and prefix + key[len("features."):] in own:
            target = prefix + key[len("features."):]
        elif arch == "small_cnn" and prefix + key in own:
            target = prefix + key
        if target is None:
            if key.startswith(HEAD_PREFIXES) or fmt == "ferlib-small-cnn":
                dropped.append(raw)  # a classifier / FAN head, or small_cnn layers this trunk does not have
            else:
                unexpected.append(raw)
            continue
        if tuple(tensor.shape) != tuple(own[target].shape):
            raise ValueError(
                f"{where} does not fit {owner}'s {arch} trunk: {raw} has shape {tuple(tensor.shape)}, the trunk's "
                f"{target} has {tuple(own[target].shape)} (the file holds {_file_architecture(list(state))} weights)")
        mapped[target] = tensor
    if unexpected:
        raise ValueError(
            f"{where} holds {_file_architecture(list(state))} weights, {owner}'s trunk is {arch}: "
            f"{len(unexpected)} keys have no place in it, e.g. {unexpected[:4]}")
    unfilled = [k for k in own if k not in mapped and not k.endswith("num_batches_tracked")]
    missing = [k for k in unfilled if not k.startswith(attn)]
    if missing or not mapped:
        raise ValueError(
            f"{where} does not fill {owner}'s {arch} trunk: {len(missing)} tensors are not in it, e.g. {missing[:4]} "
            f"(the file holds {_file_architecture(list(state))} weights)")
    if direct and fmt != "ferlib-small-cnn":
        fmt = "ferlib-trunk"
    return mapped, dropped, [k for k in unfilled if k.startswith(attn)], fmt


def _classifier_note(state: dict[str, torch.Tensor], dropped: list[str]) -> list[str]:
    notes = []
    for key in dropped:
        tensor = state.get(key)
        bare = key[len("module."):] if key.startswith("module.") else key
        if tensor is not None and tensor.dim() == 2 and bare.startswith(HEAD_PREFIXES):
            notes.append(f"dropped {key}: a head of {tensor.shape[0]} outputs, not part of the trunk")
    return notes


def source_normalisation(source: str, arch: str) -> tuple[list[float], list[float]]:
    """``(mean, std)`` of [0, 1] pixels that the weights of ``source`` for ``arch`` were trained on
    (see the module docstring): torchvision's ``weights.transforms()`` for ``"imagenet"``, else none."""
    if source == IMAGENET and arch in IMAGENET_WEIGHTS:
        t = get_weights(IMAGENET_WEIGHTS[arch]).transforms()
        return [float(v) for v in t.mean], [float(v) for v in t.std]
    return [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]


def _set_normalisation(model: nn.Module, mean: list[float], std: list[float]) -> None:
    norm = getattr(model, "input_norm", None)
    if isinstance(norm, InputNormalisation):
        norm.set(mean, std)
    elif (mean, std) != ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0]):
        raise ValueError(f"{type(model).__name__} has no input_norm to apply the trunk's input normalisation "
                         f"(mean {mean}, std {std})")


def load_trunk(model: nn.Module, source: str | Path | None, progress: bool = True) -> TrunkReport:
    """Initialise ``model.trunk`` from ``source`` (see the module docstring) and report what happened.

    Works on every ferlib model that keeps its per-frame CNN at ``model.trunk`` (FER-GCN, FAN,
    KP-GCN-MSA, ``cnn_mean``, ``cnn_score_fusion``, ``cnn_lstm``, ``cnn_gru``). ``source=""`` leaves
    the weights as they are (any model; the report says "random initialisation"). Raises
    :class:`FileNotFoundError` (a subclass for torchvision weights that are not cached while
    offline) or :class:`ValueError`, naming the file, for anything that does not fit; nothing is
    loaded then.
    """
    t0 = time.perf_counter()
    source = "" if source is None else str(source).strip()
    owner = type(model).__name__
    trunk = getattr(model, "trunk", None)
    if not source:
        arch = trunk_architecture(trunk) if isinstance(trunk, nn.Module) else "none"
        note = ("no pretrained trunk asked for (init_trunk='')" if isinstance(trunk, nn.Module)
                else f"{owner} has no per-frame CNN trunk")
        _set_normalisation(model, *source_normalisation("", arch))
        return TrunkReport(source="", kind="random", architecture=arch, notes=[note], seconds=time.perf_counter() - t0)
    if not isinstance(trunk, nn.Module):
        raise ValueError(f"{owner} has no per-frame CNN trunk (model.trunk) to initialise from {source!r}; init_trunk "
                         f"applies to {', '.join(methods(lambda spec: spec.frame_cnn))} (use init_trunk='' here)")
    arch = trunk_architecture(trunk)
    if arch == "unknown":
        raise ValueError(f"{owner}'s trunk is none of {ARCHITECTURES}; load_trunk cannot map {source!r} onto it")
    _check_source_fits(source, arch, owner)
    weights: str | None = None
    meta: dict[str, Any] | None = None
    if source == IMAGENET:
        wf = fetch_torchvision_weights(IMAGENET_WEIGHTS[arch], progress=progress)
        state, fmt, path, sha, weights, kind = wf.state_dict, "torchvision", wf.path, wf.sha256, wf.name, IMAGENET
    else:
        if source == SYNTH_FRAMES:
            path, kind = _synth_frames_file(), SYNTH_FRAMES
        elif source == EMOTION_FAN:
            path, kind = emotion_fan_path(), EMOTION_FAN
            if not path.is_file():
                raise _emotion_fan_missing(path)
        else:
            path, kind = Path(source).expanduser(), "file"
            if not path.is_file():
                raise FileNotFoundError(f"init_trunk={source!r} is neither a named source {list(NAMED_SOURCES[1:])} nor an "
                                        f"existing file ({path.resolve()} not found)")
        state, fmt, meta = _read_trunk_file(path)
        sha = sha256_file(path)
        if fmt == "ferlib-small-cnn" and arch != "small_cnn":
            raise ValueError(f"{path} is a ferlib small_cnn weight file (width {meta.get('width') if meta else '?'}, "
                             f"depth {meta.get('depth') if meta else '?'}); {owner}'s trunk is {arch}")
    where = str(path)
    mapped, dropped, unfilled, fmt = _map_into_trunk(state, trunk, arch, fmt, where, owner)
    mean, std = source_normalisation(kind, arch)
    _set_normalisation(model, mean, std)
    trunk.load_state_dict(mapped, strict=False)
    notes = _classifier_note(state, dropped)
    if unfilled:
        notes.append(f"triplet attention: {len(unfilled)} tensors are not in the file and keep their initialisation")
    if kind == IMAGENET:
        notes.append(f"input normalisation of {weights}'s transforms(), inside the model: mean {mean}, std {std}")
    return TrunkReport(
        source=source, kind=kind, architecture=arch, file=str(Path(path).resolve()), sha256=sha, format=fmt,
        weights=weights, loaded=sorted(f"trunk.{k}" for k in mapped), dropped=sorted(dropped),
        missing=sorted(f"trunk.{k}" for k in unfilled), notes=notes, input_mean=mean, input_std=std,
        seconds=time.perf_counter() - t0,
    )


def trunk_plan(source: str | Path | None, model_or_method: nn.Module | str, profile: str = "paper",
               backbone: str | None = None) -> dict[str, Any]:
    """What :func:`load_trunk` would do, without building a model or reading weights: the file a
    source resolves to, whether it is there, its SHA-256 and a one-line ``status``
    (``ok`` / ``will download`` / ``error``) with ``message``."""
    source = "" if source is None else str(source).strip()
    owner = model_or_method if isinstance(model_or_method, str) else type(model_or_method).__name__
    arch = _model_arch(model_or_method, profile, backbone)
    plan: dict[str, Any] = {"source": source, "architecture": arch, "file": None, "present": False, "sha256": None,
                            "weights": None, "status": "ok", "message": ""}
    if not source:
        plan["message"] = "random initialisation (init_trunk='')"
        return plan
    if arch == "none":
        plan.update(status="error", message=f"{owner} has no per-frame CNN trunk; use init_trunk=''")
        return plan
    try:
        _check_source_fits(source, arch, owner)
    except ValueError as err:
        plan.update(status="error", message=str(err))
        return plan
    if source == IMAGENET:
        w = IMAGENET_WEIGHTS[arch]
        path = cached_weights_path(w)
        plan["weights"] = weights_name(w)
    elif source == SYNTH_FRAMES:
        path = _synth_frames_file(must_exist=False)
    elif source == EMOTION_FAN:
        path = emotion_fan_path()
    else:
        path = Path(source).expanduser()
    plan["file"] = str(path.resolve())
    if path.is_file():
        try:
            check_sealed(path)  # ferlib's own files (the cached synth-frames trunk) carry their size and hash
        except SealError as err:
            plan.update(status="error", message=str(err))
            return plan
        plan.update(present=True, sha256=sha256_file(path), message=f"{path.stat().st_size / 2**20:.1f} MiB")
    elif source == IMAGENET and not is_offline():
        plan.update(status="will download", message=f"torchvision downloads {plan['weights']} into the hub cache on first use")
    elif source == IMAGENET:
        plan.update(status="error", message=f"not cached and {OFFLINE_ENV} is set: fetch it on a machine with network "
                                            f"access and copy it to {path}")
    elif source == SYNTH_FRAMES:
        plan.update(status="error", message=missing_message(path))
    elif source == EMOTION_FAN:
        plan.update(status="error", message=str(_emotion_fan_missing(path)))
    else:
        plan.update(status="error", message="no such file")
    return plan


def describe_trunk(source: str | Path | None, model_or_method: nn.Module | str, profile: str = "paper",
                   backbone: str | None = None) -> str:
    """One line for a planning printout: ``trunk of fan (resnet18): 'emotion-fan' → <file> (present,
    sha256 …)``; see :func:`trunk_plan`. Builds and loads nothing."""
    p = trunk_plan(source, model_or_method, profile, backbone)
    owner = model_or_method if isinstance(model_or_method, str) else type(model_or_method).__name__
    head = f"trunk of {owner} ({p['architecture']}): {p['source']!r}"
    if not p["source"] or p["file"] is None:
        return f"{head}: {p['message']}" if p["status"] == "ok" else f"{head}: ERROR {p['message']}"
    what = f" = {p['weights']}" if p["weights"] else ""
    if p["present"]:
        return f"{head}{what} → {p['file']} (present, sha256 {p['sha256']}, {p['message']})"
    label = "ERROR" if p["status"] == "error" else p["status"]
    return f"{head}{what} → {p['file']} (missing; {label}: {p['message']})"


def resolve_trunk_weights(spec: str, progress: bool = True) -> Path:
    """The weight file of a ``small_cnn`` ``init_trunk`` value: ``"synth-frames"`` → the default
    :func:`ferlib.experiments.pretrain.frame_pretrained` file (which must exist), anything else → that
    path (which must exist). Other sources (``"imagenet"``, ``"emotion-fan"``) are resolved by
    :func:`load_trunk`."""
    if spec == SYNTH_FRAMES:
        return _synth_frames_file()
    path = Path(spec)
    if not path.is_file():
        raise FileNotFoundError(f"init_trunk={spec!r}: {path} is not a file; use {SYNTH_FRAMES!r} or a small_cnn weight file")
    return path


def init_trunk(model: nn.Module, path: str | Path) -> TrunkReport:
    """Load a weight file into ``model.trunk`` through :func:`load_trunk` (KP-GCN-MSA's
    ``Sequential(cnn, triplet attention)`` included); raises naming the model when it has no trunk
    the file fits."""
    return load_trunk(model, str(path), progress=False)
