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
3. train ``small_cnn`` + global average pooling + a linear classifier on them with Adam;
4. save the trunk's state dict with what made it (``meta``) to a ``.pt`` file that
   :func:`ferlib.models.backbones.small_cnn` loads through ``weights=<path>``.

The result is cached: :func:`frame_pretrained` returns the file, making it once (≈ 1 minute on a
2-core CPU). Training runs ask for it with ``TrainConfig.init_trunk = "synth-frames"`` (the demo
schedules of the frame-based methods): :func:`ferlib.models.trunks.load_trunk`, the one entry
point for every trunk source, loads it into ``model.trunk`` before the first epoch. The file holds
only tensors and plain types (``torch.load(weights_only=True)``).

It lives with the models, not with :mod:`ferlib.train`: it is where the ``"synth-frames"`` trunk
source comes from (:mod:`ferlib.models.trunks` resolves it here), and its small training loop
needs nothing of the clip-level engine. ``python -m ferlib pretrain`` makes the default file.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import zlib
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ferlib.data.labels import BASIC7
from ferlib.models.backbones import check_sealed, ferlib_cache_dir, replace_sealed, small_cnn
from ferlib.progress import progress_iter
from ferlib.synth import SynthConfig, generate
from ferlib.synth.generate import GENERATOR_VERSION, PHOTO_RENDERER_VERSION, clip_plan, generate_clip

PRETRAIN_SEED = 1_000_003
FORMAT = "ferlib-small-cnn-frame-pretrained/1"
#: frame_pretrained arguments of the trunk that also sees photo renders (the transfer check's demo
#: size): the plain demo trunk fine-tuned 6 epochs on 40 photo clips a person, chosen for its cost
#: (about a third of joint training on 40 clips for 10 epochs); what it gives on real held-out people
#: is the table in ferlib.analysis.transfer
PHOTO_PRETRAIN: dict[str, int] = {"photo_clips_per_subject": 40, "photo_epochs": 6}


