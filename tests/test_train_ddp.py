"""DDP on CPU with gloo: 2 processes give the single-process update (tolerance 1e-5 on the
parameters after one optimiser step of a batch-norm-free model), and a 2-rank fit writes one run
from rank 0 that every rank reads back."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from ferlib.models.base import FERModel

TOL = 1e-5


class MeanFrameLinear(FERModel):
    """Linear classifier on the clip's mean pixel colour per frame: (B, T, 3, S, S) → (B, C)."""

    input_kind = "frames"

    def __init__(self, num_classes: int = 2) -> None:
        super().__init__(num_classes)
        self.fc = nn.Linear(3, num_classes)

    def forward(self, clips):
        feats = clips.mean(dim=(3, 4)).mean(dim=1)
        return self.fc(feats), {"embedding": feats}


def _one_step(store_root: str, rank: int | None, world: int) -> torch.Tensor:
    from ferlib.data.store import ClipStore
    from ferlib.train.recipes import resolve_config
    from ferlib.train.engine import make_dataset, make_loader, train_one_epoch

    store = ClipStore.open(store_root)
    cfg = resolve_config("fan", "demo", batch_size=4, input_side=32, augment=False, optimizer="sgd", lr=0.5, momentum=0.0,
                         weight_decay=0.0, progress=False)
    torch.manual_seed(0)
    model = MeanFrameLinear()
    net: nn.Module = model
    ds = make_dataset(store, store.index().subset(np.arange(4)), cfg, train=True)
    sampler = None
    if rank is not None:
        net = nn.parallel.DistributedDataParallel(model)
        sampler = torch.utils.data.distributed.DistributedSampler(ds, world, rank, shuffle=True, seed=0)
    loader = make_loader(ds, cfg, True, 0, cfg.batch_size // world, sampler)
    opt = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    train_one_epoch(net, loader, opt, cfg, torch.device("cpu"), progress=False)
    return torch.cat([p.detach().flatten() for p in model.parameters()])


def _worker(rank: int, world: int, port: int, store_root: str, out: str, results) -> None:
    import os

    os.environ["OMP_NUM_THREADS"] = "1"
    torch.set_num_threads(1)
    from ferlib.data.protocols import Split
    from ferlib.data.store import ClipStore
    from ferlib.train import distributed
    from ferlib.train.recipes import resolve_config
    from ferlib.train.engine import fit

    distributed.init_local(rank, world, port)
    try:
        params = _one_step(store_root, rank, world)
        cfg = resolve_config("fan", "demo", epochs=1, batch_size=2, input_side=32, progress=False)
        m = fit(cfg, ClipStore.open(store_root), Split("f0", np.array([0, 1, 2, 3]), np.array([4, 5])), out)
        results.put((rank, params.tolist(), m["accuracy"], m["n"]))
    finally:
        distributed.shutdown()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from ferlib.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("tiny") / "store"
    generate(root, SynthConfig(n_subjects=3, n_frames=4, side=32, classes=("happy", "surprise"), seed=0), progress=False)
    return root


def test_two_gloo_ranks_match_single_process(tiny, tmp_path):
    from ferlib.train.distributed import free_port

    single = _one_step(str(tiny), None, 1)
    ctx = mp.get_context("spawn")
    results = ctx.SimpleQueue()
    out = tmp_path / "ddp"
    mp.start_processes(_worker, args=(2, free_port(), str(tiny), str(out), results), nprocs=2, join=True, start_method="spawn")
    got = sorted(results.get() for _ in range(2))
    p0, p1 = torch.tensor(got[0][1]), torch.tensor(got[1][1])
    torch.testing.assert_close(p0, p1, atol=0, rtol=0)  # DDP keeps the replicas identical
    torch.testing.assert_close(p0, single, atol=TOL, rtol=0)  # and equal to the full-batch step
    assert not torch.allclose(single, _initial())  # the step did move the parameters
    assert got[0][2] == got[1][2] and got[0][3] == 2  # every rank returns rank 0's metrics
    assert json.loads((out / "metrics.json").read_text())["n_test"] == 2
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == sorted(
        ["config.json", "store.json", "split.json", "trunk.json", "metrics.json", "predictions.csv", "byproducts.npz", "best.pt",
         "last.pt", "best.pt.sha256", "last.pt.sha256", "timing.json"])


def _initial() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.cat([p.detach().flatten() for p in MeanFrameLinear().parameters()])
