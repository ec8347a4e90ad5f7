"""What every data-set adapter shares: the :class:`Adapter` record, layout checks and clear errors.

An adapter turns a data set's own on-disk layout into a :class:`~ferlib.data.index.ClipIndex`.
It is a small record — ``name``, ``classes``, ``protocol`` (a protocol name of
:mod:`ferlib.data.protocols` and its keyword arguments) — around a *builder* function
``builder(root: Path, **overrides) -> ClipIndex`` that each data-set module writes.

Conventions every builder follows:

* ``source`` is the absolute path of the clip's video file or frame folder; optional integer
  columns ``frame_start`` / ``frame_stop`` (a python slice of the source's frames, frames sorted
  naturally by the number in their file name) select a window inside a source.
* Layouts differ between releases, so every path and glob is a keyword override; when the
  expected layout is not there the builder raises :class:`LayoutError` (a ``FileNotFoundError``)
  that names the path or glob it expected and lists what it found instead.
* A label value the adapter does not know raises :class:`LabelError` (a ``ValueError``) naming
  the file and the value — or, where the module docstring says so (a clip that cannot be labelled
  in a data set that has such clips), the clip is left out: :func:`build_index` records it in
  ``ClipIndex.left_out`` (source and reason), :meth:`Adapter.index` warns with the count and
  preprocessing lists them in the store's ``left_out.csv``. Nothing is skipped silently.
* Options that take a function (``parse=``) also take its ``"module:function"`` name, so that
  every option can be given on the command line (:func:`resolve_callable`).
"""

from __future__ import annotations

import importlib
import inspect
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from ferlib.data.index import ClipIndex
from ferlib.data.labels import canonical_class
from ferlib.data.protocols import Split, get_protocol

VIDEO_EXTS: tuple[str, ...] = (".avi", ".mp4", ".mov", ".flv", ".mkv", ".mpg", ".mpeg", ".wmv", ".webm")
IMAGE_EXTS: tuple[str, ...] = (".png", ".jpg", ".jpeg", ".bmp")

#: The seven classes of the in-the-wild video sets (DFEW, FERV39k, AFEW) in DFEW's order, the
#: column order of the KP-GCN-MSA paper's per-class tables.
DFER7: tuple[str, ...] = ("happy", "sad", "neutral", "anger", "surprise", "disgust", "fear")


class LayoutError(FileNotFoundError):
    """The data set's files are not where the adapter expected them."""


class LabelError(ValueError):
    """A label file holds a value the adapter does not know."""


class LeftOutWarning(UserWarning):
    """Clips an adapter found but could not label were left out of the index (``ClipIndex.left_out``)."""


def resolve_callable(value: Any, option: str) -> Any:
    """``value`` itself, or the function a ``"package.module:function"`` text names (the command
    line's form of an option that takes a function); a name that does not resolve raises naming it."""
    if value is None or callable(value):
        return value
    text = str(value)
    module, _, name = text.partition(":")
    try:
        found = getattr(importlib.import_module(module), name) if module and name else None
    except (ImportError, AttributeError):
        found = None
    if not callable(found):
        raise ValueError(f"{option}={text!r}: expected a function or its name 'package.module:function'")
    return found