def expressive_frames(store: Any, per_clip: int = 4) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``per_clip`` frames of highest ground-truth intensity of every clip of ``store``
    (generated stores only): frames ``(N, H, W, 3)`` uint8, class labels ``(N,)`` and subject ids ``(N,)``."""
    frames, labels, subjects = [], [], []
    index = store.index()
    for clip_id, label, subject in zip(index.df["clip_id"], index.df["label"], index.df["subject"]):
        rec = store.read(clip_id)
        if rec.intensity is None:
            raise ValueError(f"{store.root}: clip {clip_id} has no ground-truth intensity; pre-training needs a generated store")
        keep = np.sort(np.argsort(np.asarray(rec.intensity), kind="stable")[-per_clip:])
        frames.append(np.asarray(rec.frames)[keep])
        labels += [int(label)] * len(keep)
        subjects += [str(subject)] * len(keep)
    return np.concatenate(frames), np.asarray(labels), np.asarray(subjects)


def augment(x: torch.Tensor, gen: torch.Generator, shift: int = 4, jitter: float = 0.2) -> torch.Tensor:
    """Per-image random flip, translation by up to ``shift`` pixels (edge padding) and
    brightness/contrast jitter of a batch ``(B, 3, S, S)`` in [0, 1], all at once."""
    b, c, s, _ = x.shape
    flip = torch.rand(b, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(-1), x)
    padded = nn.functional.pad(x, (shift,) * 4, mode="replicate")  # (B, C, S+2k, S+2k)
    dx, dy = torch.randint(0, 2 * shift + 1, (2, b), generator=gen)
    rows = (dy[:, None] + torch.arange(s))[:, None, :, None]  # (B, 1, S, 1)
    cols = (dx[:, None] + torch.arange(s))[:, None, None, :]  # (B, 1, 1, S)
    x = padded[torch.arange(b)[:, None, None, None], torch.arange(c)[None, :, None, None], rows, cols]
    gain, contrast = 1 + (torch.rand(2, b, 1, 1, 1, generator=gen) * 2 - 1) * jitter
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return ((x * gain - mean) * contrast + mean).clamp(0.0, 1.0)


def train_frame_cnn(frames: np.ndarray, labels: np.ndarray, num_classes: int, width: int = 16, depth: int = 4,
                    whole_map: int = 4, epochs: int = 8, batch_size: int = 64, lr: float = 2e-3, seed: int = 0,
                    val: tuple[np.ndarray, np.ndarray] | None = None,
                    init: str | Path | None = None, report: str = "") -> tuple[nn.Sequential, list[dict[str, float]]]:
    """Train ``small_cnn(width, depth, whole_map=whole_map)`` + GAP + linear on single frames
    ``(N, S, S, 3)`` uint8 with :func:`augment`; returns the trunk and the per-epoch history (loss,
    accuracy, and ``val_accuracy`` on ``val = (frames, labels)`` when given). ``init``: a file of
    :func:`frame_pretrained` whose trunk the training starts from (the linear layer starts afresh).
    ``report``: when given, a line ``<report> epoch e/E: …, t s, about r s left`` after each epoch."""
    if len(frames) != len(labels) or len(frames) == 0:
        raise ValueError(f"need as many labels as frames (> 0), got {len(frames)} frames and {len(labels)} labels")
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    net = small_cnn(width=width, depth=depth, whole_map=whole_map, weights=init)
    model = nn.Sequential(net.trunk, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(net.out_channels, num_classes))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    x_all = torch.as_tensor(frames).permute(0, 3, 1, 2)  # (N, 3, S, S) uint8
    y_all = torch.as_tensor(labels, dtype=torch.long)
    history = []
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_all), generator=gen)
        total, correct, loss_sum = 0, 0, 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            x = augment(x_all[idx].float() / 255.0, gen)
            y = y_all[idx]
            logits = model(x)
            loss = nn.functional.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += int((logits.argmax(1) == y).sum())
            total += len(idx)
        sched.step()
        row = {"epoch": epoch + 1, "loss": loss_sum / total, "accuracy": correct / total}
        if val is not None:
            model.eval()
            with torch.no_grad():
                xv = torch.as_tensor(val[0]).permute(0, 3, 1, 2).float() / 255.0
                pred = torch.cat([model(xv[i:i + 256]).argmax(1) for i in range(0, len(xv), 256)])
            row["val_accuracy"] = float((pred.numpy() == val[1]).mean())
        history.append(row)
        if report:
            spent = time.perf_counter() - t0
            left = spent / (epoch + 1) * (epochs - epoch - 1)
            print(f"{report} epoch {epoch + 1}/{epochs}: loss {row['loss']:.3f}, accuracy {row['accuracy']:.3f}"
                  + (f", held-out {row['val_accuracy']:.3f}" if "val_accuracy" in row else "")
                  + f" ({spent:.0f} s, about {left:.0f} s left)", flush=True)
    return net.trunk, history


def photo_frames(photos_dir: str | Path, photo_ids: Sequence[str], side: int = 64, clips_per_subject: int = 40,
                 per_clip: int = 4, progress: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``per_clip`` most intense frames (as :func:`expressive_frames` keeps them) of
    ``clips_per_subject`` ``lab`` photo renders a person (7 classes, domain-randomised, 16-frame
    courses) of the people ``photo_ids`` of ``photos_dir``: frames ``(N, S, S, 3)`` uint8, labels,
    subject ids. Only the kept frames are rendered (``generate_clip(apex_frames=…)``)."""
    ids = sorted(str(i) for i in photo_ids)
    cfg = SynthConfig(course="lab", renderer="photo", photos_dir=str(photos_dir), photo_ids=tuple(ids), n_subjects=len(ids),
                      clips_per_subject=clips_per_subject, n_frames=16, side=side, seed=PRETRAIN_SEED, randomise=True)
    renderer = cfg.photo_renderer()
    frames, labels, subjects = [], [], []
    for row in progress_iter(clip_plan(cfg, renderer.ids), desc="photo frames", enabled=progress, unit="clip"):
        clip = generate_clip(cfg, row["_subject"], row["_k"], row["label_name"], renderer, apex_frames=per_clip)
        frames.append(clip["frames"])
        labels += [int(row["label"])] * per_clip
        subjects += [str(row["subject"])] * per_clip
    return np.concatenate(frames), np.asarray(labels), np.asarray(subjects)


