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
``[seed, row]`` only, i.e. drawn once per data set as the official FAN code did. A row given as
``(epoch, row)`` (:class:`EpochOrder`, the engine's training order) names its epoch itself.

**Speed.** With ``cache=True`` each clip's arrays are read from the store once per store object
(all at once by :meth:`ClipDataset.hold`) and then held in memory (:meth:`~ferlib.data.store.ClipStore.held`: the runs of one notebook
share them; a store that fits: the caller decides, see :func:`ferlib.train.engine.make_dataset`); the draws and the items are the same as without. With
``pixels=False`` (landmark-only methods) the frames are not cropped, resized or jittered: the same
draws give the same landmarks and ``frames`` is ``(T, 3, 0, 0)``. An item made in the main
process (``num_workers=0``) runs on one intra-op thread, as a DataLoader worker does: a clip's
tensors are too small to share between threads, and the hand-offs cost more than the work
(several times more on a busy machine); the numbers are the same. A DataLoader fetches a batch
in one call (:meth:`ClipDataset.__getitems__`): the conversion to float and the colour jitter run once on the stacked batch, and
the engine's loaders take the stack as it is (:func:`collate_items`); the items are those of ``ds[i]``.
The engine's training sets leave those two to the training step (``defer_unit``: uint8 ``frames``
and a ``jitter`` entry, finished on the model's device by :func:`~ferlib.data.transforms.batch_to_unit`):
a GPU receives a quarter of the bytes and does the pixel arithmetic, and loader workers hand over
uint8 batches; the numbers are the same.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate, get_worker_info
from torch.utils.data import Sampler as TorchSampler

from ferlib.data.index import ClipIndex
from ferlib.data.samplers import Sampler
from ferlib.data.store import ClipRecord, ClipStore
from ferlib.data.transforms import ClipTransform, to_unit


class ClipDataset(Dataset):
    """Clips of ``index`` read from ``store`` (memory-mapped), sampled and transformed. ``defer_unit``:
    batches keep their frames uint8 and carry each clip's colour-jitter factors as ``jitter``
    ``(B, 3)`` (NaN: none), for :func:`~ferlib.data.transforms.batch_to_unit` to finish where the
    batch is used (the engine's training step, on its device)."""

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
        defer_unit: bool = False,
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
        self.defer_unit = defer_unit
        self.cache = cache  # clips read through the store's held copies (ClipStore.held)

    def _read(self, i: int) -> ClipRecord:
        if not self.cache:
            rec = self.store.read(self._ids[i])
            self.store.require_finite(rec)
            return rec
        return self.store.held(self._ids[i])

    def hold(self) -> float:
        """With ``cache``: read every clip into the store's held copies now; the seconds it took (0
        without ``cache``). :func:`~ferlib.train.engine.fit` calls it before the first epoch: the
        steps then never wait on the disk, and loader workers, forked after it, inherit the copies
        instead of each reading the store again."""
        if not self.cache:
            return 0.0
        t0 = time.perf_counter()
        for clip_id in self._ids:
            self.store.held(clip_id)
        return time.perf_counter() - t0

    def set_epoch(self, epoch: int) -> None:
        """New random draws for a new epoch (call before iterating)."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, i: int | tuple[int, int]) -> dict[str, torch.Tensor]:
        return self.__getitems__([i])[0]

    def __getitems__(self, rows: list[int] | list[tuple[int, int]]) -> "ItemBatch":
        """The items of ``rows`` (the DataLoader's batched fetch): the draws, window, flip and resize
        clip by clip in uint8, the conversion to float and the colour jitter on the whole batch. An :class:`ItemBatch`: a sequence of the
        item dicts (as ``self[i]`` for ``i`` in ``rows``, what ``default_collate`` takes) holding
        them stacked (``.stacked``, ``(B, …)`` per key, what :func:`collate_items` returns). A row
        given as ``(epoch, row)`` (:class:`EpochOrder`) takes that epoch's draws, whatever
        :meth:`set_epoch` said: a loader's persistent workers serve every epoch."""
        threads = torch.get_num_threads()
        one = threads == 1 or get_worker_info() is not None
        if not one:
            torch.set_num_threads(1)
        try:
            return ItemBatch(self._stacked(list(rows)))
        finally:
            if not one:
                torch.set_num_threads(threads)

    def _stacked(self, rows: list[int] | list[tuple[int, int]]) -> dict[str, torch.Tensor]:
        frames, landmarks, rngs, intensity, flags, idxs = [], [], [], [], [], []
        epochs = [self.epoch if isinstance(i, (int, np.integer)) else int(i[0]) for i in rows]
        rows = [int(i) if isinstance(i, (int, np.integer)) else int(i[1]) for i in rows]
        for i, epoch in zip(rows, epochs):
            rec = self._read(i)
            key = [self.seed, i] if self.fixed_draws else [self.seed, epoch, i]
            rng = np.random.default_rng(key)
            idx = self.sampler(rec.n_frames, self.transform.train, rng)
            frames.append(rec.frames[idx])
            landmarks.append(rec.landmarks[idx])
            rngs.append(rng)
            intensity.append(rec.intensity[idx] if rec.intensity is not None else np.full(len(idx), np.nan, np.float32))
            flags.append(rec.flags[idx])
            idxs.append(idx)
        clips, lms, factors = self.transform.batch_geometry(frames, landmarks, rngs, pixels=self.pixels)
        deferred = {}
        if self.pixels and self.defer_unit:
            deferred["jitter"] = torch.from_numpy((np.full((len(rows), 3), np.nan) if factors is None else factors)
                                                  .astype(np.float32))
        elif self.pixels and rows:
            clips = to_unit(clips, factors)
        return {
            "frames": clips,
            **deferred,
            "landmarks": lms,
            "label": torch.from_numpy(np.array([int(self._labels[i]) for i in rows], dtype=np.int64)),
            "intensity": torch.from_numpy(np.stack(intensity).astype(np.float32)),
            "flags": torch.from_numpy(np.stack(flags).astype(np.int64)),
            "frame_idx": torch.from_numpy(np.stack(idxs)),
            "row": torch.tensor(rows, dtype=torch.int64),
        }


class EpochOrder(TorchSampler):
    """The order of a training epoch's clips, each row given as ``(epoch, row)`` so that
    :class:`ClipDataset` takes that epoch's draws: one DataLoader, its workers kept
    (``persistent_workers``), serves every epoch (:meth:`set_epoch` before each). The rows are those
    of ``inner`` (e.g. a ``DistributedSampler``, its epoch set by the caller) or, without it, a
    permutation of ``range(n)`` from ``(seed, epoch)``: the one ``DataLoader(shuffle=True)`` gives with
    a generator seeded so, which draws its workers' base seed from that generator first."""

    def __init__(self, n: int, seed: int = 0, epoch: int = 0, inner: Iterable[int] | None = None) -> None:
        self.n, self.seed, self.epoch, self.inner = int(n), int(seed), int(epoch), inner

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.inner) if self.inner is not None else self.n  # type: ignore[arg-type]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        if self.inner is not None:
            rows = [int(r) for r in self.inner]
        else:
            g = torch.Generator()
            g.manual_seed(self.seed * 1000003 + self.epoch)
            torch.empty((), dtype=torch.int64).random_(generator=g)  # the DataLoader's base-seed draw
            rows = torch.randperm(self.n, generator=g).tolist()
        return iter([(self.epoch, r) for r in rows])


class StepBatches:
    """The training steps' batches of ``batch_size`` rows, in order, cut from ``loader``'s batches of a whole
    multiple of it (the epoch's last may be short): a main process that loads alone reads several steps'
    clips in one call (:data:`~ferlib.train.engine.FETCH_STEPS`), paying the call's fixed work, and the caches
    a training step left cold, once for them. Each step gets the rows and tensors (views) a loader of
    ``batch_size`` gives. ``sampler`` is ``loader``'s (for ``set_epoch``)."""

    def __init__(self, loader: Any, batch_size: int) -> None:
        if int(batch_size) < 1 or loader.batch_size % int(batch_size):
            raise ValueError(f"the loader's batch size {loader.batch_size} is not a whole multiple of the step's {batch_size}")
        self.loader, self.batch_size = loader, int(batch_size)

    @property
    def sampler(self) -> Any:
        return self.loader.sampler

    def __len__(self) -> int:
        return -(-len(self.loader.sampler) // self.batch_size)

    def __iter__(self) -> Iterator[dict[str, torch.Tensor]]:
        b = self.batch_size
        for fetched in self.loader:
            n = len(fetched["label"])
            if n <= b:
                yield fetched
                continue
            for s in range(0, n, b):
                yield {k: v[s:s + b] for k, v in fetched.items()}


class ItemBatch(Sequence):
    """A batch fetched by :meth:`ClipDataset.__getitems__`: ``stacked`` (one dict, ``(B, …)`` per
    key) and, as a sequence, the item dicts (views into it), so any ``collate_fn`` works on it."""

    def __init__(self, stacked: dict[str, torch.Tensor]) -> None:
        self.stacked = stacked

    def __len__(self) -> int:
        return len(self.stacked["row"])

    def __getitem__(self, k: int) -> dict[str, torch.Tensor]:  # type: ignore[override]
        if not -len(self) <= k < len(self):
            raise IndexError(k)
        return {name: value[k] for name, value in self.stacked.items()}


def collate_items(batch: Any) -> Any:
    """The engine's DataLoader ``collate_fn``: an :class:`ItemBatch`'s stacked dict as it is; any
    other list of items through ``default_collate``."""
    return batch.stacked if isinstance(batch, ItemBatch) else default_collate(batch)
