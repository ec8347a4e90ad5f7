"""Generate the synthetic data set into a clip store.

A clip is: an identity (:mod:`ferlib.synth.identity`, or one real person's photo for the
``photo`` renderer), a class, an intensity course (:mod:`ferlib.synth.courses`), the identity's
neutral shape deformed by the class's action units at that intensity
(:mod:`ferlib.synth.expressions`), a head pose, a renderer, and — for the ``wild`` course —
distractor frames, occlusion, pose drift, illumination changes and class imbalance. Every clip
stores its ground-truth landmarks ``(T, 68, 2)`` and intensity ``(T,)``.

Framing: every frame is cropped as :mod:`ferlib.preprocess` crops a real face (detector box ∪
landmark box, × (1 + ``crop_extend``), eyes level; :mod:`ferlib.synth.framing`), so models trained
on generated clips see faces at the scale and position of preprocessed real ones.

Domain randomisation (``randomise``; default on for the photo renderer's ``wild`` course, off for
the ``lab`` courses' clean pictures): pose and scale, background, lighting, occluders, blur,
sensor noise and JPEG (:mod:`ferlib.synth.randomise`).

Subjects: a procedural subject is a drawn identity (``S000`` …); a ``photo`` subject is the person
of one photo, and its subject id is that person's (:func:`ferlib.synth.photo.photo_identity`, the
London set's face id), so subject-independent folds keep each real person in one fold. Asking for
more photo subjects than there are photos is refused (use ``clips_per_subject`` for more clips).

Determinism: clip ``k`` of subject ``s`` is drawn from ``np.random.default_rng([seed, s, k])``, so
a clip does not depend on what else was generated, and a second run into the same store skips the
clips already written (resume).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ferlib.data.index import safe_clip_id
from ferlib.data.labels import BASIC7, NEUTRAL, canonical_class
from ferlib.data.landmarks68 import MEAN_SHAPE
from ferlib.data.store import FLAG_DISTRACTOR, FLAG_OCCLUDED, ClipStore, EntryExistsError, StoreError
from ferlib.preprocess.align import transform_points
from ferlib.progress import progress_iter
from ferlib.synth.expressions import au_activations, expression_offsets
from ferlib.synth.framing import Framing, detector_boxes
from ferlib.synth.identity import Identity, make_identity
from ferlib.synth.courses import COURSES, intensity_course
from ferlib.synth.render import ProceduralRenderer
from ferlib.synth.photo import PhotoRenderer
from ferlib.synth.randomise import Randomisation
from ferlib.versions import GENERATOR_VERSION, PHOTO_RENDERER_VERSION, synth_version_problem

RENDERERS = ("procedural", "photo")

#: class frequencies of the ``wild`` course (DFEW-like imbalance: happy and sad common, disgust rare)
WILD_CLASS_WEIGHTS = {
    "anger": 0.17, "contempt": 0.03, "disgust": 0.03, "fear": 0.07, "happy": 0.27, "sad": 0.18,
    "surprise": 0.1, "neutral": 0.15,
}

# pseudo-depth of each landmark (IOD units) for out-of-plane head turns: nose forward, jaw sides back
_DEPTH = np.clip(0.35 * (1 - (MEAN_SHAPE[:, 0] / 0.85) ** 2), 0, None)
_DEPTH[27:36] += 0.15
_DEPTH[30] += 0.1


@dataclass(frozen=True)
class SynthConfig:
    """What to generate. ``clips_per_subject`` = 0 means one clip per class (lab protocols).

    Photo renderer only: ``photos_dir`` (a folder, or a tuple of folders: one subject per photo
    of them all), ``photo_ids`` (which photos), ``appearance`` (paint what
    the AUs do to the skin), ``exemplars`` (the person's smiling photo for happy frames),
    ``randomise`` (domain randomisation; ``None``: on for ``wild``), ``frame_jitter`` (per-frame
    similarity: rotation in degrees, scale, shift), ``landmarks`` (``"truth"`` or ``"dlib"``: the
    predictor's landmarks on the rendered frames, as a real clip gets them); see
    :class:`~ferlib.synth.photo.PhotoRenderer`. Both renderers: the crop
    ``crop_extend``, ``crop_align``, ``crop_box`` (as :mod:`ferlib.preprocess`'s ``extend``,
    ``align``, ``crop_box``)."""

    n_subjects: int = 30
    course: str = "lab"
    classes: tuple[str, ...] = BASIC7
    include_neutral: bool = False
    n_frames: int = 16
    side: int = 64
    seed: int = 0
    clips_per_subject: int = 0
    renderer: str = "procedural"
    photos_dir: str | tuple[str, ...] | None = None
    photo_ids: tuple[str, ...] | None = None
    crop_extend: float = 0.25
    crop_align: bool = True
    crop_box: str = "union"
    randomise: bool | None = None
    appearance: bool = True
    exemplars: bool = True
    exemplar_region: str = "face"
    frame_jitter: tuple[float, float, float] = (0.0, 0.0, 0.0)
    landmarks: str = "truth"
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.seed, bool) or not isinstance(self.seed, (int, np.integer)):
            raise TypeError(f"seed must be an integer, got {self.seed!r} ({type(self.seed).__name__})")
        if self.course not in COURSES:
            raise ValueError(f"unknown intensity course {self.course!r}; expected one of {COURSES}")
        if self.renderer not in RENDERERS:
            raise ValueError(f"unknown renderer {self.renderer!r}; expected one of {RENDERERS}")
        if self.renderer == "photo" and not self.photos_dir:
            raise ValueError("renderer='photo' needs photos_dir (a folder of neutral frontal face photos)")
        if self.photos_dir is not None and not isinstance(self.photos_dir, (str, Path)):
            folders = tuple(str(f) for f in self.photos_dir)  # several folders: a tuple (hashable, recorded as a list)
            object.__setattr__(self, "photos_dir", folders[0] if len(folders) == 1 else folders)
        elif isinstance(self.photos_dir, Path):
            object.__setattr__(self, "photos_dir", str(self.photos_dir))
        for name, value, low in (("n_subjects", self.n_subjects, 1), ("n_frames", self.n_frames, 2), ("side", self.side, 16)):
            if not isinstance(value, (int, np.integer)) or value < low:
                raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
        if not isinstance(self.clips_per_subject, (int, np.integer)) or self.clips_per_subject < 0:
            raise ValueError(f"clips_per_subject (--clips-per-subject) must be an integer >= 0 (0: one clip per class), "
                             f"got {self.clips_per_subject!r}")
        if self.photo_ids is not None:
            if self.renderer != "photo":
                raise ValueError("photo_ids chooses photos for renderer='photo'; the procedural renderer has none")
            object.__setattr__(self, "photo_ids", tuple(str(i) for i in self.photo_ids))
        self.framing  # validates crop_extend and crop_box
        object.__setattr__(self, "frame_jitter", tuple(float(v) for v in self.frame_jitter))
        if self.landmarks not in ("truth", "dlib"):
            raise ValueError(f"landmarks must be 'truth' or 'dlib', got {self.landmarks!r}")
        if self.renderer != "photo" and (self.landmarks != "truth" or any(self.frame_jitter)):
            raise ValueError("landmarks='dlib' and frame_jitter apply to renderer='photo'")
        if self.randomise and self.renderer != "photo":
            raise ValueError("randomise applies to renderer='photo' (the procedural renderer has its own wild-course nuisances)")
        canon = tuple(canonical_class(c) for c in self.classes)
        twice = {c: [g for g, k in zip(self.classes, canon) if k == c] for c in canon if canon.count(c) > 1}
        if twice:
            raise ValueError(f"classes (--classes) {list(self.classes)} name one expression more than once: "
                             + "; ".join(f"{names} are all {c!r}" for c, names in twice.items()) + "; give each once")
        if self.include_neutral and NEUTRAL not in canon:
            canon = canon + (NEUTRAL,)
        object.__setattr__(self, "classes", canon)

    @property
    def dataset(self) -> str:
        return f"synth-{self.course}"

    @property
    def framing(self) -> Framing:
        """The preprocessing crop the clips are framed with."""
        return Framing(float(self.crop_extend), bool(self.crop_align), str(self.crop_box))

    @property
    def randomised(self) -> bool:
        """Whether the clips get domain randomisation: ``randomise``, or by default the photo
        renderer's ``wild`` course (``lab`` courses render clean studio pictures)."""
        if self.randomise is None:
            return self.renderer == "photo" and self.course == "wild"
        return bool(self.randomise)

    def photo_renderer(self) -> "PhotoRenderer":
        """The :class:`~ferlib.synth.photo.PhotoRenderer` of a ``photo`` config, holding its
        ``n_subjects`` photos; raises when the folder has fewer photos than subjects asked for."""
        if self.renderer != "photo":
            raise ValueError(f"renderer={self.renderer!r} has no photos")
        f = self.framing
        r = PhotoRenderer(self.photos_dir, side=self.side, extend=f.extend, align=f.align, crop_box=f.crop_box,  # type: ignore[arg-type]
                          photo_ids=self.photo_ids)
        if self.n_subjects > r.n_photos:
            raise ValueError(
                f"n_subjects={self.n_subjects} but {self.photos_dir} holds {r.n_photos} photos"
                f"{' of the chosen photo_ids' if self.photo_ids is not None else ''}: with renderer='photo' a subject is "
                "the person of one photo, so at most one subject per photo (more clips per person: clips_per_subject)")
        return PhotoRenderer(self.photos_dir, side=self.side, extend=f.extend, align=f.align, crop_box=f.crop_box,  # type: ignore[arg-type]
                             photo_ids=r.ids[: self.n_subjects], randomise=Randomisation() if self.randomised else None,
                             appearance=self.appearance, exemplars=self.exemplars, exemplar_region=self.exemplar_region,
                             frame_jitter=tuple(self.frame_jitter), landmarks=self.landmarks)


def _pose_matrix(angle: np.ndarray, scale: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return scale[:, None, None] * np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)


def clip_landmarks(
    identity: Identity, offsets: np.ndarray, side: int, rng: np.random.Generator, wild: bool,
    framing: Framing | None = None,
) -> np.ndarray:
    """Pixel landmarks ``(T, 68, 2)``: neutral shape + expression ``offsets`` under a head pose.

    Pose = in-plane rotation, a pseudo-3D yaw (x shifted by depth · sin(yaw)), scale and
    translation; small per-frame jitter in ``lab``, a slow random drift in ``wild``. With
    ``framing``, each frame is then cropped as preprocessing crops a real face: the detector box is
    estimated from the frame's neutral landmarks (:mod:`ferlib.synth.framing`) and, as a real
    detector's box does from frame to frame, wobbles (Gaussian, 1 % of the box side per edge in
    ``lab``, 2 % in ``wild``), so a still face is not perfectly still in its crop.
    """
    pose = _draw_pose(offsets.shape[0], side, rng, wild)
    posed = _apply_pose(identity.shape[None] + offsets, pose, identity.iod_fraction * side, side)
    if framing is None:
        return posed
    neutral = _apply_pose(np.broadcast_to(identity.shape, offsets.shape), pose, identity.iod_fraction * side, side)
    boxes = detector_boxes(neutral)
    box_side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    boxes = boxes + rng.normal(0.0, 0.02 if wild else 0.01, boxes.shape) * box_side[:, None]
    m = framing.matrices(boxes, posed, side)
    return transform_points(m, posed)


def _draw_pose(t: int, side: int, rng: np.random.Generator, wild: bool) -> dict[str, np.ndarray]:
    """Per-frame head pose ``(T,)`` angle, yaw, scale and ``(T, 2)`` shift (pixels)."""
    if wild:
        angle = np.deg2rad(rng.uniform(-12, 12) + np.cumsum(rng.normal(0, 0.8, t)))
        yaw = rng.uniform(-0.35, 0.35) + np.cumsum(rng.normal(0, 0.02, t))
        shift = rng.uniform(-0.06, 0.06, 2) * side + np.cumsum(rng.normal(0, 0.004 * side, (t, 2)), 0)
        scale = rng.uniform(0.85, 1.1) * (1 + np.cumsum(rng.normal(0, 0.004, t)))
    else:
        angle = np.full(t, np.deg2rad(rng.uniform(-4, 4)))
        yaw = np.full(t, rng.uniform(-0.08, 0.08))
        shift = rng.uniform(-0.02, 0.02, 2) * side + rng.normal(0, 0.003 * side, (t, 2))
        scale = np.full(t, rng.uniform(0.95, 1.05))
    return {"angle": angle, "yaw": yaw, "shift": shift, "scale": scale}


def _apply_pose(shape: np.ndarray, pose: dict[str, np.ndarray], iod_px: float, side: int) -> np.ndarray:
    """Shapes ``(T, 68, 2)`` in IOD units → pixels under ``pose`` (yaw as a depth shift of x)."""
    shape = np.array(shape, dtype=np.float64)
    yaw = pose["yaw"]
    shape[..., 0] = shape[..., 0] * np.cos(yaw)[:, None] + _DEPTH[None] * np.sin(yaw)[:, None]
    centre = np.array([side / 2, side * 0.40]) + pose["shift"]
    rot = _pose_matrix(pose["angle"], pose["scale"] * iod_px)
    return (np.einsum("tij,tvj->tvi", rot, shape) + centre[:, None, :]).astype(np.float32)


def _illumination(frames: np.ndarray, rng: np.random.Generator, wild: bool) -> np.ndarray:
    t, h, w, _ = frames.shape
    gain = rng.uniform(0.8, 1.15) * np.ones(t)
    if wild:
        gain = gain * (1 + np.cumsum(rng.normal(0, 0.02, t)))
    direction = rng.uniform(-1, 1, 2) * (0.35 if wild else 0.1)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w) - 0.5
    ramp = 1 + direction[0] * xx + direction[1] * yy
    out = frames.astype(np.float32) * gain[:, None, None, None] * ramp[None, :, :, None]
    out += rng.normal(0, 5.0 if wild else 2.0, out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def _occlude(frames: np.ndarray, landmarks: np.ndarray, flags: np.ndarray, rng: np.random.Generator) -> None:
    """Cover the eyes, the mouth or one half of the face for a span of frames (in place)."""
    t = frames.shape[0]
    start = int(rng.integers(0, t - 1))
    stop = int(min(t, start + rng.integers(max(2, t // 4), max(3, t // 2) + 1)))
    region = rng.choice(["eyes", "mouth", "left", "right"])
    colour = tuple(int(c) for c in rng.uniform(30, 230, 3))
    for i in range(start, stop):
        lm = landmarks[i]
        if region == "eyes":
            pts = lm[36:48]
        elif region == "mouth":
            pts = lm[48:68]
        else:
            half = lm[:, 0] < lm[27, 0] if region == "left" else lm[:, 0] >= lm[27, 0]
            pts = lm[half]
        x0, y0 = pts.min(0) - 3
        x1, y1 = pts.max(0) + 3
        cv2.rectangle(frames[i], (int(x0), int(y0)), (int(x1), int(y1)), colour, -1)
    flags[start:stop] |= FLAG_OCCLUDED


def generate_clip(cfg: SynthConfig, subject: int, k: int, class_name: str, photo_renderer=None,
                  apex_frames: int = 0) -> dict:
    """One clip as a dict of arrays: frames, landmarks, flags, intensity (+ bookkeeping).

    ``subject``: the subject's number (for ``photo``, the position of its photo in
    ``photo_renderer``, :meth:`SynthConfig.photo_renderer`). ``apex_frames`` > 0: render only the
    clip's ``apex_frames`` most intense frames, in time order (still images for frame
    pre-training, without rendering the frames it would drop; the random draws after the
    intensity course then differ from the whole clip's)."""
    rng = np.random.default_rng([int(cfg.seed), int(subject), int(k)])
    wild = cfg.course == "wild"
    t = cfg.n_frames
    intensity = np.zeros(t, np.float32) if class_name == NEUTRAL else intensity_course(cfg.course, t, rng)
    flags = np.zeros(t, np.uint8)
    offsets = expression_offsets(class_name, intensity)
    aus = au_activations(class_name, intensity)
    if wild and rng.uniform() < 0.5:
        # distractor: a brief burst of another expression that is not the clip's label
        other = str(rng.choice([c for c in BASIC7 if c != class_name]))
        start = int(rng.integers(0, t - 2))
        stop = int(min(t, start + rng.integers(2, max(3, t // 5) + 1)))
        burst = np.zeros(t, np.float32)
        burst[start:stop] = rng.uniform(0.3, 0.6)
        offsets = offsets + expression_offsets(other, burst)
        for au, act in au_activations(other, burst).items():
            aus[au] = aus.get(au, np.zeros(t, np.float32)) + act
        flags[start:stop] |= FLAG_DISTRACTOR
    if apex_frames:
        keep = np.sort(np.argsort(intensity, kind="stable")[-int(apex_frames):])
        intensity, offsets, flags = intensity[keep], offsets[keep], flags[keep]
        aus = {au: np.broadcast_to(act, (t,))[keep] for au, act in aus.items()}
    if photo_renderer is not None:
        rendered = photo_renderer.render_clip(subject, class_name, intensity, rng, offsets=offsets, aus=aus)
        frames, landmarks = rendered.frames, rendered.landmarks
        flags[rendered.occluded] |= FLAG_OCCLUDED
    else:
        identity = make_identity(cfg.seed, subject)
        landmarks = clip_landmarks(identity, offsets, cfg.side, rng, wild, cfg.framing)
        frames = ProceduralRenderer(cfg.side).render(identity, landmarks, aus)
    frames = _illumination(frames, rng, wild)
    if wild and rng.uniform() < 0.4:
        _occlude(frames, landmarks, flags, rng)
    return {"frames": frames, "landmarks": landmarks, "flags": flags, "intensity": intensity}


def clip_plan(cfg: SynthConfig, subject_ids: list[str] | None = None) -> list[dict]:
    """The rows (clip_id, subject, class, k) the config asks for, in a fixed order.

    ``subject_ids``: the subject id of each subject number (default ``S000``, ``S001`` …; the
    ``photo`` renderer passes its photos' identities)."""
    rows = []
    if subject_ids is not None and len(subject_ids) < cfg.n_subjects:
        raise ValueError(f"{cfg.n_subjects} subjects need as many subject ids, got {len(subject_ids)}")
    for s in range(cfg.n_subjects):
        sid = f"S{s:03d}" if subject_ids is None else safe_clip_id(subject_ids[s])
        if cfg.clips_per_subject == 0:
            classes = list(cfg.classes)
        else:
            rng = np.random.default_rng([int(cfg.seed), s, 999_999])
            if cfg.course == "wild":
                w = np.array([WILD_CLASS_WEIGHTS.get(c, 0.1) for c in cfg.classes])
            else:
                w = np.ones(len(cfg.classes))
            classes = list(rng.choice(cfg.classes, size=cfg.clips_per_subject, p=w / w.sum()))
        for k, c in enumerate(classes):
            rows.append({
                "clip_id": f"{cfg.course}_{sid}_{k:02d}_{c}",
                "subject": sid,
                "label": cfg.classes.index(c),
                "label_name": c,
                "source": f"synth:{cfg.course}:seed{cfg.seed}",
                "split": "",
                "course": cfg.course,
                "_subject": s,
                "_k": k,
            })
    return rows


def check_synth_versions(store: ClipStore) -> None:
    """Raise :class:`StoreError` when ``store`` holds generated clips (a ``synth.json``) of another
    generator or photo-renderer version than this ferlib's (:func:`ferlib.versions.synth_version_problem`)."""
    problem = synth_version_problem(store.root)
    if problem:
        raise StoreError(problem)


def generate(out_dir: str | Path, cfg: SynthConfig | None = None, progress: bool = True, **kwargs) -> ClipStore:
    """Generate ``cfg`` (or ``SynthConfig(**kwargs)``) into a clip store at ``out_dir``.

    Re-running with the same config resumes (existing clips are skipped); a store made with
    another config is refused rather than mixed.
    """
    cfg = cfg or SynthConfig(**kwargs)
    photo = cfg.photo_renderer() if cfg.renderer == "photo" else None  # refuses too few photos before writing
    store = ClipStore.create(out_dir, cfg.dataset, cfg.classes)
    manifest = Path(out_dir) / "synth.json"
    versions = {"generator": GENERATOR_VERSION, **({"photo_renderer": PHOTO_RENDERER_VERSION} if photo is not None else {})}
    recorded = {**asdict(cfg), "classes": list(cfg.classes), **versions}
    if manifest.is_file():
        previous = json.loads(manifest.read_text())
        if "profile" in previous and "course" not in previous:  # the same clips, written before the field's rename
            previous["course"] = previous.pop("profile")
        if "size" in previous and "side" not in previous:  # the frame side, written before the field's rename
            previous["side"] = previous.pop("size")
        for key, version in versions.items():
            was = previous.setdefault(key, 1)  # version 1 predates the stamp
            if was != version:
                raise StoreError(f"{out_dir} holds synth clips of {key.replace('_', ' ')} version {was}, this ferlib "
                                 f"renders version {version}: delete the folder or choose another")
        if previous != json.loads(json.dumps(recorded)):
            diff = {k: (previous.get(k), v) for k, v in recorded.items() if previous.get(k) != json.loads(json.dumps(v))}
            older = sorted(set(recorded) - set(previous))
            if older:
                raise StoreError(f"{out_dir} holds synth clips made by an earlier ferlib (its synth.json has no {older}; "
                                 "the generator has changed since, e.g. its framing): delete the folder or choose another")
            raise StoreError(f"{out_dir} holds synth clips made with another config (differs in {diff}); choose another folder")
    else:
        tmp = manifest.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(recorded, indent=1))
        os.replace(tmp, manifest)
    store.remove_stale_tmp()
    plan = clip_plan(cfg, photo.ids if photo is not None else None)
    if photo is not None:
        for row in plan:
            row["photo"] = photo.photos[row["_subject"]].name
    todo = [r for r in plan if not store.has(r["clip_id"])]
    for row in progress_iter(todo, desc=f"synth {cfg.course}", enabled=progress, unit="clip"):
        clip = generate_clip(cfg, row["_subject"], row["_k"], row["label_name"], photo)
        meta = {k: v for k, v in row.items() if not k.startswith("_")}
        try:
            store.write(meta, clip["frames"], clip["landmarks"], clip["flags"], clip["intensity"], extra={"seed": cfg.seed})
        except EntryExistsError:
            continue  # another synth run on the same folder stored it first (generation is deterministic: same bytes)
    return store
