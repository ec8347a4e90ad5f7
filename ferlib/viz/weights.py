"""Per-frame weights against the ground-truth intensity: FER-GCN Fig. 4, FAN Fig. 2, and numbers.

The papers show learned frame weights qualitatively:

* **FER-GCN Fig. 4** — the expression intensity weights ``softmax(mean(A, dim=0))`` (eq. 7) of a
  trained model over its N = 16 steps, "normalised through a sigmoid function". The weights are a
  softmax of the column means of A, so the sigmoid is applied to those column means, the scores the
  softmax turns into weights: ``sigmoid(mean(A, dim=0))`` (:func:`fer_gcn_fig4_weights`; it
  ranks the steps exactly as the weights do). They depend only on A, i.e. only on the frame
  *position*: every clip gets the same curve.
* **FAN Fig. 2** — bars of the self-attention weights α (eq. 1) and the final weights αβ (eq. 4)
  over the frames of one sequence per class. FAN is evaluated on all frames of a clip (FAN
  Table 1), so :func:`collect_frame_weights` runs a trained model on every stored frame.

On the generated data every frame has a known intensity, so the qualitative claims become
numbers: :func:`spearman_per_clip` (rank correlation between a clip's weights and its
ground-truth intensity, :func:`scipy.stats.spearmanr`), :func:`summarize_rho` (mean ± std, share of
clips with ρ > 0) and :func:`peak_position` (where the largest weight and the intensity apex fall,
as a fraction of the clip), drawn by :func:`weight_intensity_figure` (seaborn ``regplot``, ρ in the
legend) and :func:`peak_position_figure`.

Shapes: weights and intensities are ``(n_clips, T)`` arrays (one row per clip); positions are in
[0, 1] (0 = first frame of the clip, 1 = last).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from matplotlib.figure import Figure
from scipy.stats import spearmanr

from ferlib.viz.style import OURS_COLOR, palette

__all__ = [
    "check_weights",
    "spearman_per_clip",
    "summarize_rho",
    "peak_position",
    "relative_spread",
    "fer_gcn_fig4_weights",
    "collect_frame_weights",
    "fold_test_rows",
    "collect_run_weights",
    "weight_rows",
    "correlation_table",
    "one_clip_per_class",
    "verdicts",
    "weights_over_frames_figure",
    "fer_gcn_intensity_figure",
    "weight_intensity_figure",
    "peak_position_figure",
]



def _thumbnail_row(fig: Any, inner: Any, images: Sequence[np.ndarray], title: str) -> None:
    """Row 0 of the sub-grid ``inner``: one axis-free thumbnail per image, ``title`` on the first."""
    for c, img in enumerate(images):
        ax = fig.add_subplot(inner[0, c])
        ax.imshow(img)
        ax.set_xticks([])
        ax.set_yticks([])
        if c == 0:
            ax.set_title(title, fontsize=9, loc="left")

def check_weights(weights: np.ndarray, gt: np.ndarray | None = None, name: str = "weights") -> tuple[np.ndarray, np.ndarray | None]:
    """``weights`` as a float ``(n, T)`` array (a ``(T,)`` vector becomes one row) and ``gt`` of the
    same shape; raises ``ValueError`` naming what does not fit."""
    w = np.asarray(weights, dtype=np.float64)
    if w.ndim == 1:
        w = w[None]
    if w.ndim != 2 or w.shape[1] < 2:
        raise ValueError(f"{name} must be (n_clips, T) with T >= 2 frames, got shape {np.shape(weights)}")
    if not np.isfinite(w).all():
        raise ValueError(f"{name} contain NaN or inf values")
    if gt is None:
        return w, None
    g = np.asarray(gt, dtype=np.float64)
    if g.ndim == 1:
        g = g[None]
    if g.shape != w.shape:
        raise ValueError(
            f"{name} {w.shape} and ground-truth intensity {g.shape} must have the same shape (one row per clip, "
            "one column per sampled frame); were they taken with different samplers?")
    if not np.isfinite(g).all():
        raise ValueError("ground-truth intensity contains NaN: the data set has no per-frame intensity "
                         "(only generated data sets carry it)")
    return w, g


def spearman_per_clip(weights: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Spearman's ρ between each clip's frame weights and its ground-truth intensity.

    ``weights``, ``gt``: ``(n, T)``. Returns ``(n,)``; NaN for a clip whose weights or intensity are
    constant (ρ is undefined there)."""
    w, g = check_weights(weights, gt)
    assert g is not None
    rho = np.full(len(w), np.nan)
    for i, (wi, gi) in enumerate(zip(w, g)):
        if np.ptp(wi) > 0 and np.ptp(gi) > 0:
            rho[i] = float(spearmanr(wi, gi).statistic)
    return rho


