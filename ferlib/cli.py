"""``python -m ferlib <command> …``: the workbook's steps outside notebooks.

Each command lives in the module that owns the step (:data:`COMMANDS`), and every such module
keeps one contract:

* ``add_arguments(parser)`` adds the command's options to its sub-parser. Before the call the
  sub-parser carries the command's name as its ``command`` default, so a module that serves
  several commands (:mod:`ferlib.train.cli`) reads ``parser.get_default("command")``;
* ``run(args) -> int`` runs it and returns the exit status; ``args.command`` is the command's name.

``KEY=VALUE`` options are read the same way by every command (:mod:`ferlib.options`). A command
whose module is missing or breaks the contract is an error, never a command left out of the
list. An error a user can cause (``ValueError``, ``OSError``, ``RuntimeError``) prints one line
and exits with status 2. This file only dispatches.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

COMMANDS = {
    "synth": ("ferlib.synth.cli", "generate the synthetic data set into a clip store (or as videos)"),
    "pretrain": ("ferlib.experiments.pretrain", "make the demo small CNN's frame-level pre-training (cached; the commands that train make it when missing)"),
    "preprocess": ("ferlib.preprocess.cli", "decode, detect faces and landmarks, crop, and fill a clip store"),
    "check-store": ("ferlib.data.check", "check a clip store entry by entry and its failures.csv (exit 1 on problems)"),
    "train": ("ferlib.experiments.train_commands", "train one method on one split"),
    "evaluate": ("ferlib.train.cli", "evaluate a checkpoint"),
    "cv": ("ferlib.experiments.train_commands", "cross-validate a method under a protocol"),
    "ablate": ("ferlib.experiments.train_commands", "run an ablation grid"),
    "reproduce": ("ferlib.reproduce", "run a method on a data set the way its paper did, ending in the paper's table beside ferlib's numbers"),
}


class _HelpFormatter(argparse.HelpFormatter):
    """Help that ends in an option's default, unless it has none or its help already says it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        d = action.default
        unset = d is None or d is False or d is argparse.SUPPRESS or (isinstance(d, (list, str)) and not d)
        if action.option_strings and not unset and "default" not in text:
            text += " (default: %(default)s)"
        return text


class CommandError(ImportError):
    """A command's module is missing or does not keep the contract of this module's docstring."""


def command_module(name: str, module_name: str) -> ModuleType:
    """The module of command ``name``, checked against the contract; raises :class:`CommandError`
    naming the command and the module when it is missing or lacks ``add_arguments``/``run``."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise  # the module exists but something it imports does not: show that error as it is
        raise CommandError(f"command {name!r}: its module {module_name} is missing") from None
    missing = [f for f in ("add_arguments", "run") if not callable(getattr(module, f, None))]
    if missing:
        raise CommandError(f"command {name!r}: module {module_name} defines no {' or '.join(missing)}(…)")
    return module


def build_parser(commands: dict[str, tuple[str, str]] | None = None, only: str | None = None
                 ) -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    """The parser of ``python -m ferlib`` with one sub-parser per entry of ``commands`` (default
    :data:`COMMANDS`: name → (module, help)), and the sub-parsers by name. With ``only``, only that
    command's module is imported and given its options (the others are listed by name and help):
    ``--help`` and each command then import nothing they do not need (torch, OpenCV, dlib)."""
    parser = argparse.ArgumentParser(prog="python -m ferlib", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers = {}
    for name, (module_name, help_text) in (commands or COMMANDS).items():
        p = sub.add_parser(name, help=help_text, description=help_text,
                           formatter_class=_HelpFormatter)
        p.set_defaults(command=name)
        subparsers[name] = p
        if only is None or name == only:
            module = command_module(name, module_name)
            p.set_defaults(_run=module.run)
            module.add_arguments(p)
    return parser, subparsers


def _command_name(argv: list[str], commands: dict[str, tuple[str, str]]) -> str | None:
    """The command ``argv`` names (its first word not an option), when it is one of ``commands``."""
    first = next((a for a in argv if not a.startswith("-")), None)
    return first if first in commands else None


def main(argv: list[str] | None = None, commands: dict[str, tuple[str, str]] | None = None) -> int:
    """Parse ``argv`` and run the command; returns its exit status (2 on an error a user can cause).
    An option the command does not know is reported with the command's own usage."""
    argv = sys.argv[1:] if argv is None else list(argv)
    commands = commands or COMMANDS
    name = _command_name(argv, commands)
    try:
        parser, subparsers = build_parser(commands, only=name or "")
    except CommandError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args, unknown = parser.parse_known_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if unknown:
        subparsers[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    try:
        return int(args._run(args))
    except (ValueError, OSError, RuntimeError) as exc:  # OSError: a path that is a file, not writable, ...
        print(f"error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"interrupted: nothing half-written is kept; run the same command again to resume "
              f"({args.command} picks up where it stopped)", file=sys.stderr)
        return 130


def one_line(exc: BaseException) -> str:
    """The message of ``exc``; for an error a DataLoader worker re-raised (its message carries the
    worker's whole traceback) the original error's own line."""
    text = str(exc)
    if "Original Traceback" in text:
        last = text.rstrip().splitlines()[-1]
        return last.split(": ", 1)[1] if ": " in last else last
    return text
