"""``python -m ferlib synth``: generate the synthetic data set (and optionally export it as videos)."""

from __future__ import annotations

import argparse
import time

from ferlib.data.labels import BASIC7
from ferlib.options import add_renamed_option
from ferlib.synth.export import LAYOUTS, check_export, export_layout
from ferlib.synth.generate import RENDERERS, SynthConfig, generate
from ferlib.synth.photo import list_photos
from ferlib.synth.courses import COURSES


class _Renamed(argparse.Action):
    """``--profile``, the option's former name: refused with its new name (``profile`` is the notebook tier)."""

    def __call__(self, parser, namespace, values, option_string=None):  # type: ignore[no-untyped-def]
        parser.error(f"{option_string} is now --course (the intensity course: {', '.join(COURSES)}); "
                     "'profile' names the notebook tier (smoke, demo, paper)")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="clip store folder to create (or resume)")
    p.add_argument("--course", default="lab", choices=COURSES,
                   help="the intensity course of the clips: lab (neutral → apex, held), lab-return (and back), wild")
    p.add_argument("--profile", action=_Renamed, help=argparse.SUPPRESS)
    p.add_argument("--subjects", type=int, default=None,
                   help="subjects to generate (default 30; --renderer photo: one per photo, all of them)")
    p.add_argument("--frames", type=int, default=16, help="frames per clip")
    p.add_argument("--side", type=int, default=64, help="frame side in pixels")
    add_renamed_option(p, "--size", "--side", "the frame side in pixels")
    p.add_argument("--seed", type=int, default=0, help="generation seed (the same seed gives the same clips)")
    p.add_argument("--clips-per-subject", type=int, default=0, help="0 = one clip per class")
    p.add_argument("--classes", default=",".join(BASIC7), help="comma-separated class names")
    p.add_argument("--neutral", action="store_true", help="add neutral as an extra class (DFEW-style label sets)")
    p.add_argument("--renderer", default="procedural", choices=RENDERERS,
                   help="procedural: drawn faces; photo: warped photos of real people (--photos)")
    p.add_argument("--photos", default=None, help="folder of neutral face photos for --renderer photo")
    p.add_argument("--photo-ids", default=None, help="comma-separated photo identities to render (default: all)")
    p.add_argument("--extend", type=float, default=0.25, help="crop side = face box side x (1 + extend), as preprocess")
    p.add_argument("--crop-box", choices=("union", "detector"), default="union", help="face box of the crop, as preprocess")
    p.add_argument("--no-align", action="store_true", help="do not rotate the eyes level, as preprocess --no-align")
    p.add_argument("--no-appearance", action="store_true", help="photo renders: landmark warp only, no painted AU appearance")
    p.add_argument("--no-exemplars", action="store_true", help="photo renders: never blend the person's smiling photo")
    p.add_argument("--randomise", choices=("auto", "on", "off"), default="auto",
                   help="domain randomisation of photo renders (auto: on for --course wild, off for lab)")
    p.add_argument("--export", default=None, help="also write the clips as a data-set layout into this folder")
    p.add_argument("--layout", default="ckplus", choices=LAYOUTS, help="the data-set layout --export writes")


def run(args: argparse.Namespace) -> int:
    photo_ids = tuple(i for i in args.photo_ids.split(",") if i) if args.photo_ids else None
    n_subjects = args.subjects
    if n_subjects is None:
        n_subjects = 30
        if args.renderer == "photo" and args.photos:
            n_subjects = len(photo_ids) if photo_ids else len(list_photos(args.photos))
    cfg = SynthConfig(
        n_subjects=n_subjects, course=args.course, classes=tuple(c for c in args.classes.split(",") if c),
        include_neutral=args.neutral, n_frames=args.frames, side=args.side, seed=args.seed,
        clips_per_subject=args.clips_per_subject, renderer=args.renderer, photos_dir=args.photos, photo_ids=photo_ids,
        crop_extend=args.extend, crop_box=args.crop_box, crop_align=not args.no_align,
        randomise={"auto": None, "on": True, "off": False}[args.randomise],
        appearance=not args.no_appearance, exemplars=not args.no_exemplars,
    )
    if args.export:
        check_export(args.export, args.layout)
    t0 = time.perf_counter()
    store = generate(args.out, cfg)
    dt = time.perf_counter() - t0
    n = len(store.clip_ids())
    print(f"wrote {args.out}: {n} clips ({store.size_bytes() / 2**20:.1f} MiB) in {dt:.1f} s")
    if args.export:
        k = export_layout(store, args.export, args.layout)
        print(f"exported {k} clips in the {args.layout} layout to {args.export}")
    return 0