def summarize_rho(rho: np.ndarray) -> dict[str, float]:
    """Mean ± std of per-clip ρ over the clips where it is defined, and the share of those clips
    with ρ > 0. Keys: ``n_clips``, ``n_defined``, ``rho_mean``, ``rho_std``, ``frac_rho_pos``."""
    r = np.asarray(rho, dtype=np.float64).ravel()
    ok = r[np.isfinite(r)]
    if len(ok) == 0:
        return {"n_clips": len(r), "n_defined": 0, "rho_mean": np.nan, "rho_std": np.nan, "frac_rho_pos": np.nan}
    return {"n_clips": len(r), "n_defined": len(ok), "rho_mean": float(ok.mean()), "rho_std": float(ok.std()),
            "frac_rho_pos": float((ok > 0).mean())}


def relative_spread(weights: np.ndarray) -> np.ndarray:
    """How much a clip's weights differ between frames: ``(max − min) / mean`` per row of
    ``weights`` ``(n, T)`` (0 = uniform; FAN's α of 0.2 … 0.8 gives about 1.2). Near-uniform weights
    (a FER-GCN whose A stayed at the identity) still have a ranking, but it means nothing."""
    w, _ = check_weights(weights)
    mean = np.abs(w.mean(axis=1))
    return np.ptp(w, axis=1) / np.maximum(mean, 1e-12)


def peak_position(values: np.ndarray, frame_idx: np.ndarray | None = None, n_frames: int | Sequence[int] | None = None) -> np.ndarray:
    """Where the maximum of each row falls, as a fraction of the clip in [0, 1].

    ``values`` ``(n, T)`` (or ``(T,)``): ties go to the first maximum, so a held apex (``lab``
    clips) counts from where it is reached. Without ``frame_idx`` the position is
    ``argmax / (T − 1)``; with ``frame_idx`` ``(n, T)`` (the stored frames that were sampled) and
    ``n_frames`` (frames of each clip) it is ``frame_idx[argmax] / (n_frames − 1)``."""
    v, _ = check_weights(values, None, "values")
    arg = v.argmax(axis=1)
    if frame_idx is None:
        return arg / (v.shape[1] - 1)
    idx = np.asarray(frame_idx)
    if idx.ndim == 1:
        idx = idx[None]
    if idx.shape != v.shape:
        raise ValueError(f"frame_idx {idx.shape} must have the shape of values {v.shape}")
    if n_frames is None:
        raise ValueError("peak_position needs n_frames (frames per clip) together with frame_idx")
    total = np.broadcast_to(np.asarray(n_frames, dtype=np.float64), (len(v),))
    if (total < 2).any():
        raise ValueError(f"n_frames must be >= 2 for every clip, got {np.asarray(n_frames)}")
    return idx[np.arange(len(v)), arg] / (total - 1)


def fer_gcn_fig4_weights(model: torch.nn.Module) -> np.ndarray:
    """FER-GCN Fig. 4: ``sigmoid(mean(A, dim=0))`` ``(N,)`` of a trained FER-GCN, the eq. 7 scores
    before the softmax, through a sigmoid as the paper plots them. Their order over the steps is the
    order of the intensity weights ``softmax(mean(A, dim=0))``."""
    adjacency = getattr(model, "adjacency", None)
    if adjacency is None:
        raise ValueError(
            f"{type(model).__name__} has no learned adjacency A: FER-GCN Fig. 4 needs the 'full' variant "
            "(graph modules with weighted fusion)")
    if getattr(model, "fusion", "weighted") != "weighted":
        raise ValueError("this FER-GCN fuses frames by their mean (fusion='mean'): it has no intensity weights")
    return torch.sigmoid(adjacency.detach().float().mean(dim=0)).cpu().numpy()