# -- the adapter record -------------------------------------------------------------------
@dataclass(frozen=True)
class Adapter:
    """A data set's label set, official protocol and index builder.

    ``protocol`` is ``(name, kwargs)`` for :func:`ferlib.data.protocols.get_protocol`;
    ``other_protocols`` maps further protocol names the papers use to their kwargs.
    """

    name: str
    classes: tuple[str, ...]
    protocol: tuple[str, Mapping[str, Any]]
    builder: Callable[..., ClipIndex] = field(repr=False)
    description: str = ""
    other_protocols: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def overrides(self) -> tuple[str, ...]:
        """Keyword arguments :meth:`index` accepts (the builder's parameters after ``root``)."""
        params = list(inspect.signature(self.builder).parameters.values())[1:]
        return tuple(p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD))

    def index(self, root: str | Path, **overrides: Any) -> ClipIndex:
        """Index the copy of the data set under ``root`` (nothing is downloaded or written)."""
        unknown = sorted(set(overrides) - set(self.overrides))
        if unknown:
            raise ValueError(f"{self.name}: unknown override(s) {unknown}; accepted: {list(self.overrides)}")
        root_path = Path(root).expanduser()
        if not root_path.is_dir():
            raise LayoutError(f"{self.name}: data-set root {root_path} is not a folder; {found_near(root_path)}")
        index = self.builder(root_path.resolve(), **overrides)
        index.dataset = self.name
        if index.left_out:
            reasons = sorted({str(r.get("reason", "")) for r in index.left_out})
            warnings.warn(f"{self.name}: {len(index.left_out)} clip(s) under {root_path} cannot be labelled and are left "
                          f"out ({'; '.join(reasons[:3])}{' …' if len(reasons) > 3 else ''}); preprocessing lists them in "
                          "the store's left_out.csv", LeftOutWarning, stacklevel=3)
        return index

    def splits(self, index: ClipIndex, protocol: str | None = None, **kwargs: Any) -> list[Split]:
        """The folds of ``protocol`` (default: the official one) for an index of this data set."""
        if protocol is None or protocol == self.protocol[0]:
            name, defaults = self.protocol[0], dict(self.protocol[1])
        elif protocol in self.other_protocols:
            name, defaults = protocol, dict(self.other_protocols[protocol])
        else:
            name, defaults = protocol, {}
        defaults.update(kwargs)
        return get_protocol(name, index, **defaults)


# -- paths and listings -------------------------------------------------------------------
def found_near(path: Path, limit: int = 8) -> str:
    """``"found: [...]"``: what the nearest existing ancestor of ``path`` holds, for error messages."""
    probe = Path(path)
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        return f"found: {probe} (not a folder)"
    try:
        names = sorted(p.name + ("/" if p.is_dir() else "") for p in probe.iterdir() if not p.name.startswith("."))
    except OSError as exc:  # unreadable folder
        return f"found: {probe} could not be listed ({exc})"
    more = f" … ({len(names) - limit} more)" if len(names) > limit else ""
    return f"found in {probe}: {names[:limit]}{more}"


def require_dir(path: Path, what: str) -> Path:
    """``path`` if it is a folder, else :class:`LayoutError` naming it and what is there instead."""
    if not path.is_dir():
        raise LayoutError(f"expected {what} at {path}; {found_near(path)}")
    return path


def require_file(path: Path, what: str) -> Path:
    """``path`` if it is a file, else :class:`LayoutError` naming it and what is there instead."""
    if not path.is_file():
        raise LayoutError(f"expected {what} at {path}; {found_near(path)}")
    return path


def first_existing(base: Path, candidates: Sequence[str], what: str, is_dir: bool = True, override: str = "") -> Path:
    """The first of ``base/candidate`` that exists (``candidates`` tried in order).

    Raises :class:`LayoutError` naming every candidate tried, what ``base`` holds and the
    ``override`` keyword that points the adapter elsewhere.
    """
    for rel in candidates:
        path = base / rel if rel not in ("", ".") else base
        if (path.is_dir() if is_dir else path.is_file()):
            return path
    tried = [str(base / c) for c in candidates]
    hint = f" (pass {override}=… for another layout)" if override else ""
    raise LayoutError(f"expected {what} at one of {tried}; {found_near(base)}{hint}")


def glob_or_fail(base: Path, pattern: str, what: str) -> list[Path]:
    """Sorted matches of ``base.glob(pattern)``; none raises naming ``base/pattern`` and what is there."""
    matches = sorted(p for p in base.glob(pattern) if not p.name.startswith("."))
    if not matches:
        raise LayoutError(f"expected {what} matching {base}/{pattern}; {found_near(base)}")
    return matches


_NUM = re.compile(r"(\d+)")


def natural_key(path: Path | str) -> tuple:
    """Sort key that orders ``frame2`` before ``frame10`` (numbers compared as numbers)."""
    name = Path(path).name
    return tuple(int(t) if t.isdigit() else t.lower() for t in _NUM.split(name))


