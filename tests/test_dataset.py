import numpy as np
import pytest
import torch

from ferlib.data.dataset import ClipDataset
from ferlib.data.store import ClipStore
from ferlib.data.samplers import Sampler
from ferlib.data.transforms import ClipTransform


def test_items_shapes_and_determinism(small_store):
    idx = small_store.index()
    ds = ClipDataset(small_store, idx, Sampler("segments", 3), ClipTransform(24, train=True), seed=5)
    item = ds[3]
    assert item["frames"].shape == (3, 3, 24, 24) and item["landmarks"].shape == (3, 68, 2)
    assert item["label"].item() == idx.labels[3] and torch.isfinite(item["intensity"]).all()
    again = ds[3]
    assert torch.equal(item["frames"], again["frames"])  # same seed, epoch, row -> same draw
    draws = set()
    for e in range(6):
        ds.set_epoch(e)
        draws.add(tuple(ds[3]["frame_idx"].tolist()))
    assert len(draws) > 1  # new draws per epoch
    fixed = ClipDataset(small_store, idx, Sampler("segments", 3), ClipTransform(24, train=True), seed=5, fixed_draws=True)
    seen = set()
    for e in range(4):
        fixed.set_epoch(e)
        seen.add(tuple(fixed[3]["frame_idx"].tolist()))
    assert len(seen) == 1  # FAN's official draws: once per data set


def test_dataloader_collates(small_store):
    idx = small_store.index()
    ds = ClipDataset(small_store, idx, Sampler("chronological", 16), ClipTransform(32), seed=0)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4)))
    assert batch["frames"].shape == (4, 16, 3, 32, 32) and batch["label"].shape == (4,)
    assert batch["frame_idx"][0].tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]


def test_non_finite_landmarks_name_the_clip_and_file(tmp_path):
    import pytest

    from ferlib.data.store import StoreError

    store = ClipStore.create(tmp_path / "s", "toy", ("a", "b"))
    frames = np.full((4, 8, 8, 3), 7, np.uint8)
    for i, cid in enumerate(("good_1", "nan_2", "good_3")):
        lm = np.full((4, 68, 2), 3.0, np.float32)
        if cid.startswith("nan"):
            lm[2, 5, 0], lm[3, 0, 1] = np.nan, np.inf
        store.write({"clip_id": cid, "label": i % 2, "subject": "s", "source": "src"}, frames, lm)
    index = store.index()
    ds = ClipDataset(store, index, Sampler("chronological", 2), ClipTransform(8), seed=0)
    assert torch.isfinite(ds[index.clip_ids.index("good_3")]["landmarks"]).all()
    with pytest.raises(StoreError, match=r"clip 'nan_2': .*clips/nan_2/landmarks\.npy holds NaN or inf landmarks in 2 of 4 frames \[2, 3\]"):
        ds[index.clip_ids.index("nan_2")]  # whichever frames the sampler picks
    with pytest.raises(StoreError, match="nan_2.*landmarks.npy"):
        next(iter(torch.utils.data.DataLoader(ds, batch_size=3)))


def test_cached_clips_and_landmark_only_items_equal_the_plain_read(small_store):
    small_store = ClipStore.open(small_store.root)  # a store object of its own: nothing held yet
    idx = small_store.index()
    args = (small_store, idx, Sampler("segments", 3), ClipTransform(24, train=True))
    plain = ClipDataset(*args, seed=2)
    cached = ClipDataset(*args, seed=2, cache=True)
    marks = ClipDataset(*args, seed=2, pixels=False)
    for epoch in (0, 1):
        for ds in (plain, cached, marks):
            ds.set_epoch(epoch)
        for i in (0, 4):
            a, b, c = plain[i], cached[i], marks[i]
            for k in a:
                assert torch.equal(a[k], b[k]), k  # the in-memory copy gives the same item, draw for draw
                if k != "frames":
                    assert torch.equal(a[k], c[k]), k  # same draws without the pixel work
            assert c["frames"].shape == (3, 3, 0, 0)
    held = small_store._held
    assert sorted(held) == sorted(idx.clip_ids[i] for i in (0, 4))  # the cached reads alone are held
    assert not isinstance(held[idx.clip_ids[0]].frames, np.memmap)  # read into memory, not a map of the file


