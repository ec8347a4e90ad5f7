"""Does a model trained on generated clips only recognise real faces? A measured transfer check.

The London set (:mod:`ferlib.data.adapters.london`; 61 people in the repository's two folders) has,
for each person, a real neutral and a real smiling photo: a real two-class temporal task (``neutral`` vs ``happy``) with a
known per-frame intensity (the neutral → smile morph weight). :func:`transfer_check`:

1. splits the face ids (:func:`split_identities`): the *rendered* ids may be used by the
   generator, the *held-out* ids are the real test people; the two sets never share a person
   (the check raises if they do), so the model under test never learnt from a render of a test person;
2. generates the training clips (:func:`training_store`) with the ``photo`` renderer, once for
   every split of the profile (the people any of its splits renders, with one seed), and trains
   each split on the clips of its rendered ids only (their happy clips use the same person's smiling photo, see
   :class:`ferlib.synth.photo.PhotoRenderer`; :data:`PHOTO_SYNTH` adds the per-frame jitter and
   predictor landmarks the real clips have), or with the ``procedural`` renderer (drawn faces);
   with the ``demo`` models the photo runs start from frame pre-training that also saw photo renders of
   the rendered people (:func:`ferlib.experiments.pretrain.frame_pretrained`);
3. makes the real test clips (:func:`real_store`): the London morph clips of the held-out ids,
   rendered at 3x the side and then passed through the real preprocessing
   (:func:`ferlib.preprocess.pipeline.preprocess_clip`: dlib detection, 68 landmarks, eye-level
   crop), exactly as a user's real videos would be;
4. trains the method on generated clips only (:func:`ferlib.train.engine.fit`, the method's
   ``demo`` (or ``paper``) schedule, model selection on generated clips of other subjects);
5. tests on the real clips and reports (:class:`TransferResult`): neutral-vs-happy accuracy (the
   model's own arg-max over the classes it was trained on, and restricted to neutral/happy when it
   knows more classes), the prediction distribution (true class × predicted class), and
   Spearman's ρ between the method's frame weights (FAN's α, eq. 1; FER-GCN's intensity weights,
   eq. 7) and the real morph's known intensity — per happy clip (mean over clips; a neutral clip's
   intensity is constant, ρ is undefined there) and pooled over every frame of every clip.

FAN is tested on all frames of a clip (FAN Table 1; its α is then a curve over the whole clip);
the other methods keep their own test sampling. Everything is cached under ``out_dir`` (the
generated set, the real clips, the run) and resumes; the profile (:class:`ferlib.profiles.Profile`,
``transfer``) sizes the check (``smoke``: seconds, for tests).

How far the numbers move between identity splits is measured by ``python
benchmarks/transfer_seeds.py`` (mean ± sd over several seeded splits, per method); one split's
accuracy on 40 real clips says little by itself, so quote means and their spread.

This module generates, trains and tests; what it measures on the finished run (predictions, frame
weights, probabilities over time) is :mod:`ferlib.analysis.real_runs`.
"""

from __future__ import annotations

import json
import shutil
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import cv2
import numpy as np
import pandas as pd

from ferlib.analysis.real_runs import evaluate_run, frame_weight_key
from ferlib.analysis.weights import spearman_per_clip, spearman_pooled, summarize_rho
from ferlib.data.adapters.london import london_index
from ferlib.data.labels import NEUTRAL
from ferlib.data.protocols import Split, with_validation
from ferlib.data.store import ClipStore
from ferlib.data.transforms import ClipTransform
from ferlib.experiments.pretrain import PHOTO_PRETRAIN, ensure_synth_frames, frame_pretrained
from ferlib.models.registry import method_spec, methods, paper_methods
from ferlib.models.synth_frames import default_cache_dir, frame_pretrained_path
from ferlib.preprocess.face import NoFaceError
from ferlib.synth.london import build_london_store
from ferlib.synth.photo import list_photos, photo_folders, photo_identity
from ferlib.preprocess.pipeline import PreprocessConfig, preprocess_clip
from ferlib.preprocess.video import VideoReadError
from ferlib.profiles import get_profile
from ferlib.synth import SynthConfig, generate
from ferlib.synth.generate import PHOTO_RENDERER_VERSION
from ferlib.train.engine import fit
from ferlib.train.recipes import resolve_config

__all__ = ["PHOTO_SYNTH", "TRANSFER_CAPABLE", "TRANSFER_METHODS", "TransferResult", "real_store", "split_identities",
           "training_store", "transfer_check", "transfer_spread", "transfer_table", "transfer_variants", "identity_pool"]

