"""fit / evaluate: one method on one split of a clip store, with leak-free model selection.

:func:`fit` trains ``cfg.method`` on ``split.train``, picks the epoch with the best accuracy on
``split.val`` (carved from the training subjects by :func:`ferlib.data.protocols.with_validation`
when the split has none), evaluates that model on ``split.test`` and writes into ``out_dir``::

    config.json        the resolved TrainConfig
    store.json         the clip store it was made on (:func:`ferlib.train.guards.store_record`)
    trunk.json         where the per-frame CNN started from (:func:`ferlib.models.trunks.load_trunk`'s report)
    metrics.json       test metrics of the selected model (accuracy = WAR, UAR, per-class,
                       confusion) + ``test_at_best_val`` and the papers' leaky choice
                       ``best_test_epoch_leaky`` / ``best_test_accuracy_leaky`` + per-epoch history
    predictions.csv    clip_id, subject, label, label_name, pred, pred_name, prob_<class>…
    byproducts.npz     the model's extras per test clip (rows aligned with predictions.csv), plus
                       ``gt_intensity`` (N, T), ``frame_idx`` (N, T), ``flags`` (N, T), ``label``, ``pred``
    best.pt, last.pt   checkpoints (:mod:`ferlib.train.checkpoint`); last.pt is written every epoch;
                       ``<name>.sha256`` beside each holds its size and SHA-256, checked on load
    timing.json        training seconds (``train_s``), clips/s, the share of it spent waiting for data, and
                       ``load_s``, the clips read into memory before the first epoch (not in metrics)

**Resume.** Each epoch re-seeds torch, numpy and ``random`` from ``(seed, epoch)`` and the
data set draws from ``(seed, epoch, row)``, and ``last.pt`` holds model, optimiser, scheduler,
RNG states and history: a killed run restarted with the same config continues after the last
finished epoch and ends with the same ``metrics.json`` as an uninterrupted run.

The batch → model call is the method's own (``MethodSpec.batch_inputs``, via
:func:`ferlib.models.registry.model_inputs`): frames, frames + landmarks, or ST-GCN's landmark
tensor. Test and validation clips are sampled with ``cfg.test_sampler`` (FAN: every frame; clips
are then batched with others of the same length, and per-frame by-products are padded with NaN to
the longest clip). The loss is the model's own ``loss`` method when
it has one (KP-GCN-MSA: eq. 13, L = λL_S + (1 − λ)L_T), otherwise cross-entropy.
Mixed precision (``amp``): bf16 autocast around the per-frame CNN (``model.trunk``) only, on CUDA
and on a CPU that computes bf16 natively (AVX512-BF16 or AMX; elsewhere fp32, as bf16 would be
emulated and slower); its features return in fp32, and what follows (graphs, attention, the
landmark models) stays fp32: landmark coordinates and small displacements lose their signal at
bf16's 8-bit mantissa (with the whole model in bf16, ST-GCN's and KP-GCN-MSA's demo accuracy fell
by several points). A run records the precision of its trunk (``metrics.json`` ``precision``).

**Speed** (none of these changes what a run computes, except ``eval_every``, which changes when a
model can be selected). Clips are held in memory when the run's clips
fit in :data:`~ferlib.data.store.HOLD_BYTES` (``cache_clips``), all read before the first epoch
(:meth:`~ferlib.data.dataset.ClipDataset.hold`); landmark-only methods (ST-GCN) skip the pixel work
of the transform (the same draws, so the same landmarks); without workers the training loader reads
:data:`FETCH_STEPS` steps' batches a call; on CUDA the loader pins memory and
batches are copied with ``non_blocking``; ``channels_last`` puts the per-frame 2-D trunk
(``model.trunk``) in NHWC, on CPU too (oneDNN's convolutions and pooling are faster in NHWC);
``compile`` runs ``torch.compile`` on the model, or with amp's bf16 on the trunk's forward inside
amp's hooks, which dynamo cannot trace (weights and checkpoints stay the plain module's); ``cudnn.benchmark`` is on when ``deterministic`` is off; ``eval_every=k`` validates
(and tests, with ``eval_test_each_epoch``) every k-th epoch and after the last one only.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader
from tqdm.auto import tqdm

from ferlib.data.dataset import ClipDataset, EpochOrder, StepBatches, collate_items
from ferlib.data.index import ClipIndex
from ferlib.data.protocols import Split, with_validation
from ferlib.data.samplers import Sampler
from ferlib.data.store import HOLD_BYTES, ClipStore
from ferlib.data.transforms import batch_to_unit, make_transform
from ferlib.train import distributed
from ferlib.train.checkpoint import CheckpointError, load_checkpoint, rng_state, save_checkpoint, set_rng_state
from ferlib.train.config import TrainConfig
from ferlib.train.lock import run_lock
from ferlib.models.backbones import freeze_leading_convs
from ferlib.models.registry import build_model, method_spec, model_inputs
from ferlib.models.trunks import load_trunk, trunk_plan
from ferlib.train.classmap import Relabeled, match_classes, to_data_classes
from ferlib.train.guards import (SPLIT_RECORD, STORE_RECORD, RunDirError, check_out_path, check_store_record,
                                 split_record, store_record, warn_small_test_fold, warn_trained_clips, write_json)
from ferlib.train.metrics import summarize
from ferlib.progress import progress_bar
from ferlib.train.schedules import build_optimizer, build_scheduler, param_groups

#: training steps whose batches a main process that loads alone (no workers: a CPU run by default) reads in
#: one call (:class:`~ferlib.data.dataset.StepBatches`); the steps see the same batches
FETCH_STEPS = 4
RUN_FILES = ("config.json", "store.json", "trunk.json", "metrics.json", "predictions.csv", "byproducts.npz", "best.pt", "last.pt",
             "best.pt.sha256", "last.pt.sha256", "timing.json")


# --------------------------------------------------------------------------- small helpers

class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite: the run stops (naming the epoch) and reports nothing."""


