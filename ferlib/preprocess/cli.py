"""``python -m ferlib preprocess``: fill a clip store from a data set on disk or a ClipIndex CSV.

Examples::

    python -m ferlib preprocess --dataset ckplus --root ~/data/CK+ --out stores/ckplus --side 112 --workers 4
    python -m ferlib preprocess --index my_clips.csv --root ~/videos --out stores/mine --detect-every 3
    python -m ferlib preprocess --index my_clips.csv --classes happy,sad,neutral --out stores/mine

An index CSV takes its label set from ``--classes`` (in label order), else from the ``<csv>.json``
that :meth:`ClipIndex.to_csv` writes beside it, else it is inferred from the CSV's ``label`` and
``label_name`` columns (a note says so). The exit status is 0 when at least one clip went
through, 1 when every clip attempted failed; ``<out>/failures.csv`` lists the clips that are not
stored (a header alone when none failed). ``--option KEY=VALUE`` values are read in the one
dialect of every command (:mod:`ferlib.options`).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd

from ferlib.data.adapters import ADAPTERS
from ferlib.data.adapters import load_index as load_dataset_index
from ferlib.data.index import ClipIndex
from ferlib.options import add_key_value_option, add_renamed_option, key_values
from ferlib.preprocess.pipeline import PreprocessConfig, default_workers, preprocess_index


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``preprocess`` command."""
    d = PreprocessConfig()
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", choices=ADAPTERS, metavar="NAME", help=f"adapter name: {', '.join(ADAPTERS)}")
    src.add_argument("--index", type=Path, help="a ClipIndex CSV (ClipIndex.to_csv, or any CSV with clip_id, label "
                     "or label_name, subject, source)")
    parser.add_argument("--classes", help="with --index: the label set, comma-separated in label order "
                        "(default: <index>.json, else inferred from the CSV)")
    parser.add_argument("--root", type=Path,
                        help="the data set's folder (required with --dataset); relative clip sources are taken from it")
    parser.add_argument("--out", type=Path, required=True, help="clip store folder (created, or resumed)")
    add_key_value_option(parser, "--option", "adapter override, e.g. protocol=official")
    parser.add_argument("--side", type=int, default=d.side, help="crop side in pixels (default %(default)s)")
    add_renamed_option(parser, "--size", "--side", "the crop side in pixels")
    parser.add_argument("--workers", type=int, default=default_workers(),
                        help="worker processes (default %(default)s; 1 = in this process)")
    parser.add_argument("--detect-every", type=int, default=d.detect_every,
                        help="run the face detector on every k-th frame, propagate landmarks in between")
    parser.add_argument("--predictor", type=Path, help="a dlib 68-landmark model (default: face-recognition-models)")
    parser.add_argument("--threshold", type=float, default=d.threshold, help="minimum detector score (default %(default)s)")
    parser.add_argument("--detect-scale", type=float, default=d.detect_scale, help="scale frames by this before detection")
    parser.add_argument("--detect-max-side", type=int, default=d.detect_max_side,
                        help="also downscale so the longer side is at most this before detection (0: no limit)")
    parser.add_argument("--extend", type=float, default=d.extend, help="crop side = box side x (1 + extend)")
    parser.add_argument("--no-align", action="store_true", help="do not rotate the eyes level")
    parser.add_argument("--crop-box", choices=("union", "detector"), default=d.crop_box,
                        help="face box the crop is built on: detector box ∪ landmark box, or the detector box alone "
                             "(default %(default)s)")
    parser.add_argument("--no-antialias", action="store_true", help="plain bilinear crops (no block averaging when shrinking)")
    parser.add_argument("--smooth", type=int, default=d.smooth, help="moving average over frames of the crop geometry")
    parser.add_argument("--frame-step", type=int, default=d.frame_step, help="keep every n-th frame")
    parser.add_argument("--limit", type=int, help="only the first N clips of the index")
    parser.add_argument("--retry-failed", action="store_true", help="retry clips listed in failures.csv")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def load_index(args: argparse.Namespace) -> ClipIndex:
    """The ClipIndex the arguments point to."""
    if args.index is not None:
        classes = None if not getattr(args, "classes", None) else tuple(c.strip() for c in args.classes.split(",") if c.strip())
        return read_index_csv(args.index, classes)
    if getattr(args, "classes", None):
        raise ValueError("--classes goes with --index; a --dataset adapter has its own label set")
    if args.root is None:
        raise ValueError("--dataset needs --root, the folder holding your copy of the data set")
    return load_dataset_index(args.dataset, args.root, **key_values(args.option))


