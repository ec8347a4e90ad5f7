"""``python -m ferlib preprocess``: fill a clip store from a data set on disk or a ClipIndex CSV.

Examples::

    python -m ferlib preprocess --dataset ckplus --root ~/data/CK+ --out stores/ckplus --size 112 --workers 4
    python -m ferlib preprocess --index my_clips.csv --root ~/videos --out stores/mine --detect-every 3

The exit status is 0 when at least one clip went through (failed clips are listed in
``<out>/failures.csv``), 1 when every clip attempted failed.
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path
from typing import Any

from ferlib.preprocess.pipeline import PreprocessConfig, default_workers, preprocess_index


def _key_value(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    key, value = text.split("=", 1)
    try:
        parsed: Any = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        parsed = value
    return key.strip(), parsed


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of the ``preprocess`` command."""
    d = PreprocessConfig()
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", help="adapter name (ckplus, oulu, mmi, afew, dfew, ferv39k, mafw, affwild2)")
    src.add_argument("--index", type=Path, help="a ClipIndex CSV written by ClipIndex.to_csv")
    parser.add_argument("--root", type=Path,
                        help="the data set's folder (required with --dataset); relative clip sources are taken from it")
    parser.add_argument("--out", type=Path, required=True, help="clip store folder (created, or resumed)")
    parser.add_argument("--option", type=_key_value, action="append", default=[], metavar="KEY=VALUE",
                        help="adapter override, repeatable (e.g. --option protocol=official)")
    parser.add_argument("--size", type=int, default=d.size, help="crop side in pixels (default %(default)s)")
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


def load_index(args: argparse.Namespace):
    """The ClipIndex the arguments point to."""
    from ferlib.data.index import ClipIndex

    if args.index is not None:
        return ClipIndex.from_csv(args.index)
    if args.root is None:
        raise ValueError("--dataset needs --root, the folder holding your copy of the data set")
    from ferlib.data.adapters import load_index as load_dataset_index

    return load_dataset_index(args.dataset, args.root, **dict(args.option))


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit status."""
    index = load_index(args)
    if args.limit is not None:
        index = index.subset(list(range(min(args.limit, len(index)))))
    summary = preprocess_index(
        index,
        args.out,
        size=args.size,
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
