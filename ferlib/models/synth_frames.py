"""Where the ``"synth-frames"`` trunk file lives: the demo ``small_cnn``'s frame-level pre-training.

The file is made by :func:`ferlib.experiments.pretrain.frame_pretrained` (a layer above the models:
it generates data and trains); the models only need to know its name, to load it
(:func:`ferlib.models.trunks.load_trunk`) or to say how to make it when it is missing
(:func:`missing_message`). The name holds every setting the file depends on and the generator's
(and photo renderer's) version, so a file made otherwise is never taken for it.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path
from typing import Sequence

from ferlib.models.backbones import ferlib_cache_dir
from ferlib.synth.generate import GENERATOR_VERSION, PHOTO_RENDERER_VERSION

#: the generated subjects of the pre-training are drawn with this seed (no notebook data set uses it)
PRETRAIN_SEED = 1_000_003
#: the ``meta["format"]`` of a pre-trained small_cnn file
FORMAT = "ferlib-small-cnn-frame-pretrained/1"
#: the pre-training's own version, in the file's name: raise it when the same settings would train other
#: weights, so that a cached file of the former training is not taken (2: trained by the engine's loop)
TRAINER_VERSION = 2
#: the command that makes the default file
MAKE_COMMAND = "python -m ferlib pretrain"


def frame_pretrained_path(cache_dir: str | Path, width: int = 16, depth: int = 4, whole_map: int = 4, side: int = 64,
                          photo_ids: Sequence[str] | None = None, n_subjects: int = 100, epochs: int = 5,
                          val_subjects: int = 15, photo_clips_per_subject: int = 40, photo_epochs: int | None = None) -> Path:
    """The file :func:`~ferlib.experiments.pretrain.frame_pretrained` makes for these arguments, made
    or not: ``<cache_dir>/pretrained/small_cnn_w{width}_d{depth}_m{whole_map}_s{side}[_photo]_<crc of
    the other settings, the pre-training's and the generator's (and photo renderer's) version>.pt``."""
    settings = {"generator": GENERATOR_VERSION, "trainer": TRAINER_VERSION, "seed": PRETRAIN_SEED, "n_subjects": int(n_subjects), "epochs": int(epochs),
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
    """Where the pre-training keeps its data and weights by default: ``$FERLIB_CACHE``, or ``~/.cache/ferlib``."""
    return ferlib_cache_dir()


def default_file() -> Path:
    """The ``"synth-frames"`` file of the demo schedules (default arguments, default cache), made or not."""
    return frame_pretrained_path(default_cache_dir())


def missing_message(path: Path) -> str:
    """One line for a missing ``"synth-frames"`` file: which file, and the command that makes it."""
    return (f"init_trunk='synth-frames': {path} does not exist; make it with `{MAKE_COMMAND}` "
            f"(frame pre-training on generated faces, about a minute on a CPU)")
