"""ClipDataset: store + index + sampler + transform → tensors for a DataLoader.

An item is a dict::

    frames     float32 (T, 3, S, S) in [0, 1]
    landmarks  float32 (T, 68, 2)   pixels of the output frames
    label      int64   ()
    intensity  float32 (T,)         ground truth where the store has it, else NaN
    flags      uint8→int64 (T,)     FLAG_* bits of the sampled frames
    frame_idx  int64   (T,)         which stored frames were sampled
    row        int64   ()           position in the index (to join predictions back)

Every clip read is checked for non-finite landmarks: a NaN or inf raises
:class:`~ferlib.data.store.StoreError` naming the clip id and its ``landmarks.npy``.

Random draws (frame choice, crop, flip, jitter) come from ``np.random.default_rng([seed, epoch, row])``
— reproducible whatever the number of workers — or, with ``fixed_draws=True``, from
``[seed, row]`` only, i.e. drawn once per data set as the official FAN code did.

**Speed.** With ``cache=True`` each clip's arrays are read from the store once per process and
then held in memory (a store that fits: the caller decides, see
:func:`ferlib.train.engine.make_dataset`); the draws and the items are the same as without. With
``pixels=False`` (landmark-only methods) the frames are not cropped, resized or jittered: the same
draws give the same landmarks and ``frames`` is ``(T, 3, 0, 0)``. An item made in the main
process (``num_workers=0``) runs on one intra-op thread, as a DataLoader worker does: a clip's
tensors are too small to share between threads, and the hand-offs cost more than the work
(several times more on a busy machine); the numbers are the same.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info

from ferlib.data.index import ClipIndex
from ferlib.data.samplers import Sampler
from ferlib.data.store import ClipRecord, ClipStore
from ferlib.data.transforms import ClipTransform


class ClipDataset(Dataset):
    """Clips of ``index`` read from ``store`` (memory-mapped), sampled and transformed."""

    def __init__(
        self,
        store: ClipStore,
        index: ClipIndex,
        sampler: Sampler,
        transform: ClipTransform,
        seed: int = 0,
        fixed_draws: bool = False,
        cache: bool = False,
        pixels: bool = True,
    ) -> None:
        missing = [c for c in index.clip_ids if not store.has(c)]
        if missing:
            raise ValueError(f"{len(missing)} clips of the index are not in the store {store.root}, e.g. {missing[:3]}")
        if tuple(index.classes) != tuple(store.classes):
            raise ValueError(f"index classes {index.classes} differ from store classes {store.classes}")
        self.store = store
        self.index = index
        self.sampler = sampler
        self.transform = transform
        self.seed = int(seed)
        self.fixed_draws = fixed_draws
        self.epoch = 0
        self._ids = index.clip_ids
        self._labels = index.labels
        self.pixels = pixels
        self._cache: dict[int, ClipRecord] | None = {} if cache else None

    def _read(self, i: int) -> ClipRecord:
        if self._cache is None:
            rec = self.store.read(self._ids[i])
            self.store.require_finite(rec)
            return rec
        rec = self._cache.get(i)
        if rec is None:
            rec = self.store.read(self._ids[i], mmap=False)
            self.store.require_finite(rec)
            self._cache[i] = rec
        return rec

    def set_epoch(self, epoch: int) -> None:
        """New random draws for a new epoch (call before iterating)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        threads = torch.get_num_threads()
        if threads == 1 or get_worker_info() is not None:
            return self._item(i)
        torch.set_num_threads(1)
        try:
            return self._item(i)
        finally:
            torch.set_num_threads(threads)

    def _item(self, i: int) -> dict[str, torch.Tensor]:
        rec = self._read(i)
        key = [self.seed, i] if self.fixed_draws else [self.seed, self.epoch, i]
        rng = np.random.default_rng(key)
        idx = self.sampler(rec.n_frames, self.transform.train, rng)
        frames, landmarks = self.transform(rec.frames[idx], rec.landmarks[idx], rng, pixels=self.pixels)
        intensity = rec.intensity[idx] if rec.intensity is not None else np.full(len(idx), np.nan, np.float32)
        return {
            "frames": frames,
            "landmarks": landmarks,
            "label": torch.tensor(int(self._labels[i])),
            "intensity": torch.from_numpy(np.array(intensity, dtype=np.float32)),
            "flags": torch.from_numpy(rec.flags[idx].astype(np.int64)),
            "frame_idx": torch.from_numpy(idx),
            "row": torch.tensor(i),
        }
