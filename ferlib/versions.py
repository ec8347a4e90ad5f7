"""The versions of the generated data, and the one check of a generated store's stamp.

Every layer may import this module (it imports nothing of ferlib): the generator stamps stores
with these versions (:mod:`ferlib.synth.generate`), the readers and ``check-store``
(:mod:`ferlib.data.check`) refuse a store of another version.
"""

from __future__ import annotations

import json
from pathlib import Path

#: the generator's version: recorded in every store's ``synth.json`` and in the names of the files made
#: from generated clips (:mod:`ferlib.experiments.pretrain`), so that nothing made by another version is
#: reused. Raise it whenever the same ``SynthConfig`` would render different clips (when only
#: photo renders change, raise :data:`PHOTO_RENDERER_VERSION` instead).
GENERATOR_VERSION = 1

#: the photo renderer's version, recorded beside :data:`GENERATOR_VERSION` for ``photo`` stores and
#: photo-trained trunks: raise it when photo renders change while drawn ones do not (2: AU14's
#: dimple crease, :mod:`ferlib.synth.appearance`)
PHOTO_RENDERER_VERSION = 2

#: the manifest a generated store carries beside its clips
SYNTH_MANIFEST = "synth.json"


def synth_version_problem(root: str | Path) -> str | None:
    """Why the store at ``root`` cannot be read by this ferlib (a ``synth.json`` of another
    generator or photo-renderer version, or an unreadable one), or ``None`` (also for stores
    that were not generated)."""
    manifest = Path(root) / SYNTH_MANIFEST
    if not manifest.is_file():
        return None
    try:
        recorded = json.loads(manifest.read_text())
    except (ValueError, UnicodeDecodeError) as exc:
        return f"{manifest} is corrupt ({exc}); regenerate the store"
    current = {"generator": GENERATOR_VERSION}
    if recorded.get("renderer") == "photo":
        current["photo_renderer"] = PHOTO_RENDERER_VERSION
    for key, version in current.items():
        was = recorded.get(key, 1)  # version 1 predates the stamp
        if was != version:
            return (f"{root} holds synth clips of {key.replace('_', ' ')} version {was} ({manifest}), this ferlib "
                    f"renders version {version}: regenerate the store (python -m ferlib synth …)")
    return None