def test_a_second_data_set_on_the_store_reads_its_held_clips_without_the_files(small_store, monkeypatch):
    small_store = ClipStore.open(small_store.root)
    idx = small_store.index()
    args = (small_store, idx, Sampler("segments", 3), ClipTransform(24, train=True))
    first = ClipDataset(*args, seed=2, cache=True)[1]

    def no_read(*a, **k):
        raise AssertionError("read from disk again")

    monkeypatch.setattr(small_store, "read", no_read)
    again = ClipDataset(*args, seed=2, cache=True)[1]  # another fold's or variant's data set
    assert all(torch.equal(first[k], again[k]) for k in first)


def test_held_clips_stop_at_the_byte_limit_and_a_rewrite_drops_its_copy(small_store, tmp_path, monkeypatch):
    import shutil

    import ferlib.data.store as store_mod

    small_store = ClipStore.open(shutil.copytree(small_store.root, tmp_path / "lab"))  # rewritten below
    ids = small_store.index().clip_ids
    one = small_store.held(ids[0])
    monkeypatch.setattr(store_mod, "HOLD_BYTES", small_store._held_bytes)  # full: nothing more is kept
    assert isinstance(small_store.held(ids[1]).frames, np.memmap) and ids[1] not in small_store._held
    assert small_store.held(ids[0]) is one
    meta = small_store.meta(ids[0])
    small_store.write({k: meta[k] for k in ("clip_id", "subject", "label", "label_name", "source")},
                      np.asarray(one.frames)[::-1].copy(), np.asarray(one.landmarks), overwrite=True)
    assert ids[0] not in small_store._held and small_store._held_bytes == 0
    assert np.array_equal(small_store.read(ids[0]).frames, np.asarray(one.frames)[::-1])


def test_an_item_in_the_main_process_leaves_the_thread_count_as_it_was(small_store):
    ds = ClipDataset(small_store, small_store.index(), Sampler("segments", 3), ClipTransform(24, train=True), seed=1)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        two = ds[1]
        assert torch.get_num_threads() == 2  # one thread while the item is made, restored after
        torch.set_num_threads(1)
        one = ds[1]
        assert all(torch.equal(two[k], one[k]) for k in two)
    finally:
        torch.set_num_threads(before)


def test_a_batch_fetched_in_one_call_equals_its_items_collated(small_store):
    """The engine's loader stacks a batch in one call (jitter on the whole batch); a user's plain
    DataLoader gets the same items through default_collate."""
    from torch.utils.data import DataLoader, default_collate

    from ferlib.data.dataset import ItemBatch, collate_items

    ds = ClipDataset(small_store, small_store.index(), Sampler("segments", 3), ClipTransform(24, train=True), seed=3)
    ds.set_epoch(2)
    rows = [4, 0, 5, 1]
    fetched = ds.__getitems__(rows)
    assert isinstance(fetched, ItemBatch) and len(fetched) == 4
    stacked, one_by_one = collate_items(fetched), default_collate([ds[i] for i in rows])
    plain = next(iter(DataLoader(ds, batch_size=4, sampler=rows)))
    for k in one_by_one:
        assert stacked[k].shape == one_by_one[k].shape == plain[k].shape and stacked[k].dtype == one_by_one[k].dtype, k
        torch.testing.assert_close(stacked[k], one_by_one[k], rtol=0, atol=1e-6, equal_nan=True)
        torch.testing.assert_close(plain[k], one_by_one[k], rtol=0, atol=1e-6, equal_nan=True)
    assert stacked["row"].tolist() == rows and stacked["frames"].std() > 0
    with pytest.raises(IndexError):
        fetched[4]


@pytest.mark.parametrize("train", [True, False])
def test_a_deferred_batch_is_finished_to_the_same_frames(small_store, train):
    """defer_unit: uint8 frames and each clip's jitter factors, which batch_to_unit turns into the very
    tensor the loader makes otherwise (bit for bit: the engine's numbers do not move)."""
    from ferlib.data.dataset import collate_items
    from ferlib.data.transforms import batch_to_unit

    def batch(defer: bool) -> dict:
        ds = ClipDataset(small_store, small_store.index(), Sampler("segments", 3), ClipTransform(24, train=train), seed=3,
                         defer_unit=defer)
        ds.set_epoch(2)
        return collate_items(ds.__getitems__([4, 0, 5, 1]))

    done, deferred = batch(False), batch(True)
    assert deferred["frames"].dtype == torch.uint8 and deferred["jitter"].shape == (4, 3)
    assert bool(torch.isnan(deferred["jitter"]).all()) != train  # no jitter at evaluation: NaN rows
    finished = batch_to_unit(deferred, "cpu")
    assert set(finished) == set(done)  # the jitter entry is used up
    for k in done:
        assert torch.equal(finished[k], done[k]), k
    assert finished["frames"].stride() == done["frames"].stride()  # channels-last kept
    assert batch_to_unit(done) is done  # a finished batch passes through


