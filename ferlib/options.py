"""``key=value`` options of the command line: one dialect for every ``python -m ferlib`` command.

Every option that takes ``KEY=VALUE`` (``train --set`` / ``--model-set`` / ``--protocol-arg``,
``preprocess --option``, ``reproduce --option``, …) is read by :func:`parse_key_value` (as the
argparse ``type``), so a value means the same everywhere:

==========================  ======================================================================
value text                  value
==========================  ======================================================================
``true`` ``True`` ``TRUE``  ``True`` (any case; likewise ``false`` → ``False``)
``none`` ``None`` ``null``  ``None`` (any case; ``~`` too)
``10`` ``-3`` ``0.01``      int / float (``1e-3`` is a float)
``[30, 60]`` ``(1, 2)``     a list (a Python tuple becomes a list); unquoted items follow these
``[fan, fer_gcn]``          same rules, so ``[true, None]`` is ``[True, None]``, bare words are
                            strings and ``yes``/``on`` stay words (unlike YAML 1.1)
``{k: 10, mode: full}``     a dict, keys and values by the same rules (JSON and Python dicts too)
``"01"`` ``'yes'``          the quoted text as a string (a way to keep ``01`` or ``true`` as text)
anything else               the text itself: ``protocol=official``, ``device=cuda:0``, ``root=~/x``
==========================  ======================================================================

An empty value (``init_trunk=``) is the empty string. A ``KEY=VALUE`` without ``=`` or with an
empty key fails at parse time, naming the option text. The same key given twice keeps the last.
Containers are read as a Python literal first (quoted strings stay strings), then as YAML flow
with the word rules above. This module imports nothing of ferlib, so every layer may use it.
"""

from __future__ import annotations

import argparse
import ast
import re
from collections.abc import Iterable
from typing import Any

import yaml

_TRUE = {"true"}
_FALSE = {"false"}
_NONE = {"none", "null", "~"}
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+)([eE][+-]?\d+)?$")


def _scalar(text: str) -> Any:
    """An unquoted word: bool, None, int, float, or the text itself."""
    low = text.lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    if low in _NONE:
        return None
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    return text


class _Loader(yaml.SafeLoader):
    """YAML flow syntax whose unquoted words follow :func:`_scalar` (YAML 1.1 alone would read
    ``yes``/``on`` as booleans, ``None`` and ``1e-3`` as text); quoted ones stay strings."""


_Loader.yaml_implicit_resolvers = {}  # every plain word reaches the str constructor below


def _construct_str(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node)
    return _scalar(text) if node.style is None else text


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def _lists(value: Any) -> Any:
    """Lists for tuples, recursively (a config field holds lists, as its JSON file does)."""
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    return value


def parse_value(text: str) -> Any:
    """The value of one option's text, by the rules of the module docstring."""
    s = text.strip()
    if not s:
        return ""
    if s[0] in "[({\"'":  # containers and quoted text: a Python literal, else YAML flow (bare words, true/null)
        try:
            return _lists(ast.literal_eval(s))
        except (ValueError, SyntaxError):
            pass
        try:
            return _lists(yaml.load(s, Loader=_Loader))  # noqa: S506 - a safe loader without implicit types
        except yaml.YAMLError:
            return s
    return _scalar(s)


def parse_key_value(text: str) -> tuple[str, Any]:
    """``"KEY=VALUE"`` → ``(key, parse_value(VALUE))``; the argparse ``type`` of every key=value option
    (a malformed one fails as an argparse error naming it)."""
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    key = key.strip()
    if not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE with a non-empty KEY, got {text!r}")
    return key, parse_value(value)


def key_values(pairs: Iterable[tuple[str, Any]] | None) -> dict[str, Any]:
    """The ``(key, value)`` pairs of a repeated option (``action="append"``) as a dict; later keys win."""
    return dict(pairs or [])


def add_key_value_option(parser: argparse.ArgumentParser, flag: str, help_text: str, dest: str | None = None) -> None:
    """A repeatable ``KEY=VALUE`` option read in this module's dialect (``args.<dest>`` is a list of
    ``(key, value)`` pairs; :func:`key_values` makes it a dict)."""
    kw: dict[str, Any] = {"dest": dest} if dest else {}
    parser.add_argument(flag, type=parse_key_value, action="append", default=[], metavar="KEY=VALUE",
                        help=f"{help_text} (repeatable; values as in ferlib.options: true/True, none/None/null, "
                             "numbers, [lists], else text)", **kw)


def add_renamed_option(parser: argparse.ArgumentParser, old: str, new: str, meaning: str) -> None:
    """Refuse ``old``, an option's former name, with one line naming ``new`` and what it means
    (hidden from ``--help``): a command written for an earlier ferlib fails, never runs differently."""

    class _Renamed(argparse.Action):
        def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
            parser.error(f"{option_string} is now {new} ({meaning})")

    parser.add_argument(old, action=_Renamed, help=argparse.SUPPRESS)
