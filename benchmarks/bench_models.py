"""Speed and memory of every registered model, and what batching the frames through the trunk buys.

For every method the registry lists (or ``--methods``) and every profile (``paper`` is skipped on
CPU unless ``--paper`` is given, and then runs with batch 1), this prints a Markdown table with:

* forward clips/s (``eval()``, no autograd) and forward+backward clips/s (``train()``,
  cross-entropy on random labels, plus ``aux_logits`` when a model returns them), from the fastest
  of ``--repeats`` timed runs after a warm-up (the least disturbed by other processes);
* peak memory of one forward+backward step: on CUDA ``torch.cuda.max_memory_allocated`` (absolute,
  weights included); on CPU the growth of the process's peak resident set over the step, after
  freed heap memory is returned to the OS (glibc ``malloc_trim``), with the peak read from Linux
  ``VmHWM`` reset through ``/proc/self/clear_refs`` (elsewhere ``resource`` ``ru_maxrss``, which
  can only show growth beyond the run's earlier peak);
* the speed ratio of the model as built (``self.trunk`` run once on the ``B·T`` frames) to the same
  model whose ``self.trunk`` is replaced by a Python loop over the frame positions (``n/a`` for models
  without a per-frame trunk, ``-`` with ``--no-loop``);
* on a CPU, the forward ratio of the model as built (evaluation runs the trunk on chunks of
  ``CPU_CHUNK_FRAMES`` frames: :class:`ferlib.models.backbones.FrameTrunk`) to the same model
  running its trunk once on all ``B·T`` frames (``chunk_frames = 0``); it shows at batches of
  more than that many frames (``--batch 16`` for 16-frame clips);
* on a CPU, with the trunk in NHWC as training puts it (``channels_last``), the forward ratio of the
  model whose 2×2 max-pools run without autograd as two elementwise maxima
  (:func:`ferlib.models.backbones.max_pool_2x2`) to the same model pooling through ``max_pool2d``
  (``maxima_pool = False``).

Models of one row are timed interleaved, run by run, in the same process, so that a ratio compares
like with like even on a busy machine.

Usage::

    OMP_NUM_THREADS=2 python benchmarks/bench_models.py --device cpu --batch 4 --repeats 5
    python benchmarks/bench_models.py --device cuda --batch 16 --methods fan,fer_gcn
"""

from __future__ import annotations

import argparse
import copy
import ctypes
import resource
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ferlib.models.backbones import FrameTrunk  # noqa: E402
from ferlib.models.registry import available_methods, build_model, example_batch, method_spec, model_inputs  # noqa: E402


class FrameLoop(nn.Module):
    """A trunk applied in a Python loop over the frame positions of ``(B·T, 3, H, W)`` (clip-major,
    as the models flatten ``(B, T, …)``): one pass of ``B`` frames per position, as the official
    Emotion-FAN code runs it (a batch of 1 frame would break BatchNorm in training).

    Only for the benchmark's comparison; ferlib's models run the trunk once over all frames.
    """

    def __init__(self, trunk: nn.Module, frames_per_clip: int) -> None:
        super().__init__()
        self.inner = trunk
        self.t = frames_per_clip

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        clips = frames.unflatten(0, (-1, self.t))
        return torch.stack([self.inner(clips[:, i]) for i in range(self.t)], dim=1).flatten(0, 1)


@dataclass
class Row:
    method: str
    profile: str
    variant: str
    params: int = 0
    shape: str = ""
    batch: int = 0
    fwd: float = float("nan")
    train: float = float("nan")
    peak_mb: float = float("nan")
    ratio_fwd: float | None = None
    ratio_train: float | None = None
    ratio_chunks: float | None = None
    ratio_pool: float | None = None
    error: str = ""


