"""What each method costs: parameters, FLOPs per clip, inference clips/s, training time per epoch.

The KP-GCN-MSA paper (Sec. 4.3.5, Table 8) compares methods by parameter count, inference
speed (samples/s on an RTX 3090) and training time (hours for 80 epochs on DFEW's first fold);
Tables 3–4 add parameter counts of other methods (3D ResNet-18: 33 M). This module measures the
same quantities for ferlib's methods, on whatever machine runs it:

* :func:`count_parameters` — every parameter of the model as built by
  :func:`ferlib.models.registry.build_model` (a model profile's ``weights`` option is dropped when the
  pretrained file is not cached: the count does not depend on it);
* :func:`count_flops` / :func:`method_flops` — FLOPs of one forward pass of one clip, counted by
  ``torch.utils.flop_counter.FlopCounterMode`` (matrix products, convolutions and attention; a
  multiply-add counts as **2** FLOPs, so values are twice the "MACs" many papers call FLOPs).
  The model is first run on the ``meta`` device (shapes only: no memory, no time); a model whose
  forward needs real values (a data check) is run for real on the CPU at batch 1;
* :func:`inference_clips_per_s` — clips per second of ``model.eval()`` forwards without autograd,
  after ``warmup`` untimed passes, from the fastest of ``repeats`` timed passes (the one least
  disturbed by other work on the machine); :func:`machine_description` says what machine;
* :func:`run_timing` — training time read from finished runs' ``timing.json`` (written by
  :mod:`ferlib.train.engine`: ``train_s``, ``data_s``, ``clips``) and the number of epochs in
  their ``metrics.json`` history.

:func:`cost_table` puts our numbers beside the papers' (:data:`ferlib.paper_numbers.PAPER_COST`, each with its source)
and :func:`ferlib.viz.cost.cost_figure` draws them.
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from ferlib.analysis.runs import dataset_folder_name
from ferlib.models.registry import build_model, example_batch, method_spec, methods, model_inputs, model_profile
from ferlib.paper_numbers import PAPER_COST, PaperCost, paper_table
from ferlib.profiles import MODEL_PROFILES

NAN = float("nan")

#: the methods of notebook 10 (those whose spec has ``cost_row``: the four papers' and three baselines)
COST_METHODS: tuple[str, ...] = methods(lambda spec: spec.cost_row)


def _kp_table8() -> pd.DataFrame:
    """KP-GCN-MSA Table 8 as printed (methods ferlib does not implement included), from
    :mod:`ferlib.paper_numbers`."""
    t = paper_table("kp_table8")
    t = t[["params_M", "inference_samples_per_s", "training_time_h", "WAR"]].rename(columns={
        "params_M": "params (M)", "inference_samples_per_s": "inference (samples/s)",
        "training_time_h": "training time (h)", "WAR": "WAR on DFEW (%)"})
    t.index = [("KP-GCN-MSA (ours in the paper)" if i == "Ours" else i) for i in t.index]
    t.index.name = "method"
    return t


#: KP-GCN-MSA Table 8 as printed
KP_TABLE8 = _kp_table8()


# -- counting ------------------------------------------------------------------------------------
def count_parameters(module: nn.Module, trainable_only: bool = False) -> int:
    """Number of parameters of ``module`` (all, or only those with ``requires_grad``)."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"expected a torch.nn.Module, got {type(module).__name__}")
    return int(sum(p.numel() for p in module.parameters() if p.requires_grad or not trainable_only))


def build_for_cost(method: str, profile: str = "demo", num_classes: int | None = None) -> nn.Module:
    """``build_model(method, profile)`` in eval mode with the paper's class count
    (``MethodSpec.paper_classes``: ST-GCN's post uses 5); a profile whose pretrained weights are not cached is built
    with ``weights=None`` (same architecture, same counts and speed)."""
    classes = num_classes if num_classes is not None else method_spec(method).paper_classes
    try:
        model = build_model(method, profile, num_classes=classes)
    except FileNotFoundError:
        model = build_model(method, profile, num_classes=classes, weights=None)
    return model.eval()


def example_inputs(model: nn.Module, method: str, profile: str = "demo", batch: int = 1,
                   device: str | torch.device = "cpu", seed: int = 0) -> tuple[tuple[torch.Tensor, ...], dict[str, torch.Tensor]]:
    """Random inputs of the shape ``method``'s model ``profile`` feeds the model
    (:func:`ferlib.models.registry.example_batch` through the method's own batch → inputs rule):
    clips ``(batch, T, 3, S, S)``, plus landmarks for KP-GCN-MSA, landmark tensors for ST-GCN.
    Returns ``(args, kwargs)``."""
    args = model_inputs(method, example_batch(method, profile, batch, seed), torch.device(device))
    return args, {}


def input_shape(method: str, profile: str = "demo") -> str:
    """The clip one forward pass of ``method`` takes under model ``profile``, as text (``16×3×64×64``)."""
    chosen = model_profile(method, profile)
    if chosen.input_side == 0:
        return f"2×{chosen.num_frames}×68 landmarks"
    extra = " + landmarks" if method_spec(method).inputs == "frames+landmarks" else ""
    return f"{chosen.num_frames}×3×{chosen.input_side}×{chosen.input_side}{extra}"


