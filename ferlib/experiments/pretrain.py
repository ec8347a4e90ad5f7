"""Frame-level pre-training of the demo model's small CNN on generated faces of *other* subjects.

Every paper here starts its per-frame CNN from weights trained on still images (FER-GCN: VGG16
from ImageNet; FAN: ResNet-18 pre-trained on face data; KP-GCN-MSA: an ImageNet ResNet). The
``demo`` model profile has no such weights to start from, and trained from scratch its small CNN sits
at chance on a few hundred clips: the expression is a few pixels of motion under large identity
changes (background, skin, hair), and clip-level labels carry little signal per frame. This
module makes the demo's equivalent of those weights, locally and without network:

1. generate a ``lab`` data set with its own seed (``PRETRAIN_SEED``), so its subjects are not
   those of any notebook data set (no identity or clip of a test fold is ever seen);
2. keep the 4 most intense frames of each clip (by ground-truth intensity), each labelled
   with its clip's class: a still-image expression data set, as FER2013 is for the papers;
3. train ``small_cnn`` + global average pooling + a linear classifier on them with Adam, through
   the training engine's own epoch and evaluation (:func:`ferlib.experiments.frame_cnn.train_frame_cnn`);
4. save the trunk's state dict with what made it (``meta``) to a ``.pt`` file that
   :func:`ferlib.models.backbones.small_cnn` loads through ``weights=<path>``.

The result is cached: :func:`frame_pretrained` returns the file, making it once (≈ 1 minute on a
2-core CPU). Training runs ask for it with ``TrainConfig.init_trunk = "synth-frames"`` (the demo
schedules of the frame-based methods): :func:`ferlib.models.trunks.load_trunk`, the one entry
point for every trunk source, loads it into ``model.trunk`` before the first epoch, and raises
naming the file and ``python -m ferlib pretrain`` when it is missing. The entry points that train
(the workbook, ``reproduce``, the training commands) make it first through
:func:`ensure_synth_frames`. The file holds only tensors and plain types
(``torch.load(weights_only=True)``), sealed with its size and SHA-256.

Its place: the data (:mod:`ferlib.experiments.frames`) and the model and epochs
(:mod:`ferlib.experiments.frame_cnn`, the engine's own loop) are experiments; where the file
lives is the models' (:mod:`ferlib.models.synth_frames`).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import torch

from ferlib.data.labels import BASIC7
from ferlib.experiments.frame_cnn import train_frame_cnn
from ferlib.experiments.frames import expressive_frames, photo_frames
from ferlib.models.backbones import check_sealed, replace_sealed
from ferlib.models.synth_frames import FORMAT, PRETRAIN_SEED, default_cache_dir, default_file, frame_pretrained_path
from ferlib.models.trunks import SYNTH_FRAMES
from ferlib.synth import SynthConfig, generate
from ferlib.synth.generate import GENERATOR_VERSION, PHOTO_RENDERER_VERSION
from ferlib.train.recipes import resolve_config

__all__ = ["PHOTO_PRETRAIN", "ensure_for_methods", "ensure_synth_frames", "frame_pretrained"]

#: frame_pretrained arguments of the trunk that also sees photo renders (the transfer check's demo
#: size): the plain demo trunk fine-tuned 6 epochs on 40 photo clips a person, chosen for its cost
#: (about a third of joint training on 40 clips for 10 epochs); what it gives on real held-out people
#: is the table in ferlib.experiments.transfer
PHOTO_PRETRAIN: dict[str, int] = {"photo_clips_per_subject": 40, "photo_epochs": 6}


def frame_pretrained(cache_dir: str | Path = "data", width: int = 16, depth: int = 4, whole_map: int = 4,
                     n_subjects: int = 100, epochs: int = 5, side: int = 64, val_subjects: int = 15,
                     progress: bool = True, photos_dir: str | Path | Sequence[str | Path] | None = None,
                     photo_ids: list[str] | None = None, photo_clips_per_subject: int = 40,
                     photo_epochs: int | None = None) -> Path:
    """The pre-trained ``small_cnn`` file :func:`~ferlib.models.synth_frames.frame_pretrained_path` (``<cache_dir>/pretrained/…``),
    made first if missing from ``<cache_dir>/synth-pretrain-s{side}-n{n_subjects}-g<generator version>``
    (``n_subjects`` generated with ``PRETRAIN_SEED``; the last ``val_subjects`` of them are held out
    to measure how well the frames' expression transfers to unseen identities, stored in the file's
    ``meta``). The file's name holds every setting it depends on and the generator's version, so a
    file made otherwise is never returned (with photos, the photo renderer's version too).

    ``photos_dir`` (one folder or several) and ``photo_ids``: the trunk also learns from photo renders of those real people
    (:func:`photo_frames`, ``photo_clips_per_subject`` clips each), so it sees real skin (the name
    then holds ``_photo``). Name only people the models will never be tested on. ``photo_epochs``
    = N: the file without photos (same other arguments) is made or taken first and its trunk
    trained N more epochs on the photo frames alone (a fine-tuning: its held-out accuracy on drawn
    faces is no longer measured); ``None``: the photo frames join the drawn ones in one training of
    ``epochs`` epochs."""
    photo = photos_dir is not None
    if photo and not photo_ids:
        raise ValueError("photos_dir needs photo_ids: the people whose renders the trunk may see (never a test person)")
    counts = {"photo_clips_per_subject": photo_clips_per_subject} if photo else {}
    if photo and photo_epochs is not None:  # None: joint training
        counts["photo_epochs"] = photo_epochs
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {value!r}")
    out = frame_pretrained_path(cache_dir, width, depth, whole_map, side, photo_ids if photo else None,
                                n_subjects=n_subjects, epochs=epochs, val_subjects=val_subjects,
                                photo_clips_per_subject=photo_clips_per_subject, photo_epochs=photo_epochs)
    if out.is_file():
        check_sealed(out)  # a cached file changed since it was made is never trained on
        return out
    if not 0 <= val_subjects < n_subjects:
        raise ValueError(f"val_subjects must be in [0, n_subjects), got {val_subjects} of {n_subjects}")
    t0 = time.perf_counter()
    classes = BASIC7  # the classes of the drawn set and of the photo renders
    base = None
    report = "ferlib: pre-training small_cnn:" if progress else ""
    if progress:  # minutes on a laptop's CPU, once per cache folder: say so before it starts
        print(f"ferlib: pre-training the demo's small_cnn once ({out.name}; cached for later runs): "
              + (f"{photo_epochs} epochs on photo renders" if photo and photo_epochs is not None else
                 f"{n_subjects} generated subjects, {epochs} epochs") + "; a line per epoch tells the time left",
              flush=True)
    if photo and photo_epochs is not None:  # fine-tune the plain trunk on photo frames
        base = frame_pretrained(cache_dir, width, depth, whole_map, n_subjects, epochs, side, val_subjects, progress)
        frames, labels, _ = photo_frames(photos_dir, list(photo_ids or []), side, photo_clips_per_subject, progress=progress)
        n_photo = n_train = len(frames)
        trunk, history = train_frame_cnn(frames, labels, len(classes), width, depth, whole_map, photo_epochs, init=base,
                                         report=report)
    else:
        cfg = SynthConfig(course="lab", n_subjects=n_subjects, n_frames=16, side=side, seed=PRETRAIN_SEED)
        store = generate(Path(cache_dir) / f"synth-pretrain-s{side}-n{n_subjects}-g{GENERATOR_VERSION}", cfg, progress=progress)
        frames, labels, subjects = expressive_frames(store)
        n_photo = 0
        if photo:
            pf, pl, _ = photo_frames(photos_dir, list(photo_ids or []), side, photo_clips_per_subject, progress=progress)
            n_photo = len(pf)
            frames, labels = np.concatenate([frames, pf]), np.concatenate([labels, pl])
            subjects = np.concatenate([subjects, np.array(["photo"] * n_photo)])
        held = np.isin(subjects, sorted(set(subjects) - {"photo"})[n_subjects - val_subjects:])
        val = (frames[held], labels[held]) if held.any() else None
        n_train = int((~held).sum())
        trunk, history = train_frame_cnn(frames[~held], labels[~held], len(classes), width, depth, whole_map, epochs,
                                         val=val, report=report)
    meta = {"format": FORMAT, "width": width, "depth": depth, "whole_map": whole_map, "side": side,
            "classes": list(classes), "n_subjects": n_subjects, "val_subjects": val_subjects,
            "seed": PRETRAIN_SEED, "generator": GENERATOR_VERSION, "n_frames": n_train, "epochs": epochs,
            "history": history,
            "photo_ids": sorted(str(i) for i in photo_ids) if photo else [], "n_photo_frames": n_photo,
            "photo_renderer": PHOTO_RENDERER_VERSION if photo else None,
            "photo_clips_per_subject": photo_clips_per_subject if photo else 0,
            "photo_epochs": photo_epochs if photo else None, "init": Path(base).name if base is not None else None,
            "seconds": time.perf_counter() - t0}
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    torch.save({"meta": json.loads(json.dumps(meta)), "trunk": trunk.state_dict()}, tmp)
    replace_sealed(tmp, out)  # <out>.sha256: size and hash, checked on every later use
    if progress:
        last = history[-1]
        what = (f"{n_train} photo frames, from {meta['init']}" if base is not None
                else f"{n_train} frames of {n_subjects - val_subjects} generated subjects")
        print(f"ferlib: pre-trained small_cnn on {what} in {meta['seconds']:.0f} s: train accuracy {last['accuracy']:.3f}"
              + (f", held-out subjects {last['val_accuracy']:.3f}" if "val_accuracy" in last else "") + f" -> {out}",
              flush=True)
    return out


def ensure_synth_frames(init_trunks: Iterable[str], progress: bool = True) -> Path | None:
    """Make the default ``"synth-frames"`` file when one of ``init_trunks`` (the runs' ``init_trunk``
    values) names it and it is missing; returns the file, or ``None`` when no run asks for it. The
    entry points that train call it before training (:func:`ferlib.models.trunks.load_trunk` only
    loads)."""
    if SYNTH_FRAMES not in {str(t).strip() for t in init_trunks}:
        return None
    path = default_file()
    if path.is_file():
        return path
    return frame_pretrained(default_cache_dir(), progress=progress)


def ensure_for_methods(methods: Iterable[str], profile: str, dataset: str | None = None, recipe: str | None = None,
                       progress: bool = True, **overrides: Any) -> Path | None:
    """:func:`ensure_synth_frames` for the runs of ``methods`` at model profile ``profile`` on ``dataset``:
    their ``init_trunk`` as :func:`ferlib.train.config.resolve_config` resolves it (recipe, then
    ``overrides``, TrainConfig fields)."""
    return ensure_synth_frames([resolve_config(m, profile, dataset=dataset, recipe=recipe, **overrides).init_trunk
                                for m in dict.fromkeys(methods)], progress)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``python -m ferlib pretrain``'s options (:mod:`ferlib.cli`'s contract)."""
    p.add_argument("--cache", default=None, help="folder for the data and weights (default $FERLIB_CACHE or ~/.cache/ferlib)")


def run(args: argparse.Namespace) -> int:
    """Make the default file now (the entry points that train make it when a run asks for it) and print its path."""
    print(frame_pretrained(Path(args.cache) if args.cache else default_cache_dir()))
    return 0