def frame_pretrained(cache_dir: str | Path = "data", width: int = 16, depth: int = 4, whole_map: int = 4,
                     n_subjects: int = 100, epochs: int = 5, side: int = 64, val_subjects: int = 15,
                     progress: bool = True, photos_dir: str | Path | None = None,
                     photo_ids: list[str] | None = None, photo_clips_per_subject: int = 40,
                     photo_epochs: int | None = None) -> Path:
    """The pre-trained ``small_cnn`` file :func:`frame_pretrained_path` (``<cache_dir>/pretrained/…``),
    made first if missing from ``<cache_dir>/synth-pretrain-s{side}-n{n_subjects}-g<generator version>``
    (``n_subjects`` generated with ``PRETRAIN_SEED``; the last ``val_subjects`` of them are held out
    to measure how well the frames' expression transfers to unseen identities, stored in the file's
    ``meta``). The file's name holds every setting it depends on and the generator's version, so a
    file made otherwise is never returned (with photos, the photo renderer's version too).

    ``photos_dir`` and ``photo_ids``: the trunk also learns from photo renders of those real people
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


def frame_pretrained_path(cache_dir: str | Path, width: int = 16, depth: int = 4, whole_map: int = 4, side: int = 64,
                          photo_ids: Sequence[str] | None = None, n_subjects: int = 100, epochs: int = 5,
                          val_subjects: int = 15, photo_clips_per_subject: int = 40, photo_epochs: int | None = None) -> Path:
    """The file :func:`frame_pretrained` makes (or returns) for these arguments, made or not:
    ``small_cnn_w{width}_d{depth}_m{whole_map}_s{side}[_photo]_<crc of the other settings and the
    generator's (and photo renderer's) version>.pt``."""
    settings = {"generator": GENERATOR_VERSION, "seed": PRETRAIN_SEED, "n_subjects": int(n_subjects), "epochs": int(epochs),
                "val_subjects": int(val_subjects), "photo_ids": sorted(str(i) for i in photo_ids or [])}
    if photo_ids:
        settings["photo_renderer"] = PHOTO_RENDERER_VERSION
        settings["photo_clips_per_subject"] = int(photo_clips_per_subject)
        if photo_epochs is not None:
            settings["photo_epochs"] = int(photo_epochs)
    key = zlib.crc32(json.dumps(settings, sort_keys=True).encode())
    name = f"small_cnn_w{width}_d{depth}_m{whole_map}_s{side}{'_photo' if photo_ids else ''}_{key:08x}"
    return Path(cache_dir) / "pretrained" / f"{name}.pt"


def default_cache_dir() -> Path:
    """Where :func:`frame_pretrained` keeps its data and weights by default: ``$FERLIB_CACHE``, or
    ``~/.cache/ferlib``."""
    return ferlib_cache_dir()


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``python -m ferlib pretrain``'s options (:mod:`ferlib.cli`'s contract)."""
    p.add_argument("--cache", default=None, help="folder for the data and weights (default $FERLIB_CACHE or ~/.cache/ferlib)")


def run(args: argparse.Namespace) -> int:
    """Make the default file now (the demo schedules would make it on first use) and print its path."""
    print(frame_pretrained(Path(args.cache) if args.cache else default_cache_dir()))
    return 0