def _status_kb(field: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _release_free_heap() -> None:
    """Give memory freed by earlier steps back to the OS (glibc ``malloc_trim``), so that the peak
    resident set of the next step shows what that step needs rather than the allocator's cache."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


@contextmanager
def peak_memory(device: torch.device) -> Iterator[dict[str, float]]:
    """Yields a dict whose ``"mb"`` holds the peak memory of the block when it ends (see module doc)."""
    out: dict[str, float] = {}
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        yield out
        torch.cuda.synchronize(device)
        out["mb"] = torch.cuda.max_memory_allocated(device) / 2**20
        return
    _release_free_heap()
    reset = False
    try:
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
        reset = True
    except OSError:
        pass
    before_kb = _status_kb("VmRSS") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    yield out
    after_kb = _status_kb("VmHWM") if reset else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out["mb"] = max(0, (after_kb or 0) - (before_kb or 0)) / 1024


def make_inputs(model: nn.Module, profile: str, method: str, batch: int, device: torch.device) -> tuple[tuple, dict, str]:
    """Random inputs of the shapes the model's profile feeds it (the method's own batch → inputs
    rule, :func:`ferlib.models.registry.model_inputs`); returns (args, kwargs, shape text)."""
    args = model_inputs(method, example_batch(method, profile, batch), device)
    shape = "+".join("x".join(str(d) for d in a.shape[1:]) for a in args)
    return args, {}, shape


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _fastest_seconds(steps: list[Callable[[], None]], repeats: int, device: torch.device) -> list[float]:
    """Seconds of the fastest of ``repeats`` runs of each step, the steps interleaved (A B A B …) so
    that other load on the machine hits them alike; one warm-up run each first."""
    for step in steps:
        step()  # warm-up (allocations, cuDNN algorithm choice)
    _sync(device)
    best = [float("inf")] * len(steps)
    for _ in range(repeats):
        for i, step in enumerate(steps):
            start = time.perf_counter()
            step()
            _sync(device)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _steps(model: nn.Module, args: tuple, kwargs: dict) -> tuple[Callable[[], None], Callable[[], None]]:
    """(forward without autograd, forward + cross-entropy + backward) closures for a model."""
    batch = args[0].shape[0]
    labels = torch.arange(batch, device=args[0].device) % int(getattr(model, "num_classes", 7))

    def forward() -> None:
        with torch.no_grad():
            model(*args, **kwargs)

    def train_step() -> None:
        model.zero_grad(set_to_none=True)
        logits, extras = model(*args, **kwargs)
        loss = F.cross_entropy(logits, labels)
        if "aux_logits" in extras:
            loss = loss + F.cross_entropy(extras["aux_logits"], labels)
        loss.backward()

    return forward, train_step


def measure(
    models: list[nn.Module], args: tuple, kwargs: dict, repeats: int, device: torch.device
) -> tuple[list[float], list[float], float]:
    """For each model: forward clips/s and forward+backward clips/s (interleaved timing); and the
    peak MB of one forward+backward step of the first model."""
    batch = args[0].shape[0]
    steps = [_steps(m, args, kwargs) for m in models]
    for m in models:
        m.eval()
    fwd = [batch / t for t in _fastest_seconds([f for f, _ in steps], repeats, device)]
    for m in models:
        m.train()
    train = [batch / t for t in _fastest_seconds([b for _, b in steps], repeats, device)]
    for m in models:
        m.zero_grad(set_to_none=True)
    with peak_memory(device) as mem:
        steps[0][1]()
    return fwd, train, mem["mb"]


def build(method: str, profile: str, variant: str, device: torch.device) -> nn.Module:
    """Build with the profile's settings; a profile asking for pretrained weights that are not in the
    local cache is rebuilt with ``weights=None`` (speed does not depend on the weights)."""
    torch.manual_seed(0)
    try:
        model = build_model(method, profile, variant=variant)
    except FileNotFoundError:
        model = build_model(method, profile, variant=variant, weights=None)
    return model.to(device)


def bench_one(method: str, profile: str, batch: int, repeats: int, device: torch.device, loop: bool) -> Row:
    variants = method_spec(method).variants
    variant = "full" if "full" in variants else next(iter(variants))
    row = Row(method, profile, variant, batch=batch)
    try:
        model = build(method, profile, variant, device)
        row.params = sum(p.numel() for p in model.parameters())
        args, kwargs, row.shape = make_inputs(model, profile, method, batch, device)
        models = [model]
        trunk = isinstance(getattr(model, "trunk", None), nn.Module)
        if loop and trunk:
            looped = copy.deepcopy(model)
            looped.trunk = FrameLoop(looped.trunk, args[0].shape[1])
            models.append(looped)
        if trunk and device.type == "cpu":
            whole, maxima = copy.deepcopy(model), copy.deepcopy(model)
            for m in whole.modules():
                if isinstance(m, FrameTrunk):
                    m.chunk_frames = 0
            maxima.trunk.to(memory_format=torch.channels_last)  # NHWC maps: what the maxima take
            kernel = copy.deepcopy(maxima)
            for m in kernel.modules():
                if isinstance(m, FrameTrunk):
                    m.maxima_pool = False
            models += [whole, maxima, kernel]
        fwd, train, row.peak_mb = measure(models, args, kwargs, repeats, device)
        row.fwd, row.train = fwd[0], train[0]
        if loop and trunk:
            row.ratio_fwd, row.ratio_train = fwd[0] / fwd[1], train[0] / train[1]
        elif not loop:
            row.ratio_fwd = row.ratio_train = float("nan")
        if trunk and device.type == "cpu":
            row.ratio_chunks, row.ratio_pool = fwd[0] / fwd[-3], fwd[-2] / fwd[-1]
        del models, model
    except Exception as err:  # one broken model must not hide the others' numbers
        row.error = f"{type(err).__name__}: {' '.join(str(err).split())[:120]}"
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return row


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None:
        return "n/a"
    if x != x:  # NaN
        return "-"
    return f"{x:.{digits}f}"


def markdown(rows: list[Row], device: torch.device, args: argparse.Namespace) -> str:
    head = (
        "| method | profile | variant | params (M) | clip (TxCxHxW) | batch | fwd clips/s | fwd+bwd clips/s "
        "| peak MB (fwd+bwd) | batched/loop fwd | batched/loop fwd+bwd | chunked/one-call fwd | maxima/kernel fwd (NHWC) |"
    )
    lines = [
        f"device: {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else 'CPU'}), "
        f"torch {torch.__version__}, threads {torch.get_num_threads()}, repeats {args.repeats}",
        "",
        head,
        "|" + "---|" * (head.count("|") - 1),
    ]
    for r in rows:
        if r.error:
            lines.append(f"| {r.method} | {r.profile} | {r.variant} | | | {r.batch} | error: {r.error} | | | | | | |")
            continue
        lines.append(
            f"| {r.method} | {r.profile} | {r.variant} | {r.params / 1e6:.3f} | {r.shape} | {r.batch} "
            f"| {_fmt(r.fwd)} | {_fmt(r.train)} | {_fmt(r.peak_mb, 0)} | {_fmt(r.ratio_fwd, 2)} "
            f"| {_fmt(r.ratio_train, 2)} | {_fmt(r.ratio_chunks, 2)} | {_fmt(r.ratio_pool, 2)} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu", help="cpu, cuda or cuda:N")
    p.add_argument("--batch", type=int, default=2, help="clips per batch (paper profile on CPU: always 1)")
    p.add_argument("--repeats", type=int, default=5, help="timed repetitions after one warm-up (fastest kept)")
    p.add_argument("--methods", default="", help="comma-separated method names (default: all registered)")
    p.add_argument("--profiles", default="demo,paper", help="comma-separated model profiles to consider")
    p.add_argument("--paper", action="store_true", help="also run the paper sizes on CPU (batch 1)")
    p.add_argument("--no-loop", action="store_true", help="skip the per-frame-loop comparison")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(f"--device {args.device}: CUDA is not available on this machine", file=sys.stderr)
        return 2
    if args.batch < 1 or args.repeats < 1:
        print("--batch and --repeats must be >= 1", file=sys.stderr)
        return 2
    known = available_methods()
    methods = [m.strip() for m in args.methods.split(",") if m.strip()] or known
    unknown = sorted(set(methods) - set(known))
    if unknown:
        print(f"unknown methods {unknown}; registered: {known}", file=sys.stderr)
        return 2
    rows = []
    for method in methods:
        for profile in [p.strip() for p in args.profiles.split(",") if p.strip()]:
            batch = args.batch
            if profile == "paper" and device.type == "cpu":
                if not args.paper:
                    continue
                batch = 1
            row = bench_one(method, profile, batch, args.repeats, device, loop=not args.no_loop)
            print(f"  {method}/{profile}: {_fmt(row.fwd)} fwd clips/s, {_fmt(row.train)} fwd+bwd clips/s"
                  + (f" [{row.error}]" if row.error else ""), file=sys.stderr, flush=True)
            rows.append(row)
    print(markdown(rows, device, args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