def collect_frame_weights(model: torch.nn.Module, cfg: Any, store: Any, rows: np.ndarray | None = None,
                          sampler: str | None = "all", batch_size: int = 8) -> dict[str, np.ndarray]:
    """Run a trained model on clips of ``store`` and return its by-products per clip (as
    ``byproducts.npz`` holds them): the model's extras (``alpha``, ``alpha_beta``,
    ``frame_weights``, ``embedding`` …) plus ``gt_intensity``, ``frame_idx``, ``label``, ``pred``,
    ``row`` and ``n_frames`` (stored frames of each clip).

    ``cfg`` is the run's :class:`~ferlib.train.config.TrainConfig`; ``sampler="all"`` feeds every
    stored frame (FAN's evaluation; only for models that take any T), ``None`` keeps the run's
    sampler (FER-GCN needs its N chronological frames). ``rows`` index ``store.index()``."""
    from ferlib.train.engine import choose_device, evaluate_loader, make_dataset, make_loader

    cfg = copy.deepcopy(cfg)
    if sampler is not None:
        cfg.sampler = sampler
    cfg.progress = False
    index = store.index()
    sub = index if rows is None else index.subset(np.asarray(rows))
    if len(sub) == 0:
        raise ValueError("collect_frame_weights got no clips (rows is empty)")
    ds = make_dataset(store, sub, cfg, train=False)
    device = choose_device(cfg)
    model = model.to(device).eval()
    ev = evaluate_loader(model, make_loader(ds, cfg, False, batch_size=batch_size), cfg, device, collect=True,
                         progress=False)
    out = dict(ev.byproducts)
    out.update(label=ev.y_true, pred=ev.y_pred, row=(np.arange(len(index)) if rows is None else np.asarray(rows))[ev.rows],
               n_frames=np.array([store.read(sub.clip_ids[i]).n_frames for i in ev.rows]))
    return out


def fold_test_rows(fold_dir: str | Path, store: Any, by_subject: bool = False) -> np.ndarray:
    """Rows of ``store.index()`` for the test clips of a finished fold (its ``predictions.csv``).

    ``by_subject=False``: the fold's own test clips (``store`` is the set it was trained on).
    ``by_subject=True``: every clip of ``store`` — another data set with the same subjects, e.g.
    ``synth-lab-return`` for a run trained on ``synth-lab`` — whose subject is one of the fold's
    test subjects, so the model has never seen those faces."""
    pred = pd.read_csv(Path(fold_dir) / "predictions.csv", dtype={"clip_id": str, "subject": str})
    index = store.index()
    if by_subject:
        rows = np.flatnonzero(np.isin(index.subjects.astype(str), pred["subject"].unique()))
        if len(rows) == 0:
            raise ValueError(f"{store.root} has no clip of the test subjects of {fold_dir} "
                             f"({sorted(pred['subject'].unique())[:5]} …)")
        return rows
    where = {cid: i for i, cid in enumerate(index.clip_ids)}
    missing = [c for c in pred["clip_id"] if c not in where]
    if missing:
        raise ValueError(f"{fold_dir} tested clips that {store.root} does not hold ({missing[:3]} …): "
                         "was the run trained on another data set?")
    return np.array([where[c] for c in pred["clip_id"]], dtype=np.int64)


def collect_run_weights(fold_dirs: Sequence[str | Path], store: Any, sampler: str | None = "all",
                        by_subject: bool = False) -> dict[str, np.ndarray]:
    """:func:`collect_frame_weights` for the test clips of each finished fold (loaded with
    :func:`ferlib.workbook.load_run_model`; rows from :func:`fold_test_rows`), concatenated over
    the folds; ``fold`` ``(n,)`` says which fold each clip came from."""
    from ferlib.workbook import load_run_model

    parts: list[dict[str, np.ndarray]] = []
    for k, fd in enumerate(fold_dirs):
        model, cfg = load_run_model(fd)
        out = collect_frame_weights(model, cfg, store, fold_test_rows(fd, store, by_subject), sampler)
        out["fold"] = np.full(len(out["label"]), k)
        parts.append(out)
    if not parts:
        raise ValueError("collect_run_weights needs at least one fold folder")
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def weight_rows(byproducts: Mapping[str, np.ndarray], keys: Sequence[str], n_frames: np.ndarray | int,
                method: str, dataset: str, trained_on: str) -> list[dict[str, Any]]:
    """Table rows for :func:`correlation_table`: for each by-product in ``keys`` (``(n, T)``), the
    ρ summary against ``gt_intensity`` and the peak positions of the weights and of the intensity
    (``frame_idx`` places the sampled frames in their clip of ``n_frames`` frames). The key
    ``"frame_index"`` is a reference, not a by-product: weights that simply grow with the frame
    index (what a position-only weighting that favours late frames can reach)."""
    missing = [k for k in (*keys, "gt_intensity", "frame_idx") if k not in byproducts and k != "frame_index"]
    if missing:
        raise KeyError(f"by-products lack {missing}; they hold {sorted(byproducts)}")
    gt, idx = byproducts["gt_intensity"], byproducts["frame_idx"]
    apex = peak_position(gt, idx, n_frames)
    rows = []
    for key in keys:
        w = idx.astype(np.float64) if key == "frame_index" else byproducts[key]
        peak = peak_position(w, idx, n_frames)
        ref = key == "frame_index"
        rows.append({
            "method": "reference" if ref else method, "weights": key, "dataset": dataset,
            "trained_on": "—" if ref else trained_on,
            **summarize_rho(spearman_per_clip(w, gt)),
            "weight_spread": float(relative_spread(w).mean()),
            "peak_pos_mean": float(peak.mean()), "gt_apex_pos_mean": float(apex.mean()),
            "peak_minus_apex_mean": float((peak - apex).mean()),
            "abs_peak_minus_apex_mean": float(np.abs(peak - apex).mean()),
            "_peak": peak, "_apex": apex,
        })
    return rows