def count_flops(model: nn.Module, args: Sequence[Any], kwargs: dict[str, Any] | None = None) -> int:
    """FLOPs of one forward pass ``model(*args, **kwargs)`` without autograd, as counted by
    ``FlopCounterMode`` (2 per multiply-add; see the module docstring). Works on meta tensors."""
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(*args, **(kwargs or {}))
    return int(counter.get_total_flops())


def method_flops(method: str, profile: str = "demo") -> tuple[int, str]:
    """FLOPs of one clip (batch 1) of ``method`` under model ``profile`` and how they were counted:
    ``"meta"`` (shapes only) or ``"cpu"`` (a real forward pass, for models whose forward checks
    values, such as KP-GCN-MSA's landmark check)."""
    try:
        with torch.device("meta"):
            model = build_for_cost(method, profile)
            args, kwargs = example_inputs(model, method, profile, 1, "meta")
        return count_flops(model, args, kwargs), "meta"
    except (RuntimeError, NotImplementedError):
        model = build_for_cost(method, profile)
        args, kwargs = example_inputs(model, method, profile, 1, "cpu")
        return count_flops(model, args, kwargs), "cpu"


# -- timing --------------------------------------------------------------------------------------
def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def inference_clips_per_s(model: nn.Module, args: Sequence[Any], kwargs: dict[str, Any] | None = None,
                          repeats: int = 3, warmup: int = 1, clock: Callable[[], float] = time.perf_counter) -> float:
    """Clips per second of ``model(*args, **kwargs)`` in eval mode without autograd: ``warmup``
    untimed passes, then the fastest of ``repeats`` timed ones; the batch is ``args[0].shape[0]``."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup}")
    if not args or not isinstance(args[0], torch.Tensor) or args[0].ndim == 0 or args[0].shape[0] < 1:
        raise ValueError("args[0] must be a batch tensor holding at least one clip")
    kwargs = kwargs or {}
    batch = int(args[0].shape[0])
    device = args[0].device
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for _ in range(warmup):
                model(*args, **kwargs)
            _sync(device)
            best = math.inf
            for _ in range(repeats):
                start = clock()
                model(*args, **kwargs)
                _sync(device)
                best = min(best, clock() - start)
    finally:
        model.train(was_training)
    return batch / max(best, 1e-9)


def _cpu_model() -> str:
    """The CPU's model name from ``/proc/cpuinfo`` (Linux), else ``""``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def cpu_summary() -> str:
    """The CPU's model name and the widest vector instructions torch's kernels use on it, e.g.
    ``"AMD EPYC (AVX2 kernels)"``: a virtual machine's model name alone can stand for CPUs whose
    kernels differ several-fold in speed (``AVX512`` against ``AVX2``)."""
    cpu = _cpu_model() or platform.processor() or platform.machine()
    return f"{cpu} ({torch.backends.cpu.get_cpu_capability()} kernels)"


