"""Scale-out through ``torchrun``: one process per device, DDP, only rank 0 writes.

``torchrun --nproc_per_node=N -m ferlib train …`` sets ``RANK``/``WORLD_SIZE``/``LOCAL_RANK``;
:func:`init_from_env` then joins the process group (NCCL on CUDA, gloo on CPU — the same code path
runs on a laptop). The engine shards the training set with ``DistributedSampler`` (per-rank batch
= global batch / world size, so the optimiser sees the same global batch as a single process),
wraps the model in ``DistributedDataParallel``, and lets rank 0 alone evaluate and write files;
the other ranks wait at a barrier.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: ``rank`` of ``world_size``; ``local_rank`` picks the device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def context() -> DistContext:
    """The current process group's rank and size (``DistContext()`` when not distributed)."""
    if dist.is_available() and dist.is_initialized():
        return DistContext(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank())))
    return DistContext()


def init_from_env(backend: str | None = None) -> DistContext:
    """Join the process group described by torchrun's environment variables (no-op without them)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1 or (dist.is_initialized()):
        return context()
    backend = backend or ("nccl" if torch.cuda.is_available() else "gloo")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if backend == "nccl":
        torch.cuda.set_device(local)
    dist.init_process_group(backend=backend)
    return context()


def barrier() -> None:
    """Wait for every rank (no-op when not distributed)."""
    if context().enabled:
        dist.barrier()


def free_port() -> int:
    """A free TCP port on localhost (for spawning a gloo group in tests and notebooks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def init_local(rank: int, world_size: int, port: int, backend: str = "gloo") -> DistContext:
    """Join a process group on localhost (what torchrun does), e.g. inside ``mp.spawn``."""
    os.environ.update({"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank),
                       "WORLD_SIZE": str(world_size), "LOCAL_RANK": str(rank)})
    dist.init_process_group(backend=backend, rank=rank, world_size=world_size)
    return context()


def shutdown() -> None:
    """Leave the process group if one is active."""
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()