def read_index_csv(path: Path, classes: tuple[str, ...] | None = None) -> ClipIndex:
    """The ClipIndex of a CSV: label set from ``classes``, else ``<path>.json``, else inferred
    (``label`` → ``label_name`` pairs, or the sorted names when there is no ``label`` column)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"clip index {path} does not exist")
    side = Path(str(path) + ".json")
    if classes is None and side.is_file():
        return ClipIndex.from_csv(path)
    df = pd.read_csv(path, dtype={"clip_id": str, "subject": str, "source": str, "split": str}, keep_default_na=False)
    dataset = json.loads(side.read_text()).get("dataset", "") if side.is_file() else ""
    if classes is None:
        classes = _infer_classes(df, path)
        print(f"preprocess: {path} has no label set ({side.name} is missing); inferred classes {list(classes)} "
              "from its columns (pass --classes to set them)", file=sys.stderr)
    if len(set(classes)) != len(classes) or not classes:
        raise ValueError(f"--classes must name distinct classes, got {list(classes)}")
    if "label_name" not in df.columns and "label" in df.columns:
        codes = pd.to_numeric(df["label"], errors="coerce")
        bad = df["label"][codes.isna() | (codes < 0) | (codes >= len(classes)) | (codes % 1 != 0)]
        if len(bad):
            raise ValueError(f"{path}: label {bad.iloc[0]!r} is not a code 0..{len(classes) - 1} of classes {list(classes)}")
        df["label_name"] = [classes[int(c)] for c in codes]
    if "label_name" in df.columns:
        unknown = sorted(set(df["label_name"].astype(str)) - set(classes))
        if unknown:
            raise ValueError(f"{path}: label_name values {unknown} are not in the classes {list(classes)}")
        expected = df["label_name"].astype(str).map({c: i for i, c in enumerate(classes)})
        if "label" in df.columns and (pd.to_numeric(df["label"], errors="coerce") != expected).any():
            row = df[pd.to_numeric(df["label"], errors="coerce") != expected].iloc[0]
            raise ValueError(f"{path}: clip {row.get('clip_id')!r} has label {row['label']} but label_name "
                             f"{row['label_name']!r}, which is class {int(expected[row.name])} of {list(classes)}")
        df["label"] = expected.astype(int)
    else:
        raise ValueError(f"{path} has neither a label nor a label_name column")
    return ClipIndex(df, tuple(classes), dataset)


def _infer_classes(df: pd.DataFrame, path: Path) -> tuple[str, ...]:
    """Class names in label order from a CSV's ``label``/``label_name`` columns."""
    if "label_name" not in df.columns:
        raise ValueError(f"{path}: no label set ({path}.json is missing) and no label_name column to infer it from; "
                         "pass --classes a,b,c (in label order)")
    names = df["label_name"].astype(str)
    if "label" not in df.columns:
        return tuple(sorted(set(names)))
    codes = pd.to_numeric(df["label"], errors="coerce")
    if codes.isna().any() or (codes % 1 != 0).any() or (codes < 0).any():
        raise ValueError(f"{path}: the label column holds values that are not codes 0, 1, …; pass --classes")
    pairs = sorted(set(zip(codes.astype(int), names)))
    by_code: dict[int, set[str]] = {}
    for code, name in pairs:
        by_code.setdefault(code, set()).add(name)
    clash = {c: sorted(n) for c, n in by_code.items() if len(n) > 1}
    if clash:
        raise ValueError(f"{path}: label codes carry more than one label_name {clash}; pass --classes")
    if sorted(by_code) != list(range(len(by_code))):
        raise ValueError(f"{path}: label codes {sorted(by_code)} leave gaps, so the label set cannot be inferred; "
                         "pass --classes a,b,c (in label order)")
    return tuple(next(iter(by_code[c])) for c in range(len(by_code)))


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit status."""
    index = load_index(args)
    if args.limit is not None:
        index = index.subset(list(range(min(args.limit, len(index)))))
    summary = preprocess_index(
        index,
        args.out,
        side=args.side,
        workers=args.workers,
        detect_every=args.detect_every,
        predictor=args.predictor,
        source_root=args.root,
        retry_failed=args.retry_failed,
        progress=not args.quiet,
        threshold=args.threshold,
        detect_scale=args.detect_scale,
        detect_max_side=args.detect_max_side or None,
        extend=args.extend,
        align=not args.no_align,
        smooth=args.smooth,
        crop_box=args.crop_box,
        antialias=not args.no_antialias,
        frame_step=args.frame_step,
    )
    if args.quiet:
        print(summary)
    return 1 if summary.failed and summary.done == 0 else 0
