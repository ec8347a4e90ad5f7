"""``python -m ferlib <command> …``: the workbook's steps outside notebooks.

Each command lives in the module that owns the step; that module defines
``add_arguments(parser)`` and ``run(args) -> int``. This file only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "synth": ("ferlib.synth.cli", "generate the synthetic data set into a clip store (or as videos)"),
    "preprocess": ("ferlib.preprocess.cli", "decode, detect faces and landmarks, crop, and fill a clip store"),
    "check-store": ("ferlib.data.check", "check a clip store entry by entry and its failures.csv (exit 1 on problems)"),
    "train": ("ferlib.train.cli", "train one method on one split"),
    "evaluate": ("ferlib.train.cli", "evaluate a checkpoint"),
    "cv": ("ferlib.train.cli", "cross-validate a method under a protocol"),
    "ablate": ("ferlib.train.cli", "run an ablation grid"),
    "reproduce": ("ferlib.reproduce", "run a method on a data set the way its paper did, ending in the paper's table beside ours"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ferlib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module, help_text) in COMMANDS.items():
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        p = sub.add_parser(name, help=help_text, description=help_text)
        mod.add_arguments(p, name) if _takes_name(mod.add_arguments) else mod.add_arguments(p)
        p.set_defaults(_module=mod)
    return parser


def _takes_name(fn: object) -> bool:
    import inspect

    return len(inspect.signature(fn).parameters) >= 2  # type: ignore[arg-type]


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args._module.run(args) or 0)
    except (ValueError, OSError, RuntimeError) as exc:  # OSError: a path that is a file, not writable, ...
        print(f"error: {exc}", file=sys.stderr)
        return 2