def correlation_table(rows: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (method, weights, data set, training set): ρ mean ± std, share of clips with
    ρ > 0, mean peak and apex positions. Columns starting with ``_`` (per-clip arrays) are dropped."""
    if not rows:
        raise ValueError("correlation_table needs at least one row")
    df = pd.DataFrame([{k: v for k, v in r.items() if not k.startswith("_")} for r in rows])
    return df.round(3)


def one_clip_per_class(labels: np.ndarray, pred: np.ndarray | None = None) -> dict[int, int]:
    """For each class present in ``labels`` ``(n,)``, the position of one clip: the first correctly
    predicted one when ``pred`` is given and there is one, else the first. Returns class → position."""
    y = np.asarray(labels)
    p = None if pred is None else np.asarray(pred)
    if p is not None and p.shape != y.shape:
        raise ValueError(f"pred {p.shape} must have the shape of labels {y.shape}")
    chosen = {}
    for k in np.unique(y):
        pos = np.flatnonzero(y == k)
        good = pos if p is None else pos[p[pos] == k]
        chosen[int(k)] = int(good[0] if len(good) else pos[0])
    return chosen


def verdicts(table: pd.DataFrame, rho_follow: float = 0.5, frac_follow: float = 0.8, peak_tol: float = 0.15,
             min_spread: float = 0.05) -> list[str]:
    """One plain sentence per row of :func:`correlation_table`: whether the weights follow the
    ground-truth intensity (mean ρ ≥ ``rho_follow`` and ρ > 0 in ≥ ``frac_follow`` of the clips:
    "follow"; mean ρ > 0.2: "follow weakly"; otherwise "do NOT follow") and whether their peak
    falls on the apex (mean |peak − apex| ≤ ``peak_tol`` of the clip length). Weights whose
    relative spread is below ``min_spread`` (5 %) are called practically uniform: the model does
    not weight its frames, whatever their ranking correlates with."""
    out = []
    for _, r in table.iterrows():
        spread = r.get("weight_spread", np.inf)
        if r["method"] != "reference" and np.isfinite(spread) and spread < min_spread:
            out.append(
                f"{r['method']} {r['weights']} on {r['dataset']} (trained on {r['trained_on']}): the weights are "
                f"practically uniform (they differ by {100 * spread:.2f} % between frames) → the model does NOT weight "
                f"its frames; their ranking (ρ = {r['rho_mean']:.2f}, peak at {r['peak_pos_mean']:.2f} vs apex at "
                f"{r['gt_apex_pos_mean']:.2f}) means nothing.")
            continue
        if not np.isfinite(r["rho_mean"]):
            follow = "cannot be compared with the intensity (ρ undefined: constant weights or intensity)"
        elif r["rho_mean"] >= rho_follow and r["frac_rho_pos"] >= frac_follow:
            follow = "follow the intensity"
        elif r["rho_mean"] > 0.2:
            follow = "follow the intensity only weakly"
        else:
            follow = "do NOT follow the intensity"
        where = "on" if r["abs_peak_minus_apex_mean"] <= peak_tol else "NOT on"
        out.append(
            f"{r['method']} {r['weights']} on {r['dataset']} (trained on {r['trained_on']}): "
            f"ρ = {r['rho_mean']:.2f} ± {r['rho_std']:.2f}, ρ > 0 in {100 * r['frac_rho_pos']:.0f} % of "
            f"{int(r['n_defined'])} clips → the weights {follow}; peak at {r['peak_pos_mean']:.2f} of the clip vs GT apex "
            f"at {r['gt_apex_pos_mean']:.2f} (mean |Δ| = {r['abs_peak_minus_apex_mean']:.2f}) → peak {where} the apex.")
    return out


def weights_over_frames_figure(clips: Sequence[Mapping[str, Any]], ylabel: str = "weight",
                               max_frames: int = 16, title: str = "", scale: str = "none") -> Figure:
    """FAN Fig. 2 style: per clip a row of frame thumbnails above grouped bars of its weights
    (seaborn ``barplot``, one hue per series).

    Each clip is a dict with ``frames`` ``(T, H, W, 3)`` uint8, ``series`` ``{name: (T,)}`` (bars,
    one colour each), ``gt`` ``(T,)`` (drawn as a line on the same [0, 1] axis) and ``title``.
    Clips longer than ``max_frames`` show ``max_frames`` evenly spaced frames; ``title`` and one
    legend go on top. ``scale="max"`` divides each series by its largest value in the clip (FAN
    normalises α and αβ by their sum, so only their ratios between frames matter, and raw sigmoid
    outputs can be tiny); the raw maxima are then written in the clip's title."""
    if not clips:
        raise ValueError("weights_over_frames_figure needs at least one clip")
    if scale not in ("none", "max"):
        raise ValueError(f"scale must be 'none' or 'max', got {scale!r}")
    t_max = max(min(len(c["frames"]), max_frames) for c in clips)
    height = 2.15 * len(clips) + 0.7
    fig = plt.figure(figsize=(0.62 * t_max + 1.6, height))
    outer = fig.add_gridspec(len(clips), 1, hspace=0.55, top=1 - 0.75 / height, bottom=0.35 / height)
    fig.suptitle(title, y=1 - 0.08 / height, fontsize=10)
    for r, clip in enumerate(clips):
        frames = np.asarray(clip["frames"])
        t = len(frames)
        keep = np.round(np.linspace(0, t - 1, min(t, max_frames))).astype(int)
        series = {k: np.asarray(v, dtype=float) for k, v in clip["series"].items()}
        for k, v in series.items():
            if len(v) != t:
                raise ValueError(f"clip {r}: series {k!r} has {len(v)} values for {t} frames")
        head = clip.get("title", "")
        if scale == "max":
            head += "   (max: " + ", ".join(f"{k.split()[0]} {v.max():.2g}" for k, v in series.items()) + ")"
            series = {k: v / v.max() if v.max() > 0 else v for k, v in series.items()}
        inner = outer[r].subgridspec(2, len(keep), height_ratios=[1, 1.5], hspace=0.05, wspace=0.05)
        _thumbnail_row(fig, inner, [frames[i] for i in keep], head)
        ax = fig.add_subplot(inner[1, :])
        x = np.arange(len(keep))
        bars = pd.DataFrame([{"pos": p, "series": name, "weight": v[i]} for name, v in series.items()
                             for p, i in enumerate(keep)])
        # categorical x = position of the shown frame (0 … len(keep) − 1), ticks say which frame
        sns.barplot(data=bars, x="pos", y="weight", hue="series", hue_order=list(series),
                    palette=palette(len(series)), width=0.8, errorbar=None, ax=ax)
        if clip.get("gt") is not None:
            ax.plot(x, np.asarray(clip["gt"], dtype=float)[keep], "k.-", lw=1, ms=4, label="GT intensity")
        handles, labels = ax.get_legend_handles_labels()
        if ax.get_legend() is not None:
            ax.get_legend().remove()
        ax.set_xlim(-0.5, len(keep) - 0.5)
        ax.set_ylim(0, 1.05)
        ax.set_xticks(x, [str(int(i)) for i in keep], fontsize=7)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_xlabel("frame" if r == len(clips) - 1 else "", fontsize=8)
        ax.grid(axis="x", visible=False)
        if r == 0:
            fig.legend(handles, labels, fontsize=8, ncol=len(series) + 1, loc="upper center",
                       bbox_to_anchor=(0.5, 1 - 0.33 / height), frameon=False)
    return fig


def fer_gcn_intensity_figure(curves: Mapping[str, np.ndarray], gt: Mapping[str, np.ndarray],
                             frames: Mapping[str, np.ndarray] | None = None) -> Figure:
    """FER-GCN Fig. 4: one panel per model with its sigmoid-normalised intensity weights over the N
    steps (bars, seaborn ``barplot``, left axis, scaled to their own range: a model that barely
    moved A from the identity has weights all near sigmoid(1/N)) and the mean ± std ground-truth
    intensity of the test clips at the same steps (seaborn ``lineplot``, ``errorbar="sd"``, right
    axis, [0, 1]); optional thumbnails ``(N, H, W, 3)`` of one clip above each panel. Keys are
    panel titles; ``curves[k]`` ``(N,)``, ``gt[k]`` ``(n_clips, N)``."""
    if not curves:
        raise ValueError("fer_gcn_intensity_figure needs at least one curve")
    names = list(curves)
    n = max(len(np.asarray(curves[k])) for k in names)
    fig = plt.figure(figsize=(max(6.5, 0.5 * n + 2.0), 2.9 * len(names)))
    outer = fig.add_gridspec(len(names), 1, hspace=0.55)
    for r, name in enumerate(names):
        w = np.asarray(curves[name], dtype=float)
        g = np.asarray(gt[name], dtype=float)
        if g.ndim != 2 or g.shape[1] != len(w):
            raise ValueError(f"{name}: ground truth must be (n_clips, {len(w)}), got {g.shape}")
        thumbs = None if frames is None or name not in frames else np.asarray(frames[name])
        inner = outer[r].subgridspec(2 if thumbs is not None else 1, len(w), hspace=0.05, wspace=0.05,
                                     height_ratios=[1, 2.2] if thumbs is not None else [1])
        if thumbs is not None:
            _thumbnail_row(fig, inner, [thumbs[c] for c in range(len(w))], name)
        ax = fig.add_subplot(inner[-1, :])
        x = np.arange(len(w))  # categorical positions of seaborn's bars; step k + 1 sits at k
        sns.barplot(x=x, y=w, color=OURS_COLOR, width=0.7, errorbar=None, label="sigmoid(mean(A, 0))", ax=ax)
        span = max(float(np.ptp(w)), 1e-4)
        ax.set_ylim(float(w.min()) - 0.15 * span, float(w.max()) + 0.15 * span)
        ax.yaxis.set_major_formatter(plt.FormatStrFormatter("%.4f" if span < 0.01 else "%.3f" if span < 0.1 else "%.2f"))
        ax.set_xlim(-0.6, len(w) - 0.4)
        ax.set_xticks(x, [str(k + 1) for k in x])
        ax.tick_params(labelsize=7)
        ax.set_xlabel("step (frame node)", fontsize=8)
        ax.set_ylabel("intensity weight\n(sigmoid)", fontsize=8, color=OURS_COLOR)
        ax.grid(axis="x", visible=False)
        if thumbs is None:
            ax.set_title(name, fontsize=9)
        right = ax.twinx()
        long = pd.DataFrame({"step": np.tile(x, len(g)), "gt": g.ravel()})
        sns.lineplot(data=long, x="step", y="gt", color="black", marker=".", errorbar="sd", err_kws={"alpha": 0.12},
                     lw=1.2, label="GT intensity (test clips, mean ± std)", ax=right)
        right.set_ylim(-0.02, 1.05)
        right.set_ylabel("GT intensity", fontsize=8)
        right.set_xlabel("step (frame node)", fontsize=8)
        right.tick_params(labelsize=7)
        right.grid(False)
        handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
        for a in (ax, right):
            if a.get_legend() is not None:
                a.get_legend().remove()
        if r == 0:  # one legend under the last panel, clear of the bars
            fig.legend(handles, [h.get_label() for h in handles], fontsize=8, ncol=2, loc="upper center",
                       bbox_to_anchor=(0.5, 0.0), frameon=False)
    return fig


def weight_intensity_figure(weights: Mapping[str, np.ndarray], gt: Mapping[str, np.ndarray], title: str = "",
                            max_points: int = 4000, seed: int = 0) -> Figure:
    """Each sampled frame's weight against its ground-truth intensity, one panel per key (seaborn
    ``regplot``: points and a least-squares line with its 95 % bootstrap band). ``weights[k]`` and
    ``gt[k]`` are ``(n_clips, T)``; each clip's weights are divided by their largest value (so
    that clips compare: FAN's α and a softmax live on different scales; a rank correlation does not
    change). The legend gives Spearman's ρ per clip (mean ± std, as :func:`summarize_rho`) and over
    all frames pooled. At most ``max_points`` frames are drawn (a random subset; the numbers use
    all)."""
    if not weights:
        raise ValueError("weight_intensity_figure needs at least one series of weights")
    missing = [k for k in weights if k not in gt]
    if missing:
        raise KeyError(f"no ground-truth intensity for {missing}; gt has {sorted(gt)}")
    rng = np.random.default_rng(seed)
    fig, axes = plt.subplots(1, len(weights), figsize=(3.5 * len(weights) + 0.4, 3.7), squeeze=False, sharey=True)
    for j, (ax, (name, raw)) in enumerate(zip(axes[0], weights.items())):
        w, g = check_weights(raw, gt[name], name)
        assert g is not None
        top = w.max(axis=1, keepdims=True)
        w = np.divide(w, top, out=np.zeros_like(w), where=top > 0)
        s = summarize_rho(spearman_per_clip(w, g))
        pooled = float(spearmanr(g.ravel(), w.ravel()).statistic) if np.ptp(g) > 0 and np.ptp(w) > 0 else np.nan
        show = rng.permutation(w.size)[:max_points]
        colour = palette(len(weights))[j]
        sns.regplot(x=g.ravel()[show], y=w.ravel()[show], ax=ax, color=colour, n_boot=200, seed=seed, truncate=True,
                    scatter_kws={"s": 10, "alpha": 0.35, "linewidths": 0},
                    line_kws={"lw": 1.6, "label": "least-squares line (95 % band)"},
                    label=f"per clip: ρ = {s['rho_mean']:.2f} ± {s['rho_std']:.2f} (n = {s['n_defined']})\n"
                          f"all frames: ρ = {pooled:.2f}")
        ax.set_xlim(-0.03, 1.03)
        ax.set_ylim(-0.03, 1.08)
        ax.set_xlabel("GT intensity of the frame", fontsize=8)
        ax.set_ylabel("weight / clip max", fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False, title="Spearman",
                  title_fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def peak_position_figure(rows: Sequence[Mapping[str, Any]], title: str = "") -> Figure:
    """Peak of the weights against the ground-truth apex, per clip: one panel per (method, weights),
    points (seaborn ``scatterplot``) coloured by data set, crosses for a data set the model was not
    trained on, the diagonal where they agree. The legend gives each data set's mean Spearman ρ
    between the weights and the intensity and mean |peak − apex|. ``rows`` are
    :func:`weight_rows` outputs (their ``_peak`` / ``_apex`` arrays)."""
    if not rows:
        raise ValueError("peak_position_figure needs at least one row")
    panels: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        panels.setdefault(f"{r['method']} · {r['weights']}", []).append(r)
    datasets = sorted({r["dataset"] for r in rows})
    colours = palette(len(datasets))
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6), squeeze=False)
    rng = np.random.default_rng(0)
    for ax, (name, group) in zip(axes[0], panels.items()):
        ax.plot([0, 1], [0, 1], color="0.5", lw=0.8, ls="--", zorder=1)
        for r in group:
            ci = datasets.index(r["dataset"])
            jitter = rng.uniform(-0.012, 0.012, size=(2, len(r["_apex"])))
            marker = "o" if r["trained_on"] in (r["dataset"], "—") else "X"
            label = r["dataset"] if r["trained_on"] == "—" else f"{r['dataset']} (trained on {r['trained_on']})"
            if "rho_mean" in r:
                label += f"\nρ = {r['rho_mean']:.2f}, |peak − apex| = {r['abs_peak_minus_apex_mean']:.2f}"
            sns.scatterplot(x=np.asarray(r["_apex"]) + jitter[0], y=np.asarray(r["_peak"]) + jitter[1], s=18,
                            alpha=0.6, color=colours[ci], marker=marker, linewidth=0.3, edgecolor="white",
                            label=label, ax=ax)
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.set_aspect("equal")
        ax.set_xlabel("GT apex position in clip", fontsize=8)
        ax.set_ylabel("peak weight position in clip", fontsize=8)
        ax.set_title(name, fontsize=9)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