def is_video(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in VIDEO_EXTS


def list_frames(folder: Path, exts: Iterable[str] = IMAGE_EXTS) -> list[Path]:
    """Image files of a frame folder, sorted naturally (the order preprocessing decodes them in)."""
    exts = tuple(e.lower() for e in exts)
    return sorted((p for p in folder.iterdir() if p.suffix.lower() in exts and not p.name.startswith(".")), key=natural_key)


def is_frame_folder(path: Path, exts: Iterable[str] = IMAGE_EXTS) -> bool:
    if not path.is_dir():
        return False
    exts = tuple(e.lower() for e in exts)
    return any(p.suffix.lower() in exts for p in path.iterdir())


def clip_sources(folder: Path) -> list[Path]:
    """Entries of ``folder`` that are clips: video files or frame folders, sorted naturally."""
    out = [p for p in folder.iterdir() if not p.name.startswith(".") and (is_video(p) or is_frame_folder(p))]
    return sorted(out, key=natural_key)


def sources_by_stem(
    base: Path, globs: Sequence[str], what: str, accept: Callable[[str], bool] = str.isdigit
) -> dict[str, Path]:
    """Map clip name (file stem / folder name) → path, from the first glob that matches any clip.

    Each glob is tried in order under ``base``; a match counts when it is a video file or a
    folder whose name passes ``accept`` (default: all digits, as DFEW's ``00001`` and MAFW's
    ``00019``). Frames are not listed here, to stay fast on tens of thousands of clips. A name
    matched by a folder and a video is the folder; two folders or two videos of one name raise
    naming both (which one is the clip cannot be told).
    """
    for pattern in globs:
        found: dict[str, list[Path]] = {}
        for p in sorted(base.glob(pattern)):
            if p.name.startswith("."):
                continue
            is_clip_file = p.suffix.lower() in VIDEO_EXTS and p.is_file()
            name = p.stem if is_clip_file else p.name
            if (is_clip_file or p.is_dir()) and accept(name):
                found.setdefault(name, []).append(p)
        if found:
            out = {}
            for name, paths in found.items():
                folders = [p for p in paths if p.is_dir()]
                pick = folders if folders else paths
                if len(pick) > 1:
                    raise LayoutError(f"clip {name!r} matches more than one {'folder' if folders else 'video'} under "
                                      f"{base}/{pattern}: {[str(p) for p in pick[:4]]}; keep one, or pass clips_glob=… "
                                      "to point at one copy")
                out[name] = pick[0]
            return out
    tried = [f"{base}/{g}" for g in globs]
    raise LayoutError(f"expected {what} matching one of {tried}; {found_near(base)} (pass clips_glob=… to point at them)")


def report_missing(missing: Sequence[str], total: int, what: str, allow_missing: bool, hint: str) -> None:
    """Listed clips with no file: raise (default) or warn when ``allow_missing``."""
    if not missing:
        return
    msg = f"{len(missing)} of {total} {what} have no clip file, e.g. {list(missing[:5])}; {hint}"
    if not allow_missing:
        raise LayoutError(msg + " (or pass allow_missing=True to index the others)")
    warnings.warn(msg + "; they are left out of the index", stacklevel=3)


# -- labels -------------------------------------------------------------------------------
def parse_code(text: str, where: str) -> int:
    """An integer label code from ``"3"``, ``"3.0"`` or ``"3.0000000e+00"``; anything else raises."""
    try:
        value = float(str(text).strip())
    except ValueError:
        raise LabelError(f"{where}: label value {str(text).strip()!r} is not a number") from None
    if not value.is_integer():
        raise LabelError(f"{where}: label value {str(text).strip()!r} is not an integer code")
    return int(value)


def code_to_class(code: int, table: Mapping[int, str], where: str) -> str:
    """Class name of a numeric label code, or :class:`LabelError` naming the file and value."""
    if code not in table:
        raise LabelError(f"{where}: unknown label value {code}; expected one of {dict(sorted(table.items()))}")
    return table[code]


def name_to_class(name: str, classes: Sequence[str], where: str) -> str:
    """Canonical class of a spelled-out label (``Happiness`` → ``happy``) that must be in ``classes``."""
    try:
        canon = canonical_class(name)
    except ValueError:
        raise LabelError(f"{where}: unknown label {name!r}; expected one of {tuple(classes)}") from None
    if canon not in classes:
        raise LabelError(f"{where}: label {name!r} ({canon}) is not in this data set's classes {tuple(classes)}")
    return canon


def build_index(records: list[dict], classes: Sequence[str], dataset: str, where: Path,
                left_out: Sequence[dict] = ()) -> ClipIndex:
    """A :class:`ClipIndex` from records holding ``label_name``, with the clips that could not be
    labelled in ``left_out`` (dicts with ``source`` and ``reason``); an empty list raises naming
    ``where`` (and the left-out clips' reasons), and so do two records with one ``clip_id``."""
    if not records:
        why = f"; {len(left_out)} clip(s) could not be labelled, e.g. {dict(left_out[0])}" if left_out else ""
        raise LayoutError(f"{dataset}: no labelled clips found under {where}; {found_near(where)}{why}")
    sources: dict[str, list[str]] = {}
    for rec in records:
        sources.setdefault(str(rec["clip_id"]), []).append(str(rec.get("source", "?")))
    clashes = {cid: src for cid, src in sources.items() if len(src) > 1}
    if clashes:
        shown = "; ".join(f"{cid!r} from {src}" for cid, src in list(clashes.items())[:5])
        raise LayoutError(f"{dataset}: {len(clashes)} clip id(s) stand for more than one clip under {where}: {shown}. "
                          "Rename one of each or index them separately")
    index = ClipIndex.from_records(records, classes, dataset)
    index.left_out = [dict(r) for r in left_out]
    return index


# -- official fold lists (DFEW, MAFW) -----------------------------------------------------
def assign_folds(
    test_lists: Mapping[int, Sequence[tuple[str, str, str]]],
    train_lists: Mapping[int, Sequence[tuple[str, str, str]]],
) -> dict[str, tuple[str, int]]:
    """Each clip's label and test fold from per-fold ``(clip, label, where)`` lists.

    A clip's ``fold`` is the set in whose *test* list it appears (what
    :func:`~ferlib.data.protocols.official_folds` needs); a clip only in train lists gets -1.
    Raises naming the files when a clip is in two test lists, in the train and test list of the
    same fold, or carries two different labels.
    """
    out: dict[str, tuple[str, int]] = {}
    seen: dict[str, str] = {}
    for fold, entries in sorted(test_lists.items()):
        for clip, label, where in entries:
            if clip in out and out[clip][1] >= 0:
                raise ValueError(f"clip {clip!r} is in the test lists of fold {out[clip][1]} ({seen[clip]}) and fold {fold} ({where})")
            out[clip] = (label, fold)
            seen[clip] = where
    for fold, entries in sorted(train_lists.items()):
        for clip, label, where in entries:
            if clip not in out:
                out[clip] = (label, -1)
                seen[clip] = where
            elif out[clip][1] == fold:
                raise ValueError(f"clip {clip!r} is in both the train ({where}) and the test list ({seen[clip]}) of fold {fold}")
            if out[clip][0] != label:
                raise LabelError(f"clip {clip!r} is labelled {out[clip][0]!r} in {seen[clip]} but {label!r} in {where}")
    return dict(sorted(out.items(), key=lambda kv: natural_key(kv[0])))


def fold_records(
    root: Path,
    labels: Mapping[str, tuple[str, int]],
    globs: Sequence[str],
    name: str,
    lists: str,
    allow_missing: bool = False,
) -> list[dict]:
    """Index rows of an official-fold data set (DFEW, MAFW): ``labels`` maps clip → (class, test fold).

    Clips are found by stem under ``globs``; clips listed but absent raise (or warn with
    ``allow_missing``). Such data sets have no subject ids, so ``subject`` is the clip id.
    """
    sources = sources_by_stem(root, list(globs), f"{name} clip folders or videos named by clip number")
    missing = [c for c in labels if c not in sources]
    report_missing(missing, len(labels), f"{name} clips in the {lists}", allow_missing, f"looked in {root}/{globs[0]} …")
    return [
        {"clip_id": clip, "label_name": label, "subject": clip, "source": str(sources[clip]), "split": "", "fold": fold}
        for clip, (label, fold) in labels.items()
        if clip in sources
    ]