def machine_description(device: str | torch.device = "cpu") -> str:
    """The machine the timings come from: CPU (model, kernels, logical CPUs, torch threads) or GPU name."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return f"{torch.cuda.get_device_name(dev)} (CUDA), torch {torch.__version__}"
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    return (f"CPU {cpu_summary()}, {os.cpu_count()} logical CPUs ({usable} usable by this process), "
            f"torch {torch.__version__} with {torch.get_num_threads()} threads")


def measure_method(method: str, speed_profile: str = "demo", flops_profiles: Sequence[str] = MODEL_PROFILES,
                   batch: int = 4, repeats: int = 3, warmup: int = 1, device: str | torch.device = "cpu",
                   seed: int = 0) -> dict[str, Any]:
    """One method's row: parameters under the demo and paper model profiles, FLOPs per clip under each
    of ``flops_profiles``, the input shapes, and inference clips/s of the ``speed_profile`` model
    on ``device`` at ``batch`` clips per pass."""
    row: dict[str, Any] = {"method": method}
    for profile in MODEL_PROFILES:
        with torch.device("meta"):
            row[f"params_{profile}"] = count_parameters(build_for_cost(method, profile))
        row[f"input_{profile}"] = input_shape(method, profile)
        row[f"flops_{profile}"] = NAN
        if profile in flops_profiles:
            row[f"flops_{profile}"], row[f"flops_{profile}_how"] = method_flops(method, profile)
    torch.manual_seed(seed)
    model = build_for_cost(method, speed_profile).to(device)
    args, kwargs = example_inputs(model, method, speed_profile, batch, device, seed)
    row["clips_per_s"] = inference_clips_per_s(model, args, kwargs, repeats, warmup)
    row.update(speed_profile=speed_profile, batch=batch, device=str(device))
    return row


# -- training time from runs ---------------------------------------------------------------------
def runs_folder(dataset: str, profile: str) -> str:
    """The ``<dataset>`` folder name under ``runs_dir`` that :mod:`ferlib.workbook` uses: the
    clip store's folder name, ``<dataset>-<profile>`` for the generated sets
    (:func:`ferlib.analysis.runs.dataset_folder_name`)."""
    return dataset_folder_name(dataset, profile)


def run_timing(experiment: str | Path) -> dict[str, Any] | None:
    """Training time of one experiment ``<runs_dir>/<dataset>/<method>/<variant>`` summed over its
    fold folders that hold ``timing.json``: ``folds``, ``epochs`` (per fold, from the history in
    ``metrics.json``), ``train_s``, ``s_per_epoch``, ``train_clips_per_s`` and ``data_wait_share``;
    ``None`` when no fold has finished."""
    exp = Path(experiment)
    folds = sorted(p.parent for p in exp.glob("*/timing.json")) if exp.is_dir() else []
    if not folds:
        return None
    train_s = data_s = clips = 0.0
    epochs: list[int] = []
    for fold in folds:
        timing = json.loads((fold / "timing.json").read_text())
        metrics_path = fold / "metrics.json"
        history = json.loads(metrics_path.read_text()).get("history", []) if metrics_path.is_file() else []
        train_s += float(timing["train_s"])
        data_s += float(timing.get("data_s", NAN))
        clips += float(timing["clips"])
        epochs.append(len(history))
    n_epochs = sum(epochs)
    return {"folds": len(folds), "epochs": int(round(n_epochs / len(folds))), "train_s": train_s,
            "s_per_epoch": train_s / n_epochs if n_epochs else NAN,
            "train_clips_per_s": clips / train_s if train_s else NAN,
            "data_wait_share": data_s / train_s if train_s else NAN}


def collect_run_timings(methods: Sequence[str], runs_dir: str | Path, dataset: str, profile: str,
                        variant: str = "full", train_missing: Callable[[str], Any] | None = None
                        ) -> dict[str, dict[str, Any] | str]:
    """:func:`run_timing` of ``<runs_dir>/<runs_folder(dataset, profile)>/<method>/<variant>`` for
    each method. A method without a finished run is first handed to ``train_missing(method)`` when
    given and when a notebook trains it (``MethodSpec.notebook``; baselines are only read), then
    read again; what is still missing maps to a note naming the folder and the notebook that makes it."""
    out: dict[str, dict[str, Any] | str] = {}
    for method in methods:
        exp = Path(runs_dir) / runs_folder(dataset, profile) / method / variant
        timing = run_timing(exp)
        maker = method_spec(method).notebook
        if timing is None and train_missing is not None and maker:
            train_missing(method)
            timing = run_timing(exp)
        if timing is None:
            how = f"run {maker} with train=True" if maker else "a baseline: read when present, never trained here"
            out[method] = f"no run in <runs_dir>/{exp.relative_to(runs_dir)} ({how})"
        else:
            out[method] = timing
    return out


# -- table ---------------------------------------------------------------------------------------
def cost_table(rows: Sequence[dict[str, Any]], timings: dict[str, dict[str, Any] | str | None] | None = None,
               missing_note: str = "no finished run") -> pd.DataFrame:
    """One row per method: our measurements (:func:`measure_method` rows), training time from
    ``timings[method]`` (a :func:`run_timing` dict; a string is shown as the reason there is none;
    ``None`` or absent shows ``missing_note``) and, clearly labelled ``paper:``, the published
    numbers of :data:`ferlib.paper_numbers.PAPER_COST`."""
    if not rows:
        raise ValueError("cost_table needs at least one measured method")
    timings = timings or {}
    out = []
    for r in rows:
        m = r["method"]
        speed = f"inference clips/s ({r['speed_profile']}, {r['device']}, batch {r['batch']})"
        t = timings.get(m)
        note = t if isinstance(t, str) else missing_note
        t = t if isinstance(t, dict) else None
        paper = PAPER_COST.get(m, PaperCost())
        out.append({
            "method": m,
            "params demo (M)": r["params_demo"] / 1e6,
            "params paper (M)": r["params_paper"] / 1e6,
            "GFLOPs/clip demo": r["flops_demo"] / 1e9,
            "GFLOPs/clip paper": r["flops_paper"] / 1e9,
            "clip demo": r["input_demo"],
            "clip paper": r["input_paper"],
            speed: r["clips_per_s"],
            "train s/epoch": t["s_per_epoch"] if t else NAN,
            "train clips/s": t["train_clips_per_s"] if t else NAN,
            "data wait (%)": 100 * t["data_wait_share"] if t else NAN,
            "training run": f"{t['folds']} fold(s) × {t['epochs']} epochs" if t else note,
            "paper: params (M)": paper.params_m,
            "paper: inference (clips/s)": paper.clips_per_s,
            "paper: training (h)": paper.train_h,
            "paper: source": paper.source,
        })
    table = pd.DataFrame(out).set_index("method")
    return table.round({"params demo (M)": 3, "params paper (M)": 2, "GFLOPs/clip demo": 3, "GFLOPs/clip paper": 2,
                        speed: 1, "train s/epoch": 2, "train clips/s": 1, "data wait (%)": 1})
