"""Shared test helpers: small synthetic stores and the real-face material (``assets/``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ["FERLIB_OFFLINE"] = "1"  # tests never download; those of the download path unset it and use file:// URLs

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "assets"


@pytest.fixture(scope="session", autouse=True)
def tiny_frame_pretraining(tmp_path_factory):
    """Point ``$FERLIB_CACHE`` at a session folder holding a tiny frame-pretrained small CNN (4
    subjects, 1 epoch, seconds to make), so that demo schedules with ``init_trunk="synth-frames"``
    run their real code path in the tests (and subprocesses) without the minute-long default."""
    import shutil

    from ferlib.experiments.pretrain import frame_pretrained
    from ferlib.models.synth_frames import frame_pretrained_path

    cache = tmp_path_factory.mktemp("ferlib-cache")
    os.environ["FERLIB_CACHE"] = str(cache)
    tiny = frame_pretrained(cache, n_subjects=4, val_subjects=1, epochs=1, progress=False)
    shutil.copy(tiny, frame_pretrained_path(cache))  # stands in for the default file
    return cache


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``assets/`` (real faces and videos; they ship in the repository)."""
    return FIXTURES


@pytest.fixture(scope="session")
def small_store(tmp_path_factory):
    """A 10-subject × 7-class synthetic `lab` store, 8 frames of 32×32 (session-wide, read-only)."""
    from ferlib.synth import SynthConfig, generate

    root = tmp_path_factory.mktemp("synth") / "lab"
    return generate(root, SynthConfig(n_subjects=10, n_frames=8, side=32, seed=1), progress=False)