#: the real task's classes (London adapter: ``neutral``, ``happy``)
REAL_CLASSES = ("neutral", "happy")

#: photo-renderer settings of the check by default: what the real test clips go through too — a head
#: that is never still (the London morph's per-frame jitter, ``morph_clip``) and the landmarks the
#: preprocessing's predictor finds in the frames (not the warp's targets)
PHOTO_SYNTH: dict[str, Any] = {"frame_jitter": (1.5, 0.015, 0.015), "landmarks": "dlib"}

# -- identities -----------------------------------------------------------------------------------
def split_identities(ids: Sequence[str], n_rendered: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``(rendered, held_out)``: a seeded random choice of ``n_rendered`` of ``ids`` for the
    generator, the rest for the real test (both sorted); raises unless both are non-empty."""
    ids = sorted(str(i) for i in ids)
    if not 0 < n_rendered < len(ids):
        raise ValueError(f"n_rendered must leave at least one identity on each side: got {n_rendered} of {len(ids)} ({ids[:5]} …)")
    order = np.random.default_rng([int(seed), 7]).permutation(len(ids))
    rendered = sorted(ids[i] for i in order[:n_rendered])
    return rendered, sorted(set(ids) - set(rendered))


# -- the two data sets ----------------------------------------------------------------------------
def training_store(out_dir: str | Path, renderer: str, photos_root: str | Path | Sequence[str | Path], rendered_ids: Sequence[str],
                   classes: Sequence[str] = ("happy",), n_frames: int = 16, side: int = 64, clips_per_subject: int = 20,
                   procedural_subjects: int = 30, seed: int = 0, progress: bool = True, **synth: Any) -> ClipStore:
    """The generated training clips (``lab`` course, ``classes`` + neutral): ``photo`` renders of
    ``rendered_ids``' photos only, or ``procedural_subjects`` drawn faces. ``synth``: other
    :class:`~ferlib.synth.generate.SynthConfig` fields (e.g. ``randomise``)."""

    common = dict(course="lab", classes=tuple(classes), include_neutral=True, n_frames=n_frames, side=side,
                  seed=seed, clips_per_subject=clips_per_subject, **synth)
    if renderer == "photo":
        cfg = SynthConfig(renderer="photo", photos_dir=tuple(str(f) for f in photo_folders(photos_root)), photo_ids=tuple(rendered_ids),
                          n_subjects=len(rendered_ids), **common)
    elif renderer == "procedural":
        cfg = SynthConfig(renderer="procedural", n_subjects=procedural_subjects, **common)
    else:
        raise ValueError(f"renderer must be 'photo' or 'procedural', got {renderer!r}")
    return generate(out_dir, cfg, progress=progress)


def real_store(photos_root: str | Path | Sequence[str | Path], out_dir: str | Path, face_ids: Sequence[str], classes: Sequence[str],
               n_frames: int = 16, side: int = 64, repeats: int = 1, seed: int = 0, course: str = "lab",
               progress: bool = True, smooth: int = 1) -> ClipStore:
    """The real test clips of ``face_ids``: London-set morph clips (``repeats`` draws of jitter and
    intensity course per person and class) rendered at 3x ``side`` with a wide margin, then
    preprocessed as real video is (:func:`~ferlib.preprocess.pipeline.preprocess_clip` on the
    frames written as images) to ``side``. Labels index ``classes`` (which must hold neutral and
    happy: the label space of the model under test). Each clip keeps its morph intensity. ``smooth``: the
    preprocessing's moving average over frames of the crop geometry (:class:`PreprocessConfig`)."""

    classes = tuple(classes)
    missing = [c for c in REAL_CLASSES if c not in classes]
    if missing:
        raise ValueError(f"the real clips are {REAL_CLASSES}; the label space {classes} lacks {missing}")
    out = Path(out_dir)
    store = ClipStore.create(out, "london", classes)
    config = PreprocessConfig(side=side, smooth=smooth)
    for r in range(repeats):
        morph = build_london_store(photos_root, out.parent / f"{out.name}-morph{r}", n_frames, 3 * side, course,
                                   seed * 1000 + r, subjects=list(face_ids), box_extend=0.5, progress=False)
        for clip_id in morph.clip_ids():
            cid = f"{clip_id}_r{r}"
            if store.has(cid):
                continue
            rec = morph.read(clip_id, mmap=False)
            folder = out.parent / f".{out.name}-frames" / cid
            folder.mkdir(parents=True, exist_ok=True)
            for t, frame in enumerate(rec.frames):
                cv2.imwrite(str(folder / f"{t:04d}.png"), np.ascontiguousarray(frame[..., ::-1]))
            try:
                clip = preprocess_clip(folder, config)
            except (NoFaceError, VideoReadError) as exc:  # recorded, the other clips go on
                store.record_failure(cid, str(rec.meta.get("source", "")), str(exc))
                continue
            finally:
                shutil.rmtree(folder)
            meta = {k: rec.meta[k] for k in ("subject", "label_name", "source", "split", "course") if k in rec.meta}
            meta.update(clip_id=cid, label=classes.index(meta["label_name"]), repeat=r)
            store.write(meta, clip.frames, clip.landmarks, clip.flags, rec.intensity, extra=config.as_dict())
        if progress:
            print(f"ferlib: real test clips (repeat {r + 1}/{repeats}) in {out}", flush=True)
    return store


#: the methods the transfer check runs by default (notebook 11, benchmarks/transfer_seeds.py): the four papers' methods
TRANSFER_METHODS: tuple[str, ...] = paper_methods()
#: the methods it can run: a per-frame CNN it pre-trains on photos, or landmarks alone
TRANSFER_CAPABLE: tuple[str, ...] = methods(lambda spec: spec.frame_cnn or spec.inputs == "landmarks")


# -- the result -----------------------------------------------------------------------------------
@dataclass
class TransferResult:
    """What :func:`transfer_check` measured. ``predictions``: one row per real clip (clip_id,
    subject, label_name, pred_name, prob_<class>); ``distribution``: true class × predicted class
    counts; ``rho_*``: Spearman ρ of frame weights vs the real intensity (NaN without weights);
    ``run_dir``: the trained run; ``real_dir``: the clip store of the real test clips;
    ``frame_weights`` and ``intensity``: ``(n_clips, T)`` in the rows of ``predictions`` (the
    sampled frames' weights, ``None`` without weights, and their morph intensity); ``variant``: the
    method's model variant (``full``, or e.g. ST-GCN's ``smoothed``); ``real_smooth``: the frames of the
    moving average over the real clips' crop geometry (1: none, the preprocessing's default)."""

    method: str
    renderer: str
    rendered_ids: list[str]
    test_ids: list[str]
    classes: list[str]
    accuracy: float
    accuracy_2way: float
    rho_per_clip_mean: float
    rho_per_clip_std: float
    rho_pooled: float
    n_rho_clips: int
    generated_val_accuracy: float
    run_dir: str
    real_dir: str
    predictions: pd.DataFrame = field(repr=False)
    distribution: pd.DataFrame = field(repr=False)
    frame_weights: np.ndarray | None = field(default=None, repr=False)
    intensity: np.ndarray | None = field(default=None, repr=False)
    variant: str = "full"
    real_smooth: int = 1

    def summary(self) -> dict[str, Any]:
        """The scalar fields (what :func:`transfer_table` tabulates)."""
        arrays = ("predictions", "distribution", "frame_weights", "intensity")
        d = {f: getattr(self, f) for f in self.__dataclass_fields__ if f not in arrays}
        d["predicted_happy_share"] = float((self.predictions["pred_name"] == "happy").mean())
        return d


def _rho(weights: np.ndarray, intensity: np.ndarray, happy: np.ndarray) -> tuple[float, float, float, int]:
    """(mean, std of per-clip ρ over the happy clips, ρ pooled over every clip, clips with a defined ρ)."""
    s = summarize_rho(spearman_per_clip(weights[happy], intensity[happy]) if happy.any() else np.array([]))
    return s["rho_mean"], s["rho_std"], spearman_pooled(weights, intensity), s["n_defined"]


def identity_pool(photos_root: str | Path | Sequence[str | Path]) -> tuple[list[Path], list[str], list[str]]:
    """``(london_roots, london_ids, neutral_only_ids)`` of the folders ``photos_root`` (one or several,
    e.g. :func:`ferlib.assets.identity_folders`): a folder with ``smiling_front/`` is London layout
    (its people may be real test people), any other holds neutral photos only (its people are
    rendered, never tested: they have no real smile to test on). A neutral-only person's happy
    clips get the prototype's displacement and painted appearance, no smile exemplar: a London
    person's smile blended into another face would make a third identity (that is what
    :mod:`ferlib.experiments.blend` does, on purpose). Raises without a London folder."""
    folders = photo_folders(photos_root)
    london = [f for f in folders if (Path(f) / "smiling_front").is_dir()]
    if not london:
        raise ValueError(f"the real test needs a London-layout folder (neutral_front/ and smiling_front/) among {[str(f) for f in folders]}")
    others = [f for f in folders if f not in london]
    return london, sorted(set(london_index(london).df["subject"])), (sorted(map(photo_identity, list_photos(others))) if others else [])


def transfer_check(method: str, photos_root: str | Path | Sequence[str | Path], out_dir: str | Path, renderer: str = "photo",
                   profile: str = "demo", seed: int = 0, classes: Sequence[str] = ("happy",),
                   rendered_ids: Sequence[str] | None = None, synth: dict[str, Any] | None = None,
                   train_store: ClipStore | None = None, name: str = "", photo_pretrain: bool | None = None,
                   train: bool = True, progress: bool = True, pretrain: dict[str, Any] | None = None,
                   real_smooth: int = 1, **overrides: Any) -> TransferResult:
    """Train ``method`` on generated clips only and test it on real London-set clips of people the
    renderer never used (see the module doc). ``photos_root``: the identity sources, one folder or
    several (:func:`identity_pool`: London folders give the real test people, neutral-only folders,
    e.g. the Canada set's, are always rendered; the profile's ``n_neutral_only`` caps how many).
    ``profile``: a profile (:mod:`ferlib.profiles`, its ``transfer`` sizes the check);
    ``classes``: the generated expression classes (neutral is always added); ``rendered_ids``:
    the face ids the generator may use (default: a seeded ``n_rendered`` of the London people, :func:`split_identities`, and the neutral-only people); ``synth``: extra
    :class:`~ferlib.synth.generate.SynthConfig` fields (default for ``photo``: :data:`PHOTO_SYNTH`);
    ``train_store``: train on this generated
    store instead (its renderer must not have used a held-out person); ``name``: a variant's name
    for its generated set and run folders (one per ``synth``/``overrides`` choice); ``photo_pretrain``:
    start the demo trunk from frame pre-training that also saw photo renders of the *rendered*
    people (:func:`ferlib.experiments.pretrain.frame_pretrained`, never a test person; default: for the
    ``photo`` renderer on the ``demo`` models; ``pretrain``: its :func:`~ferlib.experiments.pretrain.frame_pretrained`
    arguments, e.g. ``photo_clips_per_subject``, over the profile's); ``train=False``: only read a
    finished run (a missing one raises naming its folder); ``real_smooth``: test on real clips preprocessed
    with a moving average over that many frames of the crop geometry (``preprocess --smooth``; the
    same trained run, its results written beside the default's with a ``-smooth<k>`` suffix);
    ``overrides``: TrainConfig fields (``epochs``, ``lr`` …). Results are cached under ``out_dir``
    and the call resumes."""

    if isinstance(real_smooth, bool) or not isinstance(real_smooth, int) or real_smooth < 1:
        raise ValueError(f"real_smooth must be a whole number of frames >= 1, got {real_smooth!r}")
    chosen = get_profile(profile)
    check = chosen.transfer
    if synth is None:
        synth = dict(PHOTO_SYNTH) if renderer == "photo" else {}
    if photo_pretrain is None:
        photo_pretrain = renderer == "photo" and profile == "demo"
    london_roots, all_ids, neutral_only = identity_pool(photos_root)
    neutral_only = neutral_only[: check.get("n_neutral_only")]
    photo_dirs = tuple(str(f) for f in photo_folders(photos_root))  # what the renderer reads
    if rendered_ids is None:
        rendered, held_out = split_identities(all_ids, check["n_rendered"], seed)
        rendered = sorted(rendered + neutral_only)
    else:
        rendered = sorted(str(i) for i in rendered_ids)
        unknown = sorted(set(rendered) - set(all_ids) - set(neutral_only))
        if unknown:
            raise ValueError(f"rendered_ids {unknown} are not face ids under {', '.join(photo_dirs)}")
        held_out = sorted(set(all_ids) - set(rendered))
    if check["n_test"] is not None:
        held_out = held_out[: check["n_test"]]
    if set(rendered) & set(held_out) or not held_out:
        raise ValueError(f"the real test needs people the renderer never used: rendered {rendered}, held out {held_out}")
    out = Path(out_dir)
    tag = f"{profile}-s{seed}"
    # photo renders of another photo renderer version live in another folder (never refused, never mixed)
    version = f"-r{PHOTO_RENDERER_VERSION}" if renderer == "photo" else ""
    # the rendered people name the folder: another identity pool never resumes (or reuses) these clips and runs
    who = f"-i{zlib.crc32(','.join(rendered).encode()):08x}" if renderer == "photo" else ""
    variant = f"{renderer}{version}-{tag}{who}" + (f"-{name}" if name else "")
    photo_trunk = photo_pretrain and chosen.model == "demo" and method_spec(method).frame_cnn
    pretrain_args = {**PHOTO_PRETRAIN, **check.get("pretrain", {}), **(pretrain or {})}
    trunk = ""
    if photo_trunk:  # the trunk file's name holds every setting it was made with: so does the run's folder
        trunk = "-" + frame_pretrained_path(default_cache_dir(), side=check["side"], photo_ids=rendered, **pretrain_args).stem
    model_variant = str(overrides.get("variant", "full"))  # a model variant (e.g. ST-GCN's smoothed) has its own run
    run = (out / "runs" / ((variant if train_store is None else Path(train_store.root).name) + trunk)
           / (method + ("" if model_variant == "full" else f"-{model_variant}")))
    if not train and not (run / "metrics.json").is_file():
        raise FileNotFoundError(f"no finished transfer run in {run}: run with train=True first")
    if train_store is None and renderer == "photo":
        # one generated set for every split of the profile: the people any of its splits (and this seed) renders,
        # rendered once with one seed; a split trains on its own rendered people's clips only (rows below)
        if rendered_ids is None:
            pool = sorted({i for s in sorted({*check.get("seeds", ()), seed})
                           for i in split_identities(all_ids, check["n_rendered"], s)[0]} | set(neutral_only))
        else:
            pool = rendered
        pool_key = zlib.crc32(",".join(pool).encode())
        gen = training_store(out / "data" / (f"photo{version}-{profile}-p{pool_key:08x}" + (f"-{name}" if name else "")),
                             renderer, photo_dirs, pool, classes, check["n_frames"], check["side"],
                             check["clips_per_subject"], check["procedural_subjects"], 0, progress, **synth)
    elif train_store is None:
        gen = training_store(out / "data" / variant, renderer, photo_dirs, rendered, classes, check["n_frames"],
                             check["side"], check["clips_per_subject"], check["procedural_subjects"], seed, progress, **synth)
    else:
        gen = train_store
        used = set(gen.index().df["subject"].astype(str)) & set(held_out)
        if used and renderer == "photo":  # a store of one's own is trained on whole
            raise ValueError(f"train_store {gen.root} holds clips of held-out people {sorted(used)}")
    ids_key = zlib.crc32(",".join(held_out + ["|"] + list(gen.classes)).encode())
    smoothed = f"-smooth{real_smooth}" if real_smooth > 1 else ""  # another preprocessing: other files, same run
    real = real_store(london_roots, out / "data" / f"real-{tag}-{ids_key:08x}{smoothed}", held_out, gen.classes,
                      check["n_frames"], check["side"], check["repeats"], seed, progress=progress, smooth=real_smooth)
    index = gen.index()
    subjects = index.df["subject"].astype(str)
    pooled = train_store is None and renderer == "photo"
    trained = subjects.isin(rendered).to_numpy() if pooled else np.ones(len(index), bool)
    if pooled and set(subjects[trained]) & set(held_out):
        raise AssertionError(f"training rows of {gen.root} hold a held-out person")  # rendered and held_out are disjoint
    split = with_validation(index, Split("generated", np.flatnonzero(trained), np.zeros(0, int)), 0.15, seed=seed)
    split = Split("generated", split.train, split.val, split.val)  # the test rows = generated clips of held-out subjects
    settings = {"progress": progress, **({"epochs": check["epochs"]} if check["epochs"] else {}),
                **check.get("overrides", {}), **overrides}
    if photo_trunk:
        settings["init_trunk"] = str(frame_pretrained(default_cache_dir(), side=check["side"], progress=progress,
                                                      photos_dir=photo_dirs, photo_ids=rendered, **pretrain_args))
    cfg = resolve_config(method, chosen.model, dataset=gen.dataset, experiment=f"transfer-{renderer}", **settings)
    ensure_synth_frames([cfg.init_trunk], progress)  # the demo schedules start from it
    metrics = fit(cfg, gen, split, run, index=index)
    preds, byproducts = evaluate_run(run, real)
    labels = preds["label_name"].to_numpy()
    acc = float((preds["pred_name"] == preds["label_name"]).mean())
    two = np.where(preds["prob_happy"] > preds[f"prob_{NEUTRAL}"], "happy", NEUTRAL)
    dist = pd.crosstab(pd.Categorical(labels, REAL_CLASSES), pd.Categorical(preds["pred_name"], list(gen.classes)),
                       rownames=["true"], colnames=["predicted"], dropna=False)
    key = frame_weight_key(method)
    rho = (float("nan"), float("nan"), float("nan"), 0)
    weights = None
    intensity = np.asarray(byproducts["gt_intensity"], np.float64)
    if key is not None and key in byproducts:
        weights = np.asarray(byproducts[key], np.float64)
        rho = _rho(weights, intensity, labels == "happy")
    result = TransferResult(method, renderer, rendered, held_out, list(gen.classes), acc, float((two == labels).mean()),
                            rho[0], rho[1], rho[2], rho[3], float(metrics.get("accuracy", float("nan"))), str(run),
                            str(real.root), preds, dist, weights, intensity, model_variant, real_smooth)
    trained_people = sorted(set(subjects[trained]))  # the generated clips' people this run learnt from
    (run / f"transfer{smoothed}.json").write_text(json.dumps({**result.summary(), "trained_subjects": trained_people}, indent=1,
                                                  default=float))
    preds.to_csv(run / f"transfer_predictions{smoothed}.csv", index=False)
    return result


def transfer_variants(method: str) -> tuple[str, ...]:
    """The model variants notebook 11 checks for ``method``: ``full`` and its spec's ``transfer_variants``."""
    return ("full", *method_spec(method).transfer_variants)


def transfer_table(results: Sequence[TransferResult]) -> pd.DataFrame:
    """One row per result: method, variant, renderer, accuracies, predicted-happy share and ρ."""
    cols = ["method", "variant", "renderer", "accuracy", "accuracy_2way", "predicted_happy_share", "rho_per_clip_mean",
            "rho_per_clip_std", "rho_pooled", "n_rho_clips", "generated_val_accuracy"]
    return pd.DataFrame([{c: r.summary()[c] for c in cols} for r in results]).round(3)


def transfer_spread(results: Sequence[TransferResult]) -> pd.DataFrame:
    """Per method and variant, over its results (one a split, i.e. a seed of :func:`split_identities`): the mean
    and sample standard deviation (ddof 1; NaN for one split) of real neutral-vs-happy accuracy (%),
    of FAN's / FER-GCN's per-clip ρ and of accuracy on generated clips of held-out generated people
    (%), with ``n_splits``, real clips per split (``n_real_clips``: their mean) and held-out people.
    Raises on two results of one method with the same rendered and test people (one split counted twice) and on
    a non-finite accuracy (nothing is averaged over it)."""
    if not results:
        raise ValueError("transfer_spread needs at least one TransferResult")
    rows = []
    for r in results:
        if not np.isfinite(r.accuracy):
            raise ValueError(f"{r.method}: non-finite real accuracy in {r.run_dir}; no spread is reported over it")
        rows.append({"method": r.method, "variant": r.variant, "split": ",".join(r.rendered_ids) + "|" + ",".join(r.test_ids), "accuracy": 100 * r.accuracy,
                     "rho": r.rho_per_clip_mean, "generated": 100 * r.generated_val_accuracy,
                     "n_real_clips": len(r.predictions), "n_test_people": len(r.test_ids)})
    df = pd.DataFrame(rows)
    twice = df[df.duplicated(["method", "variant", "split"])]
    if len(twice):
        raise ValueError(f"{sorted(set(twice['method']))}: one identity split given twice (rendered|tested people {twice['split'].iloc[0][:60]} …)")
    out = []
    for (method, variant), g in df.groupby(["method", "variant"], sort=False):
        row: dict[str, Any] = {"method": method, "variant": variant, "n_splits": len(g)}
        for col, name in (("accuracy", "real accuracy (%)"), ("rho", "rho per clip"), ("generated", "generated accuracy (%)")):
            v = g[col].to_numpy(np.float64)
            v = v[np.isfinite(v)]  # ρ is NaN for a method without frame weights: it stays NaN
            row[f"{name} mean"] = float(v.mean()) if len(v) else float("nan")
            row[f"{name} sd"] = float(v.std(ddof=1)) if len(v) > 1 else float("nan")
        row["n_real_clips"] = float(g["n_real_clips"].mean())
        row["n_test_people"] = float(g["n_test_people"].mean())
        out.append(row)
    return pd.DataFrame(out).round(3)