def read_metrics(path: str | Path) -> dict[str, Any]:
    """A run's ``metrics.json``; one ``ValueError`` naming the file when it is not readable JSON."""
    try:
        return json.loads(Path(path).read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is corrupt ({exc}); delete it to evaluate the run again") from None


def choose_device(cfg: TrainConfig) -> torch.device:
    """``cfg.device`` or, for ``"auto"``, this rank's CUDA device when there is one, else CPU."""
    if cfg.device != "auto":
        return torch.device(cfg.device)
    if torch.cuda.is_available():
        return torch.device("cuda", distributed.context().local_rank)
    return torch.device("cpu")


def loader_workers(cfg: TrainConfig) -> int:
    """``cfg.num_workers``, or for -1 (the default) by device: none on a CPU, where the training step
    already uses every core (workers beside it slow it down: ``benchmarks/bench_train.py --workers``),
    and on CUDA one per core of this process's share of the machine, keeping one for the main
    process, at most 8."""
    if cfg.num_workers >= 0:
        return int(cfg.num_workers)
    if choose_device(cfg).type != "cuda":
        return 0
    local = int(os.environ.get("LOCAL_WORLD_SIZE", distributed.context().world_size))
    return max(0, min(8, (os.cpu_count() or 1) // max(1, local) - 1))


def seed_everything(seed: int, epoch: int = -1) -> None:
    """Seed torch, numpy and ``random`` from ``(seed, epoch)`` (epoch −1: model initialisation)."""
    s = int(np.random.SeedSequence([int(seed), int(epoch) + 1]).generate_state(1)[0])
    torch.manual_seed(s)
    np.random.seed(s)
    random.seed(s)


def set_determinism(enabled: bool) -> None:
    """``torch.use_deterministic_algorithms`` (warn-only where an op has no deterministic kernel),
    without its NaN fill of every uninitialised tensor (``fill_uninitialized_memory``, a debugging
    aid: no ferlib op reads such memory, and the fill cost a tenth of a demo training step)."""
    torch.use_deterministic_algorithms(enabled, warn_only=True)
    torch.utils.deterministic.fill_uninitialized_memory = False  # type: ignore[attr-defined]
    torch.backends.cudnn.benchmark = not enabled
    if enabled:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def frames_bytes(store: ClipStore, index: ClipIndex) -> int:
    """Bytes of the uint8 frames of ``index``'s clips (from each entry's ``meta.json``)."""
    return int(sum(np.prod(store.meta(c)["arrays"]["frames"]) for c in index.clip_ids))


def _frame_size(store: ClipStore, index: ClipIndex) -> int:
    meta = store.meta(index.clip_ids[0])
    return int(meta.get("height", 64))


def make_dataset(store: ClipStore, index: ClipIndex, cfg: TrainConfig, train: bool, pixels: bool = True,
                 defer_unit: bool = False) -> ClipDataset:
    """A :class:`ClipDataset` over ``index`` with ``cfg``'s sampler (``cfg.test_sampler`` when not
    ``train``) and augmentation policy (when ``train`` and ``cfg.augment``). Landmark-only methods
    (input_side 0) keep the stored frame side; ``pixels=False`` skips the transform's pixel work
    (:func:`fit` for them: same draws, same landmarks, empty frames). The clips are held in memory
    when ``cfg.cache_clips`` and they fit in :data:`~ferlib.data.store.HOLD_BYTES`. ``defer_unit``: batches
    keep uint8 frames, finished in :func:`forward_batch` on the model's device (:func:`fit`'s training set)."""
    side = cfg.input_side or _frame_size(store, index)
    name = cfg.sampler if train or not cfg.test_sampler else cfg.test_sampler
    sampler = Sampler(name, cfg.num_frames, cfg.span)
    transform = make_transform(side, bool(train and cfg.augment), cfg.augmentation)
    cache = bool(cfg.cache_clips) and frames_bytes(store, index) * max(1, loader_workers(cfg)) <= HOLD_BYTES
    return ClipDataset(store, index, sampler, transform, seed=cfg.seed, fixed_draws=cfg.fixed_draws, cache=cache,
                       pixels=pixels, defer_unit=defer_unit)


def _worker_init(worker_id: int) -> None:
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def make_loader(ds: ClipDataset, cfg: TrainConfig, train: bool, epoch: int = 0, batch_size: int | None = None,
                sampler: Any = None) -> DataLoader:
    """The DataLoader of ``ds``. Training: the clips in :class:`~ferlib.data.dataset.EpochOrder` from
    ``(cfg.seed, epoch)`` (or ``sampler``'s rows, e.g. a ``DistributedSampler``), each row tagged with
    its epoch, so one loader serves every epoch after ``loader.sampler.set_epoch(e)``. With
    workers (:func:`loader_workers`) they persist across epochs (and evaluations): forked once, holding the
    clips :meth:`~ferlib.data.dataset.ClipDataset.hold` read before."""
    g = torch.Generator()  # the workers' base seed; the draws come from (seed, epoch, row)
    g.manual_seed(int(cfg.seed) * 1000003 + int(epoch))
    workers = loader_workers(cfg)
    common = dict(num_workers=workers, worker_init_fn=_worker_init, persistent_workers=workers > 0,
                  pin_memory=choose_device(cfg).type == "cuda", generator=g,
                  collate_fn=collate_items)  # a batch fetched in one call comes stacked (ClipDataset.__getitems__)
    if not train and (cfg.test_sampler or cfg.sampler) == "all":
        return DataLoader(ds, batch_sampler=same_length_batches(ds, batch_size or cfg.batch_size), **common)
    order = EpochOrder(len(ds), cfg.seed, epoch, inner=sampler) if train else sampler
    return DataLoader(ds, batch_size=batch_size or cfg.batch_size, sampler=order, drop_last=False, **common)


def same_length_batches(ds: Any, batch_size: int) -> list[list[int]]:
    """Batches of clips with the same frame count (for samplers that take every frame): the rows
    of each length in order, ``batch_size`` at a time."""
    base = getattr(ds, "ds", ds)  # a relabelled view keeps its clips
    by_length: dict[int, list[int]] = {}
    for i, clip_id in enumerate(base.index.clip_ids):
        by_length.setdefault(int(base.store.meta(clip_id)["n_frames"]), []).append(i)
    return [rows[j:j + batch_size] for _, rows in sorted(by_length.items()) for j in range(0, len(rows), batch_size)]


def unwrap(model: nn.Module) -> nn.Module:
    """The model inside a DDP wrapper (or the model itself)."""
    return model.module if hasattr(model, "module") and isinstance(model, nn.parallel.DistributedDataParallel) else model


def forward_batch(model: nn.Module, batch: dict[str, torch.Tensor], device: torch.device, cfg: TrainConfig) -> tuple[torch.Tensor, dict]:
    """Call the model with the inputs its method takes from ``batch`` (``MethodSpec.batch_inputs``):
    frames ``(B, T, 3, S, S)``, plus landmarks ``(B, T, 68, 2)``, or ST-GCN's ``(B, 2, T, 68)``. Frames
    still uint8 (a training batch) go to ``device`` as they are and become float there (:func:`batch_to_unit`)."""
    batch = batch_to_unit(batch, device)
    return model(*model_inputs(cfg.method, batch, device, stgcn_normalise=cfg.stgcn_normalise))


def compute_loss(model: nn.Module, logits: torch.Tensor, extras: dict, targets: torch.Tensor, cfg: TrainConfig) -> torch.Tensor:
    """The model's own ``loss`` (KP-GCN-MSA eq. 13) if it defines one, else cross-entropy."""
    inner = unwrap(model)
    if hasattr(inner, "loss"):
        return inner.loss(logits.float(), {k: v.float() for k, v in extras.items()}, targets)
    return F.cross_entropy(logits.float(), targets, label_smoothing=cfg.label_smoothing)


def cpu_computes_bf16() -> bool:
    """Whether this CPU has native bf16 dot products (AVX512-BF16 or AMX)."""
    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:  # a torch without these probes: assume emulation
        return False


def precision(device: torch.device, cfg: TrainConfig) -> str:
    """``"bf16"`` where ``cfg.amp`` autocasts the trunk on ``device`` (CUDA; a CPU with native bf16), else ``"fp32"``."""
    native = device.type == "cuda" or (device.type == "cpu" and cpu_computes_bf16())
    return "bf16" if cfg.amp and native else "fp32"


@contextmanager
def autocast_trunk(model: nn.Module, device_type: str) -> Iterator[None]:
    """bf16 autocast inside ``model.trunk``'s forward only, its output back in fp32 (a model
    without a trunk runs as it is)."""
    trunk = getattr(unwrap(model), "trunk", None)
    if not isinstance(trunk, nn.Module):
        yield
        return
    entered: list[torch.autocast] = []

    def enter(module: nn.Module, args: Any) -> None:
        entered.append(torch.autocast(device_type, dtype=torch.bfloat16))
        entered[-1].__enter__()

    def leave(module: nn.Module, args: Any, out: Any) -> Any:
        entered.pop().__exit__(None, None, None)
        return out.float() if torch.is_tensor(out) else out

    hooks = [trunk.register_forward_pre_hook(enter), trunk.register_forward_hook(leave)]
    try:
        yield
    finally:
        for h in hooks:
            h.remove()
        while entered:  # a forward that raised inside the trunk
            entered.pop().__exit__(None, None, None)


def _autocast(model: nn.Module, device: torch.device, cfg: TrainConfig):
    return autocast_trunk(model, device.type) if precision(device, cfg) == "bf16" else nullcontext()


# --------------------------------------------------------------------------- one epoch

def train_one_epoch(model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer, cfg: TrainConfig,
                    device: torch.device, desc: str = "train", progress: bool = True) -> dict[str, float]:
    """One pass over ``loader``; returns mean loss, accuracy, clip count and data/compute seconds."""
    model.train()
    total_loss, correct, n = 0.0, 0, 0
    data_s, step_s = 0.0, 0.0
    bar = progress_bar(len(loader), desc, progress)  # never tqdm(loader): see ferlib.progress
    t0 = time.perf_counter()
    for batch in loader:
        t1 = time.perf_counter()
        data_s += t1 - t0
        y = batch["label"].to(device, non_blocking=True)
        with _autocast(model, device, cfg):
            logits, extras = forward_batch(model, batch, device, cfg)
        loss = compute_loss(model, logits, extras, y, cfg)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        b = int(y.shape[0])
        total_loss += float(loss.detach()) * b
        correct += int((logits.detach().argmax(1) == y).sum())
        n += b
        bar.set_postfix(loss=f"{total_loss / n:.3f}", acc=f"{correct / n:.3f}", refresh=False)
        bar.update(1)
        t0 = time.perf_counter()
        step_s += t0 - t1
    bar.close()
    return {"loss": total_loss / max(n, 1), "accuracy": correct / max(n, 1), "n": n, "data_s": data_s, "step_s": step_s}


@dataclass
class EvalOutput:
    """Predictions on a loader: ``rows`` index the loader's ClipIndex; ``probs`` ``(N, C)``;
    ``byproducts`` name → array with first dim N."""

    rows: np.ndarray
    y_true: np.ndarray
    y_pred: np.ndarray
    probs: np.ndarray
    loss: float
    byproducts: dict[str, np.ndarray] = field(default_factory=dict)


@torch.no_grad()
def evaluate_loader(model: nn.Module, loader: DataLoader, cfg: TrainConfig, device: torch.device,
                    collect: bool = False, desc: str = "eval", progress: bool = True) -> EvalOutput:
    """Predict every clip of ``loader``; with ``collect`` keep the model's extras per clip and the
    sampled frames' ground-truth intensity, flags and indices."""
    model.eval()
    rows, ys, probs, losses = [], [], [], []
    extra_parts: dict[str, list[np.ndarray]] = {}
    bar = progress_bar(len(loader), desc, progress)  # never tqdm(loader): see ferlib.progress
    for batch in loader:
        bar.update(1)
        y = batch["label"].to(device, non_blocking=True)
        with _autocast(model, device, cfg):
            logits, extras = forward_batch(model, batch, device, cfg)
        logits = logits.float()
        losses.append(float(compute_loss(model, logits, extras, y, cfg)) * len(y))
        probs.append(torch.softmax(logits, 1).cpu().numpy())
        rows.append(batch["row"].numpy())
        ys.append(batch["label"].numpy())
        if collect:
            for k, v in extras.items():
                if isinstance(v, torch.Tensor) and v.dim() >= 1 and v.shape[0] == len(y):
                    extra_parts.setdefault(k, []).append(v.detach().float().cpu().numpy())
            extra_parts.setdefault("gt_intensity", []).append(batch["intensity"].numpy())
            extra_parts.setdefault("frame_idx", []).append(batch["frame_idx"].numpy())
            extra_parts.setdefault("flags", []).append(batch["flags"].numpy())
    bar.close()
    p = np.concatenate(probs) if probs else np.zeros((0, 0))
    y_true = np.concatenate(ys) if ys else np.zeros(0, int)
    return EvalOutput(
        rows=np.concatenate(rows) if rows else np.zeros(0, int),
        y_true=y_true,
        y_pred=p.argmax(1) if len(p) else np.zeros(0, int),
        probs=p,
        loss=sum(losses) / max(len(y_true), 1),
        byproducts={k: _concat_ragged(v) for k, v in extra_parts.items()},
    )


def _concat_ragged(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate per-batch arrays along dim 0, padding dim 1 (frames) to the longest with NaN
    (floats) or −1 (integers) when clips of different lengths were evaluated one at a time."""
    if len({p.shape[1:] for p in parts}) <= 1:
        return np.concatenate(parts)
    longest = max(p.shape[1] for p in parts)
    fill = np.nan if parts[0].dtype.kind == "f" else -1
    padded = []
    for p in parts:
        pad = [(0, 0)] * p.ndim
        pad[1] = (0, longest - p.shape[1])
        padded.append(np.pad(p.astype(np.float32) if fill is np.nan else p, pad, constant_values=fill))
    return np.concatenate(padded)


# --------------------------------------------------------------------------- run folder

def prepare_run_dir(out_dir: str | Path, cfg: TrainConfig, resume: bool = True) -> bool:
    """Make ``out_dir`` ready; returns True when it already holds this run (resume).

    Refuses (nothing is touched) a folder with unrelated files, one that holds a run with another
    config (naming the differing keys), or an existing run when ``resume`` is False."""
    out = Path(out_dir)
    try:
        check_out_path(out, "output folder")
    except ValueError as exc:
        raise RunDirError(str(exc)) from None
    cfg_path = out / "config.json"
    if cfg_path.is_file():
        old = TrainConfig.load(cfg_path).result_fields()
        new = cfg.result_fields()
        diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if diff:
            detail = ", ".join(f"{k}: {old.get(k)!r} there vs {new.get(k)!r} now" for k in diff[:6])
            raise RunDirError(f"{out} holds another experiment (config differs in {detail}); choose another output folder")
        if not resume:
            raise RunDirError(f"{out} already holds this run; pass resume=True to continue it or choose another folder")
        return True
    if out.exists() and any(p for p in out.iterdir() if not p.name.startswith(".")):
        found = sorted(p.name for p in out.iterdir())[:5]
        raise RunDirError(f"{out} is not empty and holds no ferlib run (no config.json; found {found}); refusing to write there")
    out.mkdir(parents=True, exist_ok=True)
    return False


def check_label_set(cfg: TrainConfig, classes: tuple[str, ...]) -> int:
    """The number of classes to build; a ``num_classes`` override that disagrees with the store raises."""
    n = len(classes)
    asked = cfg.model_overrides.get("num_classes")
    if asked is not None and int(asked) != n:
        raise ValueError(f"num_classes={asked} was asked for {cfg.method!r}, but the data has {n} classes {list(classes)}")
    return n


def build_run_model(cfg: TrainConfig, num_classes: int) -> nn.Module:
    """The model of ``cfg`` (method, model profile, variant, overrides), initialised from ``cfg.seed``."""
    seed_everything(cfg.seed, -1)
    overrides = {k: v for k, v in cfg.model_overrides.items() if k != "num_classes"}
    try:
        model = build_model(cfg.method, cfg.profile, num_classes=num_classes, variant=cfg.variant, **overrides)
    except TypeError as exc:  # a misspelt or mistyped --model-set key
        if not overrides:
            raise
        raise ValueError(f"model arguments {overrides} do not fit {cfg.method}/{cfg.variant} ({cfg.profile}): {exc}") from exc
    if cfg.freeze_trunk:
        trunk = getattr(model, "trunk", None)
        if not isinstance(trunk, nn.Module):
            raise ValueError(f"freeze_trunk={cfg.freeze_trunk}: {cfg.method} has no per-frame CNN (model.trunk) to freeze")
        try:
            freeze_leading_convs(trunk, cfg.freeze_trunk)
        except ValueError as exc:
            raise ValueError(f"freeze_trunk={cfg.freeze_trunk} for {cfg.method} ({cfg.profile}): {exc}") from None
    return model


def check_starting_points(cfg: TrainConfig, model: nn.Module) -> None:
    """Fail before anything is written when the run's trunk (``init_trunk``) or starting checkpoint
    (``init_from``) cannot be had: a missing file, offline without a cached download, a source that
    does not fit the model (:func:`ferlib.models.trunks.trunk_plan`)."""
    if cfg.init_trunk:
        plan = trunk_plan(cfg.init_trunk, model, cfg.profile)
        if plan["status"] == "error":
            msg = plan["message"]  # named once: some messages already start with the source
            raise FileNotFoundError(msg if msg.startswith("init_trunk=") else f"init_trunk={cfg.init_trunk!r}: {msg}")
    if cfg.init_from and not Path(cfg.init_from).is_file():
        raise FileNotFoundError(f"init_from={cfg.init_from!r}: no such checkpoint file (a ferlib best.pt or last.pt)")


def init_from_checkpoint(model: nn.Module, path: str | Path, classes: tuple[str, ...]) -> dict[str, Any]:
    """Start ``model`` from another run's checkpoint (fine-tuning, e.g. KP-GCN-MSA's AFEW model from
    its DFEW model). Classifier rows are re-ordered by class name when both label sets hold the
    same classes; tensors whose shape differs (another class count) are dropped and reported.
    Returns ``{"checkpoint", "loaded", "dropped", "missing", "class_map"}``."""
    ckpt = load_checkpoint(path)
    theirs = [str(c).lower() for c in ckpt.get("classes", [])]
    ours = [str(c).lower() for c in classes]
    state = dict(ckpt["model"])
    own = model.state_dict()
    order = [theirs.index(c) for c in ours] if sorted(theirs) == sorted(ours) and theirs != ours else None
    # classifier layers: a weight of ≥ 2 dims whose rows are the classes; their weight and bias follow the class order
    n = len(theirs)
    heads = {k.rsplit(".", 1)[0] for k, v in state.items() if k.endswith("weight") and v.dim() >= 2 and v.shape[0] == n}
    loaded, dropped = [], []
    for key, value in list(state.items()):
        if key not in own:
            dropped.append(key)
            state.pop(key)
            continue
        if order is not None and key.rsplit(".", 1)[0] in heads and value.shape[0] == n:
            value = value[order]
            state[key] = value
        if tuple(value.shape) != tuple(own[key].shape):
            dropped.append(key)
            state.pop(key)
            continue
        loaded.append(key)
    missing = sorted(set(own) - set(state))
    model.load_state_dict({**own, **state})
    return {"checkpoint": str(path), "loaded": loaded, "dropped": dropped, "missing": missing,
            "class_map": "by name" if order is not None else "same order" if theirs == ours else "none (other label set)"}


def _split_indices(index: ClipIndex, split: Split, cfg: TrainConfig) -> Split:
    if cfg.select == "val" and len(split.val) == 0:
        split = with_validation(index, split, cfg.val_fraction, seed=cfg.seed)
    return split


def write_predictions(out: Path, index: ClipIndex, ev: EvalOutput) -> None:
    """``predictions.csv`` and ``byproducts.npz`` (rows aligned) for an evaluation."""
    classes = list(index.classes)
    sub = index.df.iloc[ev.rows]
    df = pd.DataFrame({
        "clip_id": sub["clip_id"].to_numpy(),
        "subject": sub["subject"].to_numpy(),
        "label": ev.y_true,
        "label_name": [classes[i] for i in ev.y_true],
        "pred": ev.y_pred,
        "pred_name": [classes[i] for i in ev.y_pred],
    })
    for j, c in enumerate(classes):
        df[f"prob_{c}"] = ev.probs[:, j]
    tmp = out / f".predictions.{uuid.uuid4().hex}.tmp"
    df.to_csv(tmp, index=False)
    os.replace(tmp, out / "predictions.csv")
    arrays = {k: v.astype(np.float32) if v.dtype.kind == "f" else v for k, v in ev.byproducts.items()}
    arrays.update(label=ev.y_true.astype(np.int64), pred=ev.y_pred.astype(np.int64))
    tmp = out / f".byproducts.{uuid.uuid4().hex}.npz"
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    os.replace(tmp, out / "byproducts.npz")


# --------------------------------------------------------------------------- fit

def epoch_line(row: dict[str, Any]) -> str:
    """One epoch's summary as ``key=value`` pairs: rates to four decimals, the learning rate in
    three significant digits (``lr=2e-05``, ``lr=0.001``; four decimals printed a decayed rate as 0.0000)."""
    def text(k: str, v: Any) -> str:
        if not isinstance(v, float):
            return f"{k}={v}"
        return f"{k}={v:.3g}" if k == "lr" else f"{k}={v:.4f}"
    return " ".join(text(k, v) for k, v in row.items())


def fit(cfg: TrainConfig, store: ClipStore, split: Split, out_dir: str | Path, resume: bool = True,
        index: ClipIndex | None = None) -> dict[str, Any]:
    """Train ``cfg`` on ``split`` of ``store``, select on validation, test, write ``out_dir``.

    Returns the dict written to ``metrics.json``. A folder that already holds this finished run
    returns its metrics without training; one that holds its unfinished run continues from
    ``last.pt``; either only when it was made on this store (``store.json``: classes, clip count,
    content fingerprint), otherwise :class:`RunDirError` names both stores. The config is checked
    and the model built before anything is written. A test fold with fewer than 5 clips of a class
    is warned about (:func:`ferlib.train.guards.warn_small_test_fold`). Under torchrun (see
    :mod:`ferlib.train.distributed`) every rank trains and rank 0 alone evaluates and writes. Rank 0
    holds the run folder's lock (:mod:`ferlib.train.lock`) from its checks to the end: another process
    given the same run waits, then reads it.
    """
    with ExitStack() as held:
        return _fit(cfg, store, split, out_dir, resume, index, held)


def _fit(cfg: TrainConfig, store: ClipStore, split: Split, out_dir: str | Path, resume: bool, index: ClipIndex | None,
         held: ExitStack) -> dict[str, Any]:
    ctx = distributed.context()
    out = Path(out_dir)
    index = index if index is not None else store.index()
    num_classes = check_label_set(cfg, tuple(store.classes))
    if tuple(index.classes) != tuple(store.classes):
        raise ValueError(f"index classes {index.classes} differ from the store's {store.classes} ({store.root})")
    set_determinism(cfg.deterministic)
    model = build_run_model(cfg, num_classes)  # before anything is written: bad model arguments fail here
    check_starting_points(cfg, model)
    existing = False
    if ctx.is_main:
        try:
            check_out_path(out, "output folder")
        except ValueError as exc:
            raise RunDirError(str(exc)) from None
        inside = Path(store.root).resolve()
        if out.resolve() == inside or inside in out.resolve().parents:
            raise RunDirError(f"output folder {out} lies inside the clip store {store.root}; a run folder there would break "
                              "the store: choose a folder outside it")
        # rank 0 reads its starting points before anything is written: a corrupt trunk or init_from
        # file fails here, and the corrected command is not refused as "another experiment"
        trunk_report = load_trunk(model, cfg.init_trunk, progress=cfg.progress)
        init_report = init_from_checkpoint(model, cfg.init_from, store.classes) if cfg.init_from else None
        record = store_record(store)
        prepare_run_dir(out, cfg, resume)  # refuses a wrong folder before the lock file is made in it
        held.enter_context(run_lock(out))
        existing = prepare_run_dir(out, cfg, resume)  # again: a process we waited for may have written it
        if existing:
            check_store_record(out, record, store, index, split)  # never reuse a run made on another store
        warn_small_test_fold(index, split)
    distributed.barrier()
    if (out / "metrics.json").is_file():
        return read_metrics(out / "metrics.json")
    if ctx.is_main:
        write_json(out / "config.json", cfg.to_dict())
        write_json(out / STORE_RECORD, record)
        print(f"ferlib: {cfg.method}/{cfg.variant} ({cfg.profile}) writing {out.resolve()}", flush=True)
        write_json(out / "trunk.json", trunk_report.to_dict())
        print(f"ferlib: {trunk_report.summary()}", flush=True)
        if init_report is not None:
            write_json(out / "init_from.json", init_report)
            print(f"ferlib: started from {cfg.init_from}: {len(init_report['loaded'])} tensors loaded, "
                  f"dropped {init_report['dropped']}", flush=True)
    device = choose_device(cfg)
    split = _split_indices(index, split, cfg)
    if ctx.is_main:
        write_json(out / SPLIT_RECORD, split_record(index, split))  # evaluate warns on clips the run has seen
    distributed.barrier()  # rank 0 made / downloaded the trunk file once; the others now read it
    if not ctx.is_main:
        load_trunk(model, cfg.init_trunk, progress=False)
        if cfg.init_from:
            init_from_checkpoint(model, cfg.init_from, store.classes)
    model = model.to(device)
    if cfg.channels_last and isinstance(getattr(model, "trunk", None), nn.Module):
        model.trunk.to(memory_format=torch.channels_last)  # 4-D weights NHWC; their activations follow
    optimizer = build_optimizer(param_groups(model, cfg), cfg)
    scheduler = build_scheduler(optimizer, cfg)
    history: list[dict[str, Any]] = []
    best: dict[str, Any] = {"epoch": -1, "val_accuracy": -1.0, "val_loss": float("inf")}
    timing = {"train_s": 0.0, "data_s": 0.0, "clips": 0, "load_s": 0.0}
    start = 0
    last_path = out / "last.pt"
    if existing or last_path.is_file():
        if last_path.is_file():
            ckpt = load_checkpoint(last_path, classes=store.classes)
            saved = TrainConfig.from_dict(ckpt["config"], str(last_path)).result_fields()
            if saved != cfg.result_fields():
                raise CheckpointError(f"{last_path} was written by another config; choose another output folder")
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
            set_rng_state(ckpt["rng"])
            history, best, start = list(ckpt["history"]), dict(ckpt["best"]), int(ckpt["epoch"])
            timing = dict(ckpt.get("timing", timing))
            if ctx.is_main:
                print(f"ferlib: resuming {out} after epoch {start}", flush=True)
    net: nn.Module = model
    if ctx.enabled:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None,
                                                  find_unused_parameters=True)
    runner: nn.Module = model  # what evaluates: the compiled module when compiling (same weights)
    if cfg.compile and precision(device, cfg) == "bf16" and isinstance(getattr(model, "trunk", None), nn.Module):
        # amp enters bf16 around the trunk by hooks (autocast_trunk), which dynamo cannot trace: the trunk's own
        # forward is compiled, inside them (the trunk is where the time goes)
        model.trunk.forward = torch.compile(model.trunk.forward)
    elif cfg.compile:
        net = torch.compile(net)  # type: ignore[assignment]
        runner = net if not ctx.enabled else torch.compile(model)  # type: ignore[assignment]
    pixels = method_spec(cfg.method).inputs != "landmarks"  # ST-GCN reads landmarks alone
    train_ds = make_dataset(store, index.subset(split.train), cfg, train=True, pixels=pixels, defer_unit=True)
    val_ds = make_dataset(store, index.subset(split.val), cfg, train=False, pixels=pixels) if len(split.val) else None
    test_ds = make_dataset(store, index.subset(split.test), cfg, train=False, pixels=pixels)
    timing["load_s"] = timing.get("load_s", 0.0) + sum(ds.hold() for ds in (train_ds, val_ds, test_ds) if ds is not None)
    per_rank = max(1, cfg.batch_size // ctx.world_size)
    show = cfg.progress and ctx.is_main
    dsampler = None
    if ctx.enabled:
        dsampler = torch.utils.data.distributed.DistributedSampler(train_ds, ctx.world_size, ctx.rank, shuffle=True, seed=cfg.seed)
    fetch = per_rank * (FETCH_STEPS if loader_workers(cfg) == 0 else 1)
    loader = StepBatches(make_loader(train_ds, cfg, True, start, fetch, dsampler), per_rank)  # one loader (and its workers) for every epoch
    val_loader = make_loader(val_ds, cfg, False) if val_ds is not None else None
    test_loader = make_loader(test_ds, cfg, False)
    for epoch in range(start, cfg.epochs):
        seed_everything(cfg.seed, epoch)
        train_ds.set_epoch(epoch)
        loader.sampler.set_epoch(epoch)
        if dsampler is not None:
            dsampler.set_epoch(epoch)
        t0 = time.perf_counter()
        stats = train_one_epoch(net, loader, optimizer, cfg, device, f"epoch {epoch + 1}/{cfg.epochs}", show)
        timing["train_s"] += time.perf_counter() - t0
        timing["data_s"] += stats["data_s"]
        timing["clips"] += stats["n"]
        if not np.isfinite(stats["loss"]):
            kept = f"{last_path} keeps epoch {epoch}" if last_path.is_file() else "no checkpoint was written"
            raise TrainingDiverged(
                f"training diverged in epoch {epoch + 1}: the mean training loss is {stats['loss']} (lr "
                f"{optimizer.param_groups[0]['lr']:g}); no metrics are reported and {kept}; lower lr or set grad_clip")
        lr = float(optimizer.param_groups[0]["lr"])  # the rate this epoch trained at (the last epoch's is not 0)
        scheduler.step()
        row: dict[str, Any] = {"epoch": epoch + 1, "train_loss": stats["loss"], "train_accuracy": stats["accuracy"],
                               "lr": lr}
        improved = False
        due = (epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs
        if ctx.is_main:
            if val_ds is not None and due:
                ev = evaluate_loader(runner, val_loader, cfg, device, desc="val", progress=show)
                if not np.isfinite(ev.loss):
                    kept = f"{last_path} keeps epoch {epoch}" if last_path.is_file() else "no checkpoint was written"
                    raise TrainingDiverged(f"training diverged in epoch {epoch + 1}: the validation loss is {ev.loss}; "
                                           f"no metrics are reported and {kept}; lower lr or set grad_clip")
                row.update(val_loss=ev.loss, val_accuracy=float(np.mean(ev.y_true == ev.y_pred)),
                           val_uar=summarize(ev.y_true, ev.y_pred, store.classes)["uar"])
                improved = row["val_accuracy"] > best["val_accuracy"] or (
                    row["val_accuracy"] == best["val_accuracy"] and ev.loss < best["val_loss"])
            if (cfg.eval_test_each_epoch or cfg.select == "last") and due:
                et = evaluate_loader(runner, test_loader, cfg, device, desc="test", progress=show)
                s = summarize(et.y_true, et.y_pred, store.classes)
                row.update(test_accuracy=s["accuracy"], test_uar=s["uar"])
            if cfg.select == "last":
                improved = True
            history.append(row)
            if improved:
                best = {"epoch": epoch + 1, "val_accuracy": row.get("val_accuracy", float("nan")),
                        "val_loss": row.get("val_loss", float("nan"))}
                save_checkpoint(out / "best.pt", {"kind": "best", "config": cfg.to_dict(), "classes": list(store.classes),
                                                  "epoch": epoch + 1, "model": model.state_dict(), "best": best})
            save_checkpoint(last_path, {
                "kind": "last", "config": cfg.to_dict(), "classes": list(store.classes), "epoch": epoch + 1,
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict(),
                "rng": rng_state(), "history": history, "best": best, "timing": timing,
            })
            if show:
                tqdm.write(epoch_line(row))
        distributed.barrier()
    metrics: dict[str, Any] = {}
    if ctx.is_main:
        metrics = _finish(cfg, store, index, split, model, test_ds, history, best, device, out, timing)
    distributed.barrier()
    if not ctx.is_main:
        metrics = json.loads((out / "metrics.json").read_text())
    return metrics


def _finish(cfg: TrainConfig, store: ClipStore, index: ClipIndex, split: Split, model: nn.Module, test_ds: ClipDataset,
            history: list[dict], best: dict, device: torch.device, out: Path, timing: dict) -> dict[str, Any]:
    """Reload the selected model, evaluate the test split with by-products, write the results."""
    ckpt = load_checkpoint(out / "best.pt", classes=store.classes)
    model.load_state_dict(ckpt["model"])
    ev = evaluate_loader(model, make_loader(test_ds, cfg, False), cfg, device, collect=True, desc="test", progress=cfg.progress)
    if not np.isfinite(ev.loss) or not np.isfinite(ev.probs).all():
        raise TrainingDiverged(f"the model of epoch {best['epoch']} ({out / 'best.pt'}) gives non-finite test scores (loss "
                               f"{ev.loss}); no metrics are reported; lower lr or set grad_clip")
    test_index = index.subset(split.test)
    write_predictions(out, test_index, ev)
    metrics = summarize(ev.y_true, ev.y_pred, store.classes)
    metrics.update({
        "method": cfg.method, "variant": cfg.variant, "profile": cfg.profile, "split": split.name,
        "precision": precision(device, cfg) if isinstance(getattr(unwrap(model), "trunk", None), nn.Module) else "fp32",
        "selection": "best validation epoch" if cfg.select == "val" else "last epoch",
        "selected_epoch": int(best["epoch"]),
        "val_accuracy_at_selected": best.get("val_accuracy"),
        "test_at_best_val": {"accuracy": metrics["accuracy"], "uar": metrics["uar"]},
        "n_train": int(len(split.train)), "n_val": int(len(split.val)), "n_test": int(len(split.test)),
        "history": history,
        "trunk": json.loads((out / "trunk.json").read_text()) if (out / "trunk.json").is_file() else None,
    })
    tested = [h for h in history if "test_accuracy" in h]
    if tested:
        leaky = max(tested, key=lambda h: (h["test_accuracy"], -h["epoch"]))
        metrics.update(best_test_epoch_leaky=leaky["epoch"], best_test_accuracy_leaky=leaky["test_accuracy"],
                       best_test_uar_leaky=leaky["test_uar"])
    write_json(out / "metrics.json", metrics)
    t = dict(timing)
    t["clips_per_s"] = t["clips"] / t["train_s"] if t["train_s"] else float("nan")
    t["data_wait_share"] = t["data_s"] / t["train_s"] if t["train_s"] else float("nan")
    write_json(out / "timing.json", t)
    if cfg.progress:
        print(f"ferlib: {out} test accuracy {metrics['accuracy']:.4f} UAR {metrics['uar']:.4f} "
              f"(epoch {best['epoch']} by validation)", flush=True)
    return metrics


# --------------------------------------------------------------------------- evaluate a checkpoint

def evaluate(checkpoint: str | Path, store: ClipStore, rows: np.ndarray | None = None, out_dir: str | Path | None = None,
             device: str = "auto", batch_size: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Evaluate a ferlib checkpoint on ``rows`` of ``store`` (default: every clip).

    Classes are matched **by name** (case-insensitive; common spellings such as ``Happiness`` via
    :func:`ferlib.data.labels.canonical_class`), so a model trained on one label set is scored on a
    store with another (:mod:`ferlib.train.classmap`): clips of store classes the checkpoint does
    not know are left out, the model's scores for classes the store lacks are dropped (softmax over
    the shared classes), and accuracy, UAR, per-class accuracy and the confusion matrix cover the
    shared classes in the store's order. The metrics say what was not mapped:
    ``unmatched_data_classes``, ``unmatched_checkpoint_classes`` and ``n_left_out`` (clips of
    unmatched classes); no class in common raises :class:`CheckpointError`.

    With ``out_dir`` (a new or empty folder, checked before anything runs) it writes
    ``metrics.json``, ``predictions.csv`` and ``byproducts.npz``."""
    out = None
    if out_dir is not None:
        out = Path(out_dir)
        try:
            check_out_path(out, "output folder")
        except ValueError as exc:
            raise RunDirError(str(exc)) from None
        if out.is_dir() and any(out.iterdir()):
            raise RunDirError(f"{out} is not empty; evaluate writes only into a new or empty folder")
    ckpt = load_checkpoint(checkpoint)
    trained = [str(c) for c in ckpt.get("classes", [])]
    mapping = match_classes(trained, store.classes)
    if not mapping:
        raise CheckpointError(f"{checkpoint} was trained on classes {trained}; the store {store.root} has "
                              f"{list(store.classes)}: no class in common (matched by name, case-insensitive)")
    cfg = TrainConfig.from_dict(ckpt["config"], str(checkpoint))
    cfg.device, cfg.progress = device, progress
    if batch_size:
        cfg.batch_size = batch_size
    model = build_run_model(cfg, len(trained))
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as exc:
        raise CheckpointError(f"{checkpoint}: weights do not fit {cfg.method}/{cfg.variant} ({str(exc)[:300]})") from exc
    dev = choose_device(cfg)
    model.to(dev)
    index = store.index()
    sub = index if rows is None else index.subset(np.asarray(rows))
    known = np.isin(sub.labels, list(mapping))
    n_left_out = int((~known).sum())
    if n_left_out:
        sub = sub.subset(known)
    if len(sub) == 0:
        raise ValueError(f"no clip to evaluate: the chosen clips of {store.root} are all of classes {checkpoint} does not know "
                         f"(it knows {trained})")
    n_seen = warn_trained_clips(checkpoint, store, sub.clip_ids)
    ds: Any = make_dataset(store, sub, cfg, False)
    identity = trained == list(store.classes)
    if not identity:
        ds = Relabeled(ds, mapping)
    ev = evaluate_loader(model, make_loader(ds, cfg, False), cfg, dev, collect=out is not None, progress=progress)
    if not identity:
        ev.y_true, ev.y_pred, ev.probs = to_data_classes(ev.y_true, ev.probs, mapping, len(store.classes))
    shared = sorted(mapping)
    pos = np.full(len(store.classes), -1)
    pos[shared] = np.arange(len(shared))
    metrics = summarize(pos[ev.y_true], pos[ev.y_pred], [store.classes[d] for d in shared])
    metrics.update(method=cfg.method, variant=cfg.variant, checkpoint=str(checkpoint), epoch=int(ckpt["epoch"]),
                   n_seen_in_training=n_seen)
    if not identity:
        metrics.update(
            checkpoint_classes=trained,
            unmatched_data_classes=[c for i, c in enumerate(store.classes) if i not in mapping],
            unmatched_checkpoint_classes=[c for j, c in enumerate(trained) if j not in set(mapping.values())],
            n_left_out=n_left_out,
        )
        if metrics["unmatched_data_classes"] or metrics["unmatched_checkpoint_classes"]:
            print(f"ferlib: scored on the {len(shared)} shared classes; not in the checkpoint: "
                  f"{metrics['unmatched_data_classes']} ({n_left_out} clips left out); not in the data: "
                  f"{metrics['unmatched_checkpoint_classes']} (their scores ignored)", flush=True)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_predictions(out, sub, ev)
        write_json(out / "metrics.json", metrics)
        if progress:
            print(f"ferlib: evaluation written to {out.resolve()}", flush=True)
    return metrics