def test_epoch_order_is_the_shuffled_loaders_order_with_each_row_tagged_by_its_epoch():
    from torch.utils.data import DataLoader

    from ferlib.data.dataset import EpochOrder

    for n, seed, epoch in ((1, 0, 0), (9, 0, 3), (50, 7, 1)):
        g = torch.Generator()
        g.manual_seed(seed * 1000003 + epoch)  # make_loader's seeding before EpochOrder: the runs' orders are kept
        shuffled = [int(r) for r in DataLoader(list(range(n)), batch_size=None, shuffle=True, generator=g)]
        assert list(EpochOrder(n, seed, epoch)) == [(epoch, r) for r in shuffled]
    order = EpochOrder(3, inner=[2, 0, 1])  # another sampler's rows (DDP's), tagged
    order.set_epoch(4)
    assert list(order) == [(4, 2), (4, 0), (4, 1)] and len(order) == 3


def test_a_row_tagged_with_an_epoch_takes_that_epochs_draws(small_store):
    ds = ClipDataset(small_store, small_store.index(), Sampler("segments", 3), ClipTransform(24, train=True), seed=3)
    ds.set_epoch(2)
    want = ds.__getitems__([3, 1]).stacked
    ds.set_epoch(0)  # a persistent worker's copy keeps the epoch it was forked in
    got = ds.__getitems__([(2, 3), (2, 1)]).stacked
    assert all(torch.equal(want[k], got[k]) for k in want) and got["row"].tolist() == [3, 1]
    untagged = ds.__getitems__([3, 1]).stacked  # epoch 0's draws
    assert not all(torch.equal(untagged[k], want[k]) for k in ("frames", "landmarks"))


def test_hold_reads_every_clip_before_the_first_batch(small_store, monkeypatch):
    small_store = ClipStore.open(small_store.root)  # nothing held yet
    idx = small_store.index()
    args = (small_store, idx, Sampler("segments", 3), ClipTransform(24, train=True))
    assert ClipDataset(*args).hold() == 0.0 and not small_store._held  # without cache: nothing read
    ds = ClipDataset(*args, seed=2, cache=True)
    assert ds.hold() > 0 and sorted(small_store._held) == sorted(idx.clip_ids)

    def no_read(*a, **k):
        raise AssertionError("read from disk again")

    monkeypatch.setattr(small_store, "read", no_read)
    assert len(ds.__getitems__(list(range(len(ds))))) == len(ds)  # every item from the held copies


@pytest.mark.parametrize("n_rows", [7, 8, 13])
def test_step_batches_cut_from_bigger_fetches_are_the_batches_of_a_step_sized_loader(small_store, n_rows):
    """The engine's training loader reads several steps' batches a call; the steps get the very batches,
    rows and tensors, of a loader of one step's batch (the epoch's last one short)."""
    from torch.utils.data import DataLoader

    from ferlib.data.dataset import EpochOrder, StepBatches, collate_items

    index = small_store.index()
    ds = ClipDataset(small_store, index.subset(list(range(min(n_rows, len(index))))), Sampler("segments", 3),
                     ClipTransform(24, train=True), seed=3, defer_unit=True)
    n = len(ds)

    def loader(batch: int) -> DataLoader:
        return DataLoader(ds, batch_size=batch, sampler=EpochOrder(n, 3, 1), collate_fn=collate_items)

    want = list(loader(2))
    steps = StepBatches(loader(6), 2)
    got = list(steps)
    assert len(steps) == len(got) == len(want) == -(-n // 2) and len(got[-1]["row"]) == (n % 2 or 2)
    for w, g in zip(want, got):
        assert set(w) == set(g) and all(torch.equal(w[k], g[k]) for k in w)
    assert steps.sampler is steps.loader.sampler
    with pytest.raises(ValueError, match="batch size 6 is not a whole multiple of the step's 4"):
        StepBatches(loader(6), 4)
