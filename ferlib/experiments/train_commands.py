"""``python -m ferlib train | cv | ablate``: :mod:`ferlib.train.cli`'s training commands, with the
``"synth-frames"`` trunk made first when a run asks for it and it is missing.

The engine only loads a trunk (:func:`ferlib.models.trunks.load_trunk` raises for a missing
file); making this one is frame pre-training (:func:`ferlib.experiments.pretrain.ensure_synth_frames`),
which the commands that train do before they start, as the workbook and ``reproduce`` do.
"""

from __future__ import annotations

import argparse

from ferlib.experiments.pretrain import ensure_synth_frames
from ferlib.train import cli as train_cli

__all__ = ["add_arguments", "run"]

add_arguments = train_cli.add_arguments


def run(args: argparse.Namespace) -> int:
    """Make the ``"synth-frames"`` file when a run of the command asks for it, then run the command."""
    ensure_synth_frames(train_cli.requested_trunks(args), progress=True)
    return train_cli.run(args)
