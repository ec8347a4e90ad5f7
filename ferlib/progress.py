"""Progress bars for every long step (training, evaluation, generation, preprocessing).

Two rules, each for a reason:

* A bar is given a ``total``, never the loader. ``tqdm.auto``'s class calls ``iter(iterable)`` when
  it is built (its asyncio base prepares ``__anext__``), which draws from the DataLoader's seeded
  generator and, with ``num_workers > 0``, starts a throw-away set of workers that prefetch from a
  first shuffle: the order of the real pass, and with it every number of the run, then depended on
  ``num_workers``. The loops iterate the loader themselves and only ``update`` the bar.
* Bars are drawn in a terminal (stderr is a TTY) and in Jupyter (``tqdm.auto`` gives the widget
  there). When stderr is a file or a pipe (``make demo > log``) they are off: a text bar there is
  a carriage-return update every 0.1 s. The per-epoch summary lines are printed either way.
  ``FERLIB_BARS=0`` turns them off everywhere (executed notebooks that are kept: a saved widget
  is noise).
"""

from __future__ import annotations

import os
import sys
from typing import Iterable, TextIO, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")


def in_notebook() -> bool:
    """True when ``tqdm.auto`` picked the Jupyter widget bar (an IPython kernel with ipywidgets)."""
    try:
        from tqdm.notebook import tqdm_notebook
    except ImportError:  # pragma: no cover - tqdm always ships it
        return False
    return issubclass(tqdm, tqdm_notebook)


def bars_visible(stream: TextIO | None = None) -> bool:
    """Whether a bar would be seen as a bar: in Jupyter, or ``stream`` (default stderr) is a TTY."""
    stream = sys.stderr if stream is None else stream
    if os.environ.get("FERLIB_BARS") == "0":
        return False
    if in_notebook():
        return True
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def progress_bar(total: int, desc: str, enabled: bool = True) -> tqdm:
    """A transient bar of ``total`` steps (call ``update(1)`` per batch and ``close()``), disabled
    unless ``enabled`` and :func:`bars_visible`."""
    return tqdm(total=total, desc=desc, leave=False, disable=not (enabled and bars_visible()))


def progress_iter(iterable: Iterable[T], total: int | None = None, desc: str = "", enabled: bool = True,
                  unit: str = "it") -> Iterable[T]:
    """``iterable`` with a bar when :func:`bars_visible` (for plain iterables: lists, futures, ranges
    — never a DataLoader, see the module docstring)."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not (enabled and bars_visible()))
