"""Per-frame weights against the ground-truth intensity, as numbers (FER-GCN Fig. 4, FAN Fig. 2).

The papers show learned frame weights qualitatively:

* **FER-GCN Fig. 4** — the expression intensity weights ``softmax(mean(A, dim=0))`` (eq. 7) of a
  trained model over its N = 16 steps, "normalised through a sigmoid function". The weights are a
  softmax of the column means of A, so the sigmoid is applied to those column means, the scores the
  softmax turns into weights: ``sigmoid(mean(A, dim=0))`` (:func:`fer_gcn_fig4_weights`; it
  ranks the steps exactly as the weights do). They depend only on A, i.e. only on the frame
  *position*: every clip gets the same curve.
* **FAN Fig. 2** — bars of the self-attention weights α (eq. 1) and the final weights αβ (eq. 4)
  over the frames of one sequence per class; the weights of a trained model on every frame come
  from :func:`ferlib.analysis.inference.collect_run_weights`.

On the generated data every frame has a known intensity, so the qualitative claims become
numbers: :func:`spearman_per_clip` (rank correlation between a clip's weights and its
ground-truth intensity, :func:`scipy.stats.spearmanr`), :func:`summarize_rho` (mean ± std, share of
clips with ρ > 0), :func:`spearman_pooled` (every frame of every clip at once),
:func:`weight_intensity_data` (the points and ρ of a weight-against-intensity plot), :func:`peak_position` (where the largest weight and the intensity apex fall,
as a fraction of the clip), gathered per method by :func:`weight_rows` into
:func:`correlation_table`, said in words by :func:`verdicts` and lined up against each paper claim
by :func:`claim_rows`. :mod:`ferlib.viz.weights` draws them.

Shapes: weights and intensities are ``(n_clips, T)`` arrays (one row per clip); positions are in
[0, 1] (0 = first frame of the clip, 1 = last).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import torch
from scipy.stats import spearmanr

from ferlib.models.registry import method_spec, methods

__all__ = [
    "check_weights",
    "spearman_per_clip",
    "summarize_rho",
    "spearman_pooled",
    "weight_intensity_data",
    "peak_position",
    "relative_spread",
    "fer_gcn_fig4_weights",
    "weight_rows",
    "correlation_table",
    "one_clip_per_class",
    "verdicts",
    "claim_rows",
    "WEIGHT_METHODS",
    "RETURN_TRAIN",
]

#: the methods with per-frame weights to measure (``MethodSpec.weight_claims``; notebook 07), in the workbook's order
WEIGHT_METHODS: tuple[str, ...] = methods(lambda spec: bool(spec.weight_claims))
#: those of them with a claim on clips whose apex is mid-clip, trained there too by default (notebook 07)
RETURN_TRAIN: tuple[str, ...] = methods(lambda spec: any(c == "return" for _, c, _ in spec.weight_claims))


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


def spearman_pooled(weights: np.ndarray, gt: np.ndarray) -> float:
    """Spearman's ρ over every frame of every clip (``(n, T)`` each, flattened together); NaN when
    the weights or the intensity are constant throughout."""
    w, g = check_weights(weights, gt)
    assert g is not None
    if np.ptp(w) == 0 or np.ptp(g) == 0:
        return float("nan")
    return float(spearmanr(w.ravel(), g.ravel()).statistic)


def weight_intensity_data(weights: Mapping[str, np.ndarray], gt: Mapping[str, np.ndarray], max_points: int = 4000,
                          seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each frame's weight against its ground-truth intensity, per series ``weights[k]`` / ``gt[k]``
    ``(n_clips, T)``. Each clip's weights are divided by their largest value (so that clips compare:
    FAN's α and a softmax live on different scales; a rank correlation does not change).

    Returns ``points`` (``series``, ``intensity``, ``weight``: at most ``max_points`` frames per
    series, a random subset drawn with ``seed``) and ``summary`` (one row per series: ``n_clips``,
    ``n_defined``, ``rho_mean``, ``rho_std``, ``frac_rho_pos`` of :func:`summarize_rho` over all its
    clips, and ``rho_pooled``: :func:`spearman_pooled` over all its frames)."""
    if not weights:
        raise ValueError("weight_intensity_data needs at least one series of weights")
    missing = [k for k in weights if k not in gt]
    if missing:
        raise KeyError(f"no ground-truth intensity for {missing}; gt has {sorted(gt)}")
    if max_points < 1:
        raise ValueError(f"max_points must be >= 1, got {max_points}")
    rng = np.random.default_rng(seed)
    points, summary = [], {}
    for name, raw in weights.items():
        w, g = check_weights(raw, gt[name], name)
        assert g is not None
        top = w.max(axis=1, keepdims=True)
        w = np.divide(w, top, out=np.zeros_like(w), where=top > 0)
        summary[name] = {**summarize_rho(spearman_per_clip(w, g)), "rho_pooled": spearman_pooled(w, g)}
        show = rng.permutation(w.size)[:max_points]
        points.append(pd.DataFrame({"series": name, "intensity": g.ravel()[show], "weight": w.ravel()[show]}))
    return pd.concat(points, ignore_index=True), pd.DataFrame.from_dict(summary, orient="index")


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


def claim_rows(table: pd.DataFrame, dataset: str, return_dataset: str = "") -> pd.DataFrame:
    """The rows of :func:`correlation_table` that notebook 07's reading compares, each with the question
    it answers: the claims of every method's ``MethodSpec.weight_claims`` (FER-GCN's, then FAN's), the
    position-only ``frame_index`` reference on ``dataset`` after the first. A claim's clips map to
    (data set, trained on): ``same`` → (``dataset``, ``dataset``), ``return`` → (``return_dataset``,
    ``return_dataset``), ``moved`` → (``return_dataset``, ``dataset``). Rows the table lacks are left
    out; columns: ``question`` and the table's ρ, peak, apex and spread columns."""
    ret = return_dataset or None
    clips = {"same": (dataset, dataset), "return": (ret, ret), "moved": (ret, dataset)}
    wanted = [(m, key, *clips[where], question) for m in WEIGHT_METHODS
              for key, where, question in method_spec(m).weight_claims]
    wanted.insert(1, ("reference", "frame_index", dataset, "—", "position alone (weights = frame index), the bar to beat"))
    cols = ["method", "weights", "dataset", "trained_on", "rho_mean", "frac_rho_pos", "peak_pos_mean", "gt_apex_pos_mean",
            "weight_spread"]
    missing = [c for c in cols if c not in table.columns]
    if missing:
        raise KeyError(f"the table lacks the columns {missing}; expected the output of correlation_table")
    out = []
    for method, weights, on, trained, question in wanted:
        if on is None:
            continue
        hit = table[(table["method"] == method) & (table["weights"] == weights) & (table["dataset"] == on)
                    & (table["trained_on"] == trained)]
        if len(hit):
            out.append({"question": question, **hit.iloc[0][cols].to_dict()})
    return pd.DataFrame(out, columns=["question", *cols])
