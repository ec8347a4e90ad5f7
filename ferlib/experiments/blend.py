"""New identities from pairs of real people: landmark-aligned 50/50 blends of their photos.

A photo renderer given ten people's photos shows a model ten faces. A blend of two of them (both
photos warped to their mean landmarks by :func:`ferlib.synth.warp.piecewise_affine_warp`, then
averaged: the face averaging of face-perception research) is a face that is neither, so
:func:`blend_identities` multiplies the identities a renderer draws from without adding a person.
It writes a London-layout folder: the chosen people's own photos, and for each blend of ``a`` and
``b`` ``neutral_front/<a>x<b>_03.jpg`` and, when both have one, ``smiling_front/<a>x<b>_08.jpg``
(the same blend of their smiling photos, the renderer's exemplar). A blend's subject id is
``<a>x<b>`` (:func:`ferlib.synth.photo.photo_identity`): it holds only people of ``ids``, so a
split that keeps ``ids`` away from the test keeps their blends away too.

Whether blends help is measured, not assumed: ``python benchmarks/photo_renders.py --blends N``
prints each method's accuracy on photo renders of people the renderer never used, with and
without them.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from ferlib.synth.photo import FaceNotFoundError, Landmarker, dlib_landmarker, list_photos, photo_identity, read_rgb, smiling_photo
from ferlib.synth.warp import piecewise_affine_warp

__all__ = ["blend_identities", "blend_pair"]


def _landmarks(image: np.ndarray, path: Path, landmarker: Landmarker) -> np.ndarray:
    found = landmarker(image)
    if found is None:
        raise FaceNotFoundError(f"no face found in photo {path}: a blend needs the 68 landmarks of both photos")
    return np.asarray(found[0], np.float64)


def blend_pair(a: np.ndarray, b: np.ndarray, landmarks_a: np.ndarray, landmarks_b: np.ndarray) -> np.ndarray:
    """The 50/50 blend of RGB images ``a`` and ``b`` ``(H, W, 3)`` uint8 (``b`` is resized to ``a``'s
    size) after warping each so that its landmarks ``(68, 2)`` land on the mean of the two."""
    if b.shape[:2] != a.shape[:2]:
        scale = np.array([a.shape[1] / b.shape[1], a.shape[0] / b.shape[0]])
        b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
        landmarks_b = (landmarks_b + 0.5) * scale - 0.5
    mean = (landmarks_a + landmarks_b) / 2
    wa = piecewise_affine_warp(a, landmarks_a, mean).astype(np.float32)
    wb = piecewise_affine_warp(b, landmarks_b, mean).astype(np.float32)
    return np.clip(np.round((wa + wb) / 2), 0, 255).astype(np.uint8)


def blend_identities(photos_dir: str | Path | Sequence[str | Path], out_dir: str | Path, ids: Sequence[str],
                     n_blends: int, seed: int = 0, landmarker: Landmarker | None = None) -> Path:
    """Write ``ids``' photos of the London-layout ``photos_dir`` (one folder or several) and ``n_blends`` blends of pairs of
    them (a seeded choice of the pairs) into ``out_dir`` (same layout; see the module doc) and
    return it. Made once: an ``out_dir`` that exists is returned as it is when it holds the same
    people and blends, refused otherwise."""
    photos = {photo_identity(p): p for p in list_photos(photos_dir)}
    ids = sorted(str(i) for i in ids)
    unknown = [i for i in ids if i not in photos]
    if unknown:
        raise ValueError(f"ids {unknown} have no photo in {photos_dir}; it holds {sorted(photos)[:8]} …")
    pairs = list(itertools.combinations(ids, 2))
    if not isinstance(n_blends, int) or not 0 <= n_blends <= len(pairs):
        raise ValueError(f"n_blends must be an integer in [0, {len(pairs)}] (the pairs of {len(ids)} people), got {n_blends!r}")
    order = np.random.default_rng([int(seed), 11]).permutation(len(pairs))[:n_blends]
    chosen = [pairs[i] for i in sorted(order)]
    out = Path(out_dir)
    wanted = sorted(ids + [f"{a}x{b}" for a, b in chosen])
    if out.exists():
        have = sorted(photo_identity(p) for p in list_photos(out))
        if have != wanted:
            raise ValueError(f"{out} holds the photos of {have[:6]} …, not of {wanted[:6]} …: choose another folder")
        return out
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "neutral_front").mkdir(parents=True)
    (tmp / "smiling_front").mkdir()
    landmarker = landmarker or dlib_landmarker()
    for i in ids:
        shutil.copy(photos[i], tmp / "neutral_front" / f"{i}_03{photos[i].suffix}")
        smile = smiling_photo(photos[i])
        if smile is not None:
            shutil.copy(smile, tmp / "smiling_front" / f"{i}_08{smile.suffix}")
    for a, b in chosen:
        for folder, suffix, pa, pb in (("neutral_front", "03", photos[a], photos[b]),
                                       ("smiling_front", "08", smiling_photo(photos[a]), smiling_photo(photos[b]))):
            if pa is None or pb is None:
                continue
            ia, ib = read_rgb(pa), read_rgb(pb)
            blend = blend_pair(ia, ib, _landmarks(ia, pa, landmarker), _landmarks(ib, pb, landmarker))
            cv2.imwrite(str(tmp / folder / f"{a}x{b}_{suffix}.jpg"), np.ascontiguousarray(blend[..., ::-1]),
                        [cv2.IMWRITE_JPEG_QUALITY, 95])
    tmp.rename(out)
    return out
