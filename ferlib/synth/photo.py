"""Photo-based rendering: real neutral faces deformed by action units with a landmark warp.

:class:`PhotoRenderer` turns a folder of frontal neutral photos (one person each, e.g. the Face
Research Lab London Set's ``neutral_front/NNN_03.jpg``) into expression clips of those real people:

1. the preprocessing's own detector and 68-point predictor (:func:`preprocess_landmarker`) find
   the face on the photo (once per photo, cached); the photo is area-downscaled once so that its
   face crop is about ``supersample × side`` pixels;
2. per frame, target landmarks = photo landmarks + ``expression_offsets(class, intensity)`` (IOD
   units, see :mod:`ferlib.synth.expressions`) × the photo's outer inter-ocular distance
   ``|p45 − p36|``, rotated by the angle of the eye line, so an expression moves with the head;
3. the frame is cropped exactly as preprocessing crops a real face (:mod:`ferlib.synth.framing`:
   dlib box ∪ the frame's landmarks, × 1.25, eyes level), plus a small random similarity per clip
   (``pose_jitter``) drawn from the caller's ``rng``;
4. :func:`ferlib.synth.warp.piecewise_affine_warp` carries the photo's pixels to the targets and
   into the crop in one resampling;
5. appearance (``appearance=True``), driven by the frame's action-unit activations, the same
   per-frame intensity that moved the landmarks: :func:`ferlib.synth.appearance.paint_action_units`
   paints what each AU does to the skin (forehead folds AU1/2, brow furrow and lid shadow AU4,
   cheek raise with lower-lid crease and crow's feet AU6, nose wrinkles AU9, nasolabial folds
   AU12, dimples AU14, marionette lines AU15, stretch lines AU20, lip press AU23/24), and where the
   inner lips (60–67) open wider than in the photo (AU26 in surprise and fear, AU16, and strong
   smiles, whose lips the renderer parts with AU25 from a happy intensity of 0.35 on)
   :func:`ferlib.synth.appearance.paint_open_mouth` darkens the mouth interior in proportion to the
   added opening and hangs teeth from the upper lip; ``appearance=False`` only darkens it;
6. the happy exemplar (``exemplars=True``): when the photo folder has the London layout and holds
   the same person's smiling photo (``smiling_front/NNN_08.jpg``), happy frames blend that real
   smile into the lower face (cheeks, nasolabial folds, mouth, chin; not the eyes), warped to the
   frame's landmarks, with weight ``min(AU6, AU12)`` (the happy intensity): real teeth, cheeks and
   folds at the apex, the neutral photo at onset. The photo is aligned to the neutral one by a
   similarity on rigid landmarks. No other class uses it; a folder of neutral photos alone gets
   painted appearance only;
7. the frame is area-resized to ``side``; landmarks are returned in its pixel coordinates.

One photo is one person: its identity (:func:`photo_identity`, the London set's face id) is the
subject id the generator gives its clips, so subject-independent folds never put one person in
two folds. Frames with equal landmarks and activations are rendered once. Everything is deterministic given
``rng``. Speed (64 px, one core, CPU time on a 2-core machine): about 235 frames/s with
appearance and exemplars (490 frames/s for the landmark warp alone, before them); 170 with
``randomise``, 120 with ``frame_jitter`` and ``landmarks="dlib"`` (every frame warped and
searched).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from ferlib.preprocess.dlib_models import detect_faces, landmarks_in_box
from ferlib.preprocess.face import DetectorConfig, detect_face, predict_landmarks
from ferlib.synth.appearance import paint_action_units, paint_open_mouth
from ferlib.synth.expressions import au_activations, au_offsets, expression_offsets
from ferlib.synth.framing import Framing
from ferlib.synth.randomise import Randomisation, background_mask, similarity_jitter
from ferlib.synth.warp import piecewise_affine_warp

__all__ = [
    "FaceNotFoundError",
    "FacePhoto",
    "Landmarker",
    "PhotoRenderer",
    "RenderedClip",
    "dlib_landmarker",
    "downscale_face",
    "face_crop_matrix",
    "list_photos",
    "load_face_photo",
    "photo_folders",
    "photo_identity",
    "preprocess_landmarker",
    "read_rgb",
    "similarity_jitter",
    "smiling_photo",
    "transform_points",
]

PHOTO_EXTS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".bmp")
INNER_LIP = slice(60, 68)

#: ``landmarker(image_rgb) -> (landmarks (68, 2) float32, box (left, top, right, bottom))`` or ``None`` (no face)
Landmarker = Callable[[np.ndarray], "tuple[np.ndarray, tuple[float, float, float, float]] | None"]
#: ``offsets_fn(class_name, intensity (T,)) -> (T, 68, 2)`` displacements in IOD units
OffsetsFn = Callable[[str, np.ndarray], np.ndarray]


class FaceNotFoundError(ValueError):
    """A photo in which the landmarker finds no face."""


# -- photos and faces ---------------------------------------------------------------------------
#: landmarks that a smile barely moves: jaw ends at the ears, nose bridge, eye corners
RIGID_POINTS: tuple[int, ...] = (0, 16, 27, 28, 29, 30, 36, 39, 42, 45)


def pair_alignment(neutral_landmarks: np.ndarray, smile_landmarks: np.ndarray, points: tuple[int, ...] = RIGID_POINTS) -> np.ndarray:
    """``(2, 3)`` similarity (rotation, scale, shift) from smiling-photo pixels to neutral-photo pixels,
    least-squares on the landmarks ``points`` (OpenCV ``estimateAffinePartial2D``, LMedS)."""
    idx = list(points)
    m, _ = cv2.estimateAffinePartial2D(
        smile_landmarks[idx].astype(np.float32), neutral_landmarks[idx].astype(np.float32), method=cv2.LMEDS
    )
    if m is None:
        raise ValueError("could not fit a similarity between the neutral and smiling landmarks (degenerate points)")
    return m.astype(np.float64)


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8 ``(H, W, 3)``; an unreadable file raises naming it."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"photo {path} does not exist")
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"photo {path} could not be decoded (expected a JPEG/PNG image)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def dlib_landmarker(upsample: int = 1, predictor: str | None = None) -> Landmarker:
    """The default landmarker: dlib's HOG detector (best-scoring face) + the 68-point predictor."""
    def run(image: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
        faces = detect_faces(image, upsample)
        if not faces:
            return None
        box = faces[0][0]
        return landmarks_in_box(image, box, predictor), tuple(float(v) for v in box)  # type: ignore[return-value]

    return run


def preprocess_landmarker(config: "object | None" = None) -> Landmarker:
    """The landmarker of :mod:`ferlib.preprocess`: :func:`ferlib.preprocess.face.detect_face` (its
    detection ladder, threshold and scaling, ``config`` a
    :class:`~ferlib.preprocess.face.DetectorConfig`, default the preprocessing's) + the 68-point
    predictor, so a photo's box is the one preprocessing finds on it."""
    cfg = config or DetectorConfig()

    def run(image: np.ndarray) -> tuple[np.ndarray, tuple[float, float, float, float]] | None:
        found = detect_face(image, cfg)  # type: ignore[arg-type]
        if found is None:
            return None
        box = np.asarray(found[0], dtype=np.float64)
        return predict_landmarks(image, box, getattr(cfg, "predictor", None)), tuple(float(v) for v in box)  # type: ignore[return-value]

    return run


def photo_identity(path: str | Path) -> str:
    """The person a photo shows, as a subject id: the London set's face id for its layout
    (``neutral_front/001_03.jpg`` → ``"001"``), otherwise the file name without extension (one
    photo, one person)."""
    path = Path(path)
    stem = path.stem
    if path.parent.name == "neutral_front" and len(stem) > 3 and stem[-3] == "_" and stem[-2:].isdigit():
        return stem[:-3]
    return stem


def photo_folders(photos_dir: str | Path | Sequence[str | Path]) -> list[Path]:
    """``photos_dir`` as a list of folders (one path, or a sequence of them); raises on an empty sequence."""
    folders = [Path(photos_dir)] if isinstance(photos_dir, (str, Path)) else [Path(f) for f in photos_dir]
    if not folders:
        raise ValueError("photos_dir names no folder: expected a folder of frontal neutral face photos, or several")
    return folders


def list_photos(photos_dir: str | Path | Sequence[str | Path]) -> list[Path]:
    """Sorted image files of ``photos_dir`` (or of its ``neutral_front/`` when it has one); of
    several folders, each folder's in turn (the Canada set's 512×683 photos mix with the London
    set's 512×512 ones: every photo is framed by its own face)."""
    folders = photo_folders(photos_dir)
    if len(folders) > 1:
        return [p for f in folders for p in list_photos(f)]
    folder = folders[0]
    if (folder / "neutral_front").is_dir():
        folder = folder / "neutral_front"
    if not folder.is_dir():
        raise FileNotFoundError(f"photo folder {folder} does not exist (expected a folder of frontal neutral face photos)")
    photos = sorted(p for p in folder.iterdir() if p.suffix.lower() in PHOTO_EXTS and not p.name.startswith("."))
    if not photos:
        found = sorted(p.name for p in folder.iterdir())[:8]
        raise FileNotFoundError(f"no photos ({', '.join(PHOTO_EXTS)}) in {folder}; found {found}")
    return photos


@dataclass(frozen=True)
class FacePhoto:
    """A photo prepared for warping: ``image`` (RGB uint8, possibly downscaled), ``landmarks``
    ``(68, 2)`` and detector ``box`` (left, top, right, bottom), both in ``image`` pixels."""

    path: Path
    image: np.ndarray
    landmarks: np.ndarray
    box: tuple[float, float, float, float]

    @property
    def inter_ocular(self) -> float:
        return float(np.linalg.norm(self.landmarks[45] - self.landmarks[36]))

    @property
    def eye_angle(self) -> float:
        """Angle (radians) of the line from the right outer eye corner (36) to the left one (45)."""
        d = self.landmarks[45] - self.landmarks[36]
        return float(math.atan2(d[1], d[0]))


def load_face_photo(
    path: str | Path,
    crop_pixels: int | None = None,
    box_extend: float = 0.25,
    landmarker: Landmarker | None = None,
) -> FacePhoto:
    """Read a photo, find its face and 68 landmarks, and area-downscale it so that the face crop
    (box side × (1 + 2·``box_extend``)) is about ``crop_pixels`` (no upscaling; ``None`` keeps it).

    Raises :class:`FaceNotFoundError` naming the file when the landmarker finds no face.
    """
    path = Path(path)
    image = read_rgb(path)
    found = (landmarker or dlib_landmarker())(image)
    if found is None:
        raise FaceNotFoundError(
            f"no face found in photo {path} ({image.shape[1]}x{image.shape[0]}): expected one frontal face "
            "that dlib's HOG detector finds (a clear, upright, front-facing face of at least ~80 pixels)"
        )
    landmarks, box = found
    landmarks = np.asarray(landmarks, dtype=np.float32)
    if landmarks.shape != (68, 2):
        raise ValueError(f"landmarker returned landmarks of shape {landmarks.shape} for {path}; expected (68, 2)")
    face = FacePhoto(path, image, landmarks, tuple(float(v) for v in box))  # type: ignore[arg-type]
    if crop_pixels is not None:
        box_arr = np.asarray(box, dtype=np.float64)
        side = max(box_arr[2] - box_arr[0], box_arr[3] - box_arr[1]) * (1 + 2 * box_extend)
        face = downscale_face(face, crop_pixels / side)
    return face


def downscale_face(face: FacePhoto, factor: float) -> FacePhoto:
    """``face`` with its image area-downscaled by ``factor`` (< 1; ``factor >= 1`` returns it as
    it is) and its landmarks and box moved with the pixels (pixel centres: ``x' = (x + 0.5) f − 0.5``)."""
    if factor >= 1.0:
        return face
    h, w = face.image.shape[:2]
    new_w, new_h = max(1, round(w * factor)), max(1, round(h * factor))
    fx, fy = new_w / w, new_h / h
    image = cv2.resize(face.image, (new_w, new_h), interpolation=cv2.INTER_AREA)
    landmarks = ((face.landmarks + 0.5) * np.float32([fx, fy]) - 0.5).astype(np.float32)
    box = (np.asarray(face.box, dtype=np.float64) + 0.5) * np.array([fx, fy, fx, fy]) - 0.5
    return FacePhoto(face.path, image, landmarks, tuple(float(v) for v in box))  # type: ignore[arg-type]


# -- crops as affine matrices -------------------------------------------------------------------
def face_crop_matrix(
    box: Sequence[float], out_size: int, box_extend: float = 0.25, angle: float = 0.0
) -> np.ndarray:
    """``(2, 3)`` affine matrix from photo pixels to a square ``out_size`` crop around the face.

    The crop is centred on the detector ``box`` (left, top, right, bottom), its side is the box's
    longer side × (1 + 2·``box_extend``) (``box_extend`` = 0.25: FAN's 25 % padding on each side),
    and it is rotated by ``-angle`` (radians) about the centre, so ``angle`` = the eye-line angle
    levels the eyes.
    """
    left, top, right, bottom = (float(v) for v in box)
    if right <= left or bottom <= top:
        raise ValueError(f"face box {tuple(box)} is empty; expected (left, top, right, bottom) with right > left, bottom > top")
    side = max(right - left, bottom - top) * (1.0 + 2.0 * box_extend)
    k = out_size / side
    c, s = math.cos(angle), math.sin(angle)
    lin = k * np.array([[c, s], [-s, c]])  # rotation by -angle, then scale
    centre = np.array([(left + right) / 2.0, (top + bottom) / 2.0])
    t = np.full(2, (out_size - 1) / 2.0) - lin @ centre
    return np.concatenate([lin, t[:, None]], 1)


def compose(outer: np.ndarray, inner: np.ndarray) -> np.ndarray:
    """``(2, 3)`` affine of ``outer ∘ inner`` (apply ``inner`` first); either may be ``(2, 3)`` or ``(3, 3)``."""
    a = np.vstack([outer[:2], [0, 0, 1]])
    b = np.vstack([inner[:2], [0, 0, 1]])
    return (a @ b)[:2]


def transform_points(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Apply a ``(2, 3)`` affine to points ``(..., 2)``; returns float32."""
    m = np.asarray(matrix, dtype=np.float64)[:2]
    return (np.asarray(points, dtype=np.float64) @ m[:, :2].T + m[:, 2]).astype(np.float32)


def downscale_points(points: np.ndarray, factor: int) -> np.ndarray:
    """Pixel coordinates after an area resize by 1/``factor`` (pixel centres: ``(x + 0.5)/f − 0.5``)."""
    return ((np.asarray(points, dtype=np.float32) + 0.5) / factor - 0.5).astype(np.float32)


def polygon_area(points: np.ndarray) -> np.ndarray:
    """Area of polygons ``(..., K, 2)`` (shoelace formula), non-negative."""
    x, y = points[..., 0], points[..., 1]
    return 0.5 * np.abs((x * np.roll(y, -1, -1) - np.roll(x, -1, -1) * y).sum(-1))


def darken_polygon(image: np.ndarray, polygon: np.ndarray, alpha: float, colour: Sequence[float]) -> np.ndarray:
    """Blend ``colour`` into ``image`` ``(H, W, 3)`` uint8 inside ``polygon`` ``(K, 2)`` with weight ``alpha``
    (anti-aliased edge). Returns a new image."""
    if alpha <= 0:
        return image
    shift = 4
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(polygon * (1 << shift)).astype(np.int32)], 255, cv2.LINE_AA, shift)
    w = (mask.astype(np.float32) / 255.0 * min(float(alpha), 1.0))[..., None]
    out = image.astype(np.float32) * (1 - w) + np.asarray(colour, np.float32) * w
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _default_offsets(class_name: str, intensity: np.ndarray) -> np.ndarray:
    return expression_offsets(class_name, intensity)


def smiling_photo(neutral_photo: str | Path) -> Path | None:
    """The same person's smiling photo in the London-set layout (``neutral_front/001_03.jpg`` →
    ``smiling_front/001_08.jpg``), or ``None`` when there is none."""
    path = Path(neutral_photo)
    if path.parent.name != "neutral_front":
        return None
    folder = path.parent.parent / "smiling_front"
    if not folder.is_dir():
        return None
    for ext in PHOTO_EXTS:
        for name in (f"{photo_identity(path)}_08{ext}", f"{photo_identity(path)}_08{ext.upper()}"):
            if (folder / name).is_file():
                return folder / name
    return None


@dataclass(frozen=True)
class Exemplar:
    """A smiling photo of a rendered person, prepared for blending: ``face`` (downscaled like the
    neutral photo) and ``to_neutral`` ``(3, 3)``, the similarity from its pixels to the neutral
    photo's (fitted on landmarks a smile barely moves, :func:`pair_alignment`)."""

    face: FacePhoto
    to_neutral: np.ndarray
    displacement: np.ndarray  #: (68, 2) the real smile's landmark displacement, IOD units, face frame


@dataclass
class RenderedClip:
    """A rendered clip: ``frames`` ``(T, S, S, 3)`` uint8, ``landmarks`` ``(T, 68, 2)`` float32 (output
    pixels), ``occluded`` ``(T,)`` bool (frames with a random occluder)."""

    frames: np.ndarray
    landmarks: np.ndarray
    occluded: np.ndarray


def _exemplar_mask(lm: np.ndarray, side: int, iod: float, region: str = "face") -> np.ndarray:
    """Soft mask ``(side, side, 1)`` float32 of the face (``"face"``: inside the jaw line, up to
    above the brows) or of the lower face (``"lower"``: cheeks, nasolabial folds, mouth, chin; up
    to just under the eyes) of landmarks ``lm`` (68, 2)."""
    if region == "full":
        return np.ones((side, side, 1), np.float32)
    ex = (lm[45] - lm[36]) / (iod + 1e-9)
    dn = np.array([-ex[1], ex[0]])
    if region == "face":
        top = list(lm[26:16:-1] - dn * 0.12 * iod)
    else:
        top = [lm[45] + dn * 0.22 * iod, lm[46] + dn * 0.1 * iod, lm[47] + dn * 0.1 * iod, lm[42] + dn * 0.12 * iod,
               lm[28], lm[39] + dn * 0.12 * iod, lm[40] + dn * 0.1 * iod, lm[41] + dn * 0.1 * iod, lm[36] + dn * 0.22 * iod]
    poly = np.concatenate([lm[0:17] if region == "face" else lm[1:16], np.array(top)])
    mask = np.zeros((side, side), np.uint8)
    cv2.fillPoly(mask, [np.round(poly * 16).astype(np.int32)], 255, cv2.LINE_AA, 4)
    mask = cv2.GaussianBlur(mask, (0, 0), max(1.0, 0.06 * iod))
    return (mask.astype(np.float32) / 255.0)[..., None]


# -- the renderer -------------------------------------------------------------------------------
#: photos prepared with the default landmarker, per (file, its mtime, framing, working side): every renderer
#: of a process (one per generated set, per split of the transfer check, per pre-training) finds a face once
_PREPARED: dict[tuple, "FacePhoto"] = {}


class PhotoRenderer:
    """Expression clips of real people from frontal neutral photos (see the module docstring).

    Parameters
    ----------
    photos_dir: folder of neutral photos, one person each (or a London-set root with ``neutral_front/``),
        or several such folders (no identity twice).
    side: side of the output frames in pixels.
    extend, align, crop_box: the preprocessing crop (:class:`ferlib.synth.framing.Framing`; defaults
        are :class:`ferlib.preprocess.pipeline.PreprocessConfig`'s, so generated and preprocessed
        real faces are framed alike).
    supersample: warp at ``supersample × side`` and area-resize, which anti-aliases the result.
    pose_jitter: ``(rotation_deg, scale, shift)`` of a random similarity drawn once per clip (the
        preprocessing's crop of a real video jitters as much with the detector).
    frame_jitter: ``(rotation_deg, scale, shift)`` of a random similarity drawn for every frame (a
        head that is never quite still, a detector box that wobbles; the London test clips use
        ``(1.5, 0.015, 0.015)``); zeros: none.
    landmarks: the landmarks a clip stores: ``"truth"`` (the targets the pixels were warped to) or
        ``"dlib"`` (what the preprocessing's 68-point predictor finds in each rendered frame, in
        the photo's detector box moved with the crop — the landmarks a real clip gets, noise and
        biases included).
    mouth_colour: RGB of the inner mouth painted where the lips part.
    mouth_opening_ref: added inner-lip area (in IOD²) at which the inner mouth is fully dark.
    appearance: paint what the action units do to the skin (:mod:`ferlib.synth.appearance`: folds,
        cheek raise, open mouth with teeth, lip press …) and part the lips of strong smiles (AU25
        from a happy intensity of 0.35 on, fully at 0.85) so their teeth show; ``False``: geometry only.
    exemplars: for ``happy`` (AU6 and AU12 together), use the same person's smiling photo
        (:func:`smiling_photo`, when the folder has the London layout): its landmark displacement
        replaces the prototype's happy displacement, and its pixels, warped to the frame's
        landmarks, are blended into the face with weight ``min(AU6, AU12)`` — real teeth, cheeks,
        folds and eyes.
    exemplar_region: where the smiling photo is blended: ``"full"`` (the whole frame, a
        cross-dissolve as the London morph makes it), ``"face"`` (inside the jaw line up to above
        the brows) or ``"lower"`` (cheeks, mouth and chin only).
    offsets_fn: ``(class_name, intensity (T,)) -> (T, 68, 2)`` IOD-unit displacements; default
        :func:`ferlib.synth.expressions.expression_offsets`.
    landmarker: ``image -> (landmarks, box) | None``; default :func:`preprocess_landmarker`.
    photo_ids: keep only the photos of these identities (:func:`photo_identity`), in this order.
    randomise: domain randomisation (:class:`ferlib.synth.randomise.Randomisation`: pose and scale,
        background, lighting, occluders, blur, noise, JPEG), drawn per clip; ``None``: clean studio frames.
    """

    def __init__(
        self,
        photos_dir: str | Path | Sequence[str | Path],
        side: int = 64,
        extend: float = 0.25,
        align: bool = True,
        crop_box: str = "union",
        supersample: int = 2,
        pose_jitter: tuple[float, float, float] = (3.0, 0.03, 0.03),
        frame_jitter: tuple[float, float, float] = (0.0, 0.0, 0.0),
        landmarks: str = "truth",
        mouth_colour: tuple[int, int, int] = (48, 20, 24),
        mouth_opening_ref: float = 0.02,
        appearance: bool = True,
        exemplars: bool = True,
        exemplar_region: str = "face",
        offsets_fn: OffsetsFn | None = None,
        landmarker: Landmarker | None = None,
        photo_ids: Sequence[str] | None = None,
        randomise: "Randomisation | None" = None,
    ) -> None:
        if side < 16:
            raise ValueError(f"frame side must be at least 16 pixels, got {side}")
        if supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {supersample}")
        photos = list_photos(photos_dir)
        by_id: dict[str, Path] = {}
        for p in photos:
            pid = photo_identity(p)
            if pid in by_id:
                raise ValueError(f"photos {by_id[pid]} and {p} have the same identity {pid!r}; "
                                 "expected one neutral photo per person")
            by_id[pid] = p
        if photo_ids is not None:
            missing = [str(i) for i in photo_ids if str(i) not in by_id]
            if missing:
                raise ValueError(f"photo identities {missing} are not in {', '.join(map(str, photo_folders(photos_dir)))} (it holds {sorted(by_id)[:10]} …)")
            photos = [by_id[str(i)] for i in photo_ids]
        self.photos = photos
        self.ids = [photo_identity(p) for p in photos]
        self.side = int(side)
        self.supersample = int(supersample)
        self.framing = Framing(float(extend), bool(align), str(crop_box))
        self.pose_jitter = tuple(float(v) for v in pose_jitter)
        self.frame_jitter = tuple(float(v) for v in frame_jitter)
        if landmarks not in ("truth", "dlib"):
            raise ValueError(f"landmarks must be 'truth' or 'dlib', got {landmarks!r}")
        self.landmarks = landmarks
        self.mouth_colour = tuple(mouth_colour)
        self.mouth_opening_ref = float(mouth_opening_ref)
        self.appearance = bool(appearance)
        self.exemplars = bool(exemplars)
        if exemplar_region not in ("full", "face", "lower"):
            raise ValueError(f"exemplar_region must be 'full', 'face' or 'lower', got {exemplar_region!r}")
        self.exemplar_region = exemplar_region
        self.offsets_fn = offsets_fn
        self.landmarker = landmarker
        self._faces: dict[int, FacePhoto] = {}
        self._exemplars: dict[int, Exemplar | None] = {}
        self._backdrops: dict[int, np.ndarray] = {}
        self.randomise = randomise

    @property
    def n_photos(self) -> int:
        return len(self.photos)

    @property
    def work_size(self) -> int:
        return self.side * self.supersample

    def _index(self, subject_index: int) -> int:
        i = int(subject_index)
        if not 0 <= i < self.n_photos:
            raise IndexError(f"subject {i} has no photo: the renderer holds {self.n_photos} photos (one person each), "
                             f"subjects 0..{self.n_photos - 1}")
        return i

    def _prepare(self, path: Path) -> FacePhoto:
        key = (str(Path(path).resolve()), os.stat(path).st_mtime_ns, self.framing, self.work_size)
        if self.landmarker is None and key in _PREPARED:  # the default landmarker's result: shared in the process
            return _PREPARED[key]
        face = load_face_photo(path, None, 0.0, self.landmarker or preprocess_landmarker())
        m = self.framing.matrices(np.asarray(face.box)[None], face.landmarks[None], self.work_size)[0]
        face = downscale_face(face, float(np.sqrt(abs(np.linalg.det(m[:, :2])))))
        if self.landmarker is None:
            _PREPARED[key] = face
        return face

    def face(self, subject_index: int) -> FacePhoto:
        """The prepared photo of subject ``subject_index`` (landmarks found once, then cached), downscaled
        so that its preprocessing crop is about :attr:`work_size` pixels."""
        i = self._index(subject_index)
        if i not in self._faces:
            self._faces[i] = self._prepare(self.photos[i])
        return self._faces[i]

    def exemplar(self, subject_index: int) -> Exemplar | None:
        """The subject's smiling photo, prepared (cached), or ``None`` (none found, or ``exemplars=False``)."""
        i = self._index(subject_index)
        if i not in self._exemplars:
            path = smiling_photo(self.photos[i]) if self.exemplars else None
            ex = None
            if path is not None:
                smile = self._prepare(path)
                neutral = self.face(i).landmarks.astype(np.float64)
                m = pair_alignment(neutral, smile.landmarks)
                d = transform_points(m, smile.landmarks).astype(np.float64) - neutral  # neutral photo pixels
                eye = neutral[45] - neutral[36]
                c, s_ = eye / np.linalg.norm(eye)
                rot = np.array([[c, -s_], [s_, c]])  # face frame -> image frame
                ex = Exemplar(smile, np.vstack([m, [0.0, 0.0, 1.0]]), (d @ rot / np.linalg.norm(eye)).astype(np.float32))
            self._exemplars[i] = ex
        return self._exemplars[i]

    def backdrop(self, subject_index: int) -> np.ndarray:
        """Where the subject's prepared photo shows its backdrop, ``(H, W)`` uint8 (255 = backdrop;
        :func:`ferlib.synth.randomise.background_mask`, cached)."""
        i = self._index(subject_index)
        if i not in self._backdrops:
            face = self.face(i)
            self._backdrops[i] = np.round(background_mask(face.image, face.landmarks) * 255).astype(np.uint8)
        return self._backdrops[i]

    def _predict(self, frame: np.ndarray, face: FacePhoto, crop: np.ndarray) -> np.ndarray:
        """The preprocessing's 68-point predictor on a working-size frame, in the photo's detector box
        carried into the frame by ``crop`` (its axis-aligned bounding box)."""
        x0, y0, x1, y1 = face.box
        corners = transform_points(crop, np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64))
        box = np.concatenate([corners.min(0), corners.max(0)]).astype(np.float64)
        return predict_landmarks(frame, box).astype(np.float32)

    def crop_matrices(self, face: FacePhoto, landmarks: np.ndarray) -> np.ndarray:
        """The preprocessing crops ``(T, 2, 3)`` (photo pixels → working-size frame) of frames whose
        landmarks are ``(T, 68, 2)`` (photo pixels), with the photo's detector box."""
        boxes = np.repeat(np.asarray(face.box, dtype=np.float64)[None], len(landmarks), 0)
        return self.framing.matrices(boxes, landmarks, self.work_size)

    def _finish(self, frame: np.ndarray) -> np.ndarray:
        if self.supersample == 1:
            return frame
        return cv2.resize(frame, (self.side, self.side), interpolation=cv2.INTER_AREA)

    def neutral(self, subject_index: int) -> tuple[np.ndarray, np.ndarray]:
        """The subject's neutral crop without jitter: frame ``(side, side, 3)`` uint8, landmarks ``(68, 2)``."""
        face = self.face(subject_index)
        m = self.crop_matrices(face, face.landmarks[None])[0]
        w = self.work_size
        crop = cv2.warpAffine(face.image, m, (w, w), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return self._finish(crop), downscale_points(transform_points(m, face.landmarks), self.supersample)

    def target_landmarks(self, landmarks: np.ndarray, class_name: str, intensity: np.ndarray) -> np.ndarray:
        """Targets ``(T, 68, 2)``: ``landmarks`` ``(68, 2)`` + offsets × IOD, rotated with the eye line."""
        offsets = (self.offsets_fn or _default_offsets)(class_name, intensity)
        return self.displace(landmarks, offsets)

    def displace(self, landmarks: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """``landmarks`` ``(68, 2)`` + ``offsets`` ``(T, 68, 2)`` (IOD units, face frame) scaled by the
        outer inter-ocular distance and rotated with the eye line; returns ``(T, 68, 2)``."""
        offsets = np.asarray(offsets, dtype=np.float64)
        if offsets.ndim != 3 or offsets.shape[1:] != (68, 2):
            raise ValueError(f"expression offsets have shape {offsets.shape}; expected (T, 68, 2)")
        d = landmarks[45].astype(np.float64) - landmarks[36]
        iod, angle = float(np.hypot(*d)), math.atan2(d[1], d[0])
        c, s = math.cos(angle), math.sin(angle)
        rot = np.array([[c, -s], [s, c]])  # face frame (x along the eye line) -> image frame
        return (landmarks[None].astype(np.float64) + iod * offsets @ rot.T).astype(np.float32)

    def render(
        self, subject_index: int, class_name: str, intensity: np.ndarray, rng: np.random.Generator,
        offsets: np.ndarray | None = None, aus: dict[int, np.ndarray] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """One clip of subject ``subject_index`` (its photo) showing ``class_name``: frames
        ``(T, side, side, 3)`` uint8 RGB and landmarks ``(T, 68, 2)`` float32 (see :meth:`render_clip`)."""
        clip = self.render_clip(subject_index, class_name, intensity, rng, offsets, aus)
        return clip.frames, clip.landmarks

    def render_clip(
        self, subject_index: int, class_name: str, intensity: np.ndarray, rng: np.random.Generator,
        offsets: np.ndarray | None = None, aus: dict[int, np.ndarray] | None = None,
    ) -> RenderedClip:
        """One clip of subject ``subject_index`` (its photo) showing ``class_name``.

        ``intensity`` ``(T,)`` per-frame expression intensity (0 = the neutral photo, 1 = apex).
        ``offsets`` ``(T, 68, 2)`` (IOD units) and ``aus`` (AU → activation ``(T,)``): the landmark
        displacements and action-unit activations to render instead of the class's at
        ``intensity`` (the generator passes its own, distractor bursts included). ``rng`` draws
        the clip's pose jitter (and, with ``randomise``, its nuisances). Landmarks are in output pixels.
        """
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        intensity = np.asarray(intensity, dtype=np.float32)
        if intensity.ndim != 1 or len(intensity) == 0 or not np.isfinite(intensity).all():
            raise ValueError(f"intensity must be a finite 1-D array (T,) with T >= 1, got shape {intensity.shape}")
        t = len(intensity)
        if offsets is None:
            offsets = (self.offsets_fn or _default_offsets)(class_name, intensity)
        offsets = np.array(offsets, dtype=np.float32)
        if offsets.shape != (t, 68, 2):
            raise ValueError(f"expression offsets for {class_name!r} have shape {offsets.shape}; expected ({t}, 68, 2)")
        if aus is None:
            aus = au_activations(class_name, intensity)
        au_keys = sorted(aus)
        au_mat = np.stack([np.broadcast_to(np.asarray(aus[k], np.float32), (t,)) for k in au_keys], 1) if au_keys else np.zeros((t, 0), np.float32)
        act = lambda k: au_mat[:, au_keys.index(k)] if k in au_keys else np.zeros(t, np.float32)  # noqa: E731
        smile = np.minimum(act(6), act(12))  # happy: cheek raise and lip-corner pull together
        face = self.face(subject_index)
        ex = self.exemplar(subject_index) if (self.exemplars and smile.max() > 0) else None
        opening_offsets = offsets
        if ex is not None:  # the person's own smile replaces the prototype's happy displacement
            happy = expression_offsets("happy", 1.0) - ex.displacement
            opening_offsets = offsets - smile[:, None, None] * expression_offsets("happy", 1.0)[None]
            offsets = offsets - smile[:, None, None] * happy[None]
            painted = [k for k in au_keys if k not in (6, 12)]  # the real smile brings their appearance
        else:
            painted = list(au_keys)
            if self.appearance:  # strong smiles part the lips (AU25) so the teeth show
                parting = np.clip((smile - 0.35) / 0.5, 0.0, 1.0)
                offsets = offsets + parting[:, None, None] * au_offsets(25)[None]
                opening_offsets = offsets
        jitter = similarity_jitter(rng, self.work_size, *self.pose_jitter)
        per_frame = any(self.frame_jitter)
        wobble = np.stack([similarity_jitter(rng, self.work_size, *self.frame_jitter) for _ in range(t)]) if per_frame else None
        nuisance = self.randomise.draw(rng, t, self.work_size) if self.randomise is not None else None
        if nuisance is None and not per_frame:  # frames with equal landmarks and activations are rendered once
            key = np.concatenate([offsets.reshape(t, -1), au_mat], 1)
            _, first, inverse = np.unique(key, axis=0, return_index=True, return_inverse=True)
            inverse = inverse.ravel()
        else:  # every frame has its own jitter
            first, inverse = np.arange(t), np.arange(t)
        targets = self.displace(face.landmarks, offsets[first])  # (U, 68, 2) photo pixels
        crops = np.stack([compose(jitter, m) for m in self.crop_matrices(face, targets)])  # (U, 2, 3)
        image = face.image
        if wobble is not None:
            crops = np.stack([compose(wobble[tf], c) for tf, c in zip(first, crops)])
        if nuisance is not None:
            crops = np.stack([compose(nuisance.frame_jitter[tf] @ nuisance.pose, c) for tf, c in zip(first, crops)])
            if nuisance.background is not None:
                image = np.dstack([face.image, self.backdrop(subject_index)])  # the backdrop mask warps with the pixels
        occluded = np.zeros(t, bool)
        w = self.work_size
        frames = np.empty((len(first), self.side, self.side, 3), np.uint8)
        out_lm = np.empty((len(first), 68, 2), np.float32)
        base_open = float(polygon_area(face.landmarks[INNER_LIP]))
        iod_photo = float(np.linalg.norm(face.landmarks[45] - face.landmarks[36]))
        for u, tf in enumerate(first):  # rendering, one warp per distinct frame
            if np.array_equal(targets[u], face.landmarks):
                frame = cv2.warpAffine(image, crops[u], (w, w), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            else:
                frame = piecewise_affine_warp(image, face.landmarks, targets[u], out_transform=crops[u], out_size=(w, w))
            backdrop = None
            if frame.shape[-1] == 4:
                frame, backdrop = np.ascontiguousarray(frame[..., :3]), frame[..., 3].astype(np.float32) / 255.0
            lm = transform_points(crops[u], targets[u])
            opened = targets[u] if opening_offsets is offsets else self.displace(face.landmarks, opening_offsets[tf:tf + 1])[0]
            opening = (float(polygon_area(opened[INNER_LIP])) - base_open) / (self.mouth_opening_ref * iod_photo ** 2)
            iod = float(np.linalg.norm(lm[45] - lm[36]))
            if self.appearance:
                d = np.linalg.norm(offsets[tf, [48, 54]], axis=1)
                sides = (float(d[0] / d.max()), float(d[1] / d.max())) if d.max() > 1e-6 else (1.0, 1.0)
                frame = paint_action_units(frame, lm, {k: float(au_mat[tf, au_keys.index(k)]) for k in painted}, sides)
                frame = paint_open_mouth(frame, lm, opening, iod, self.mouth_colour)
            else:
                frame = darken_polygon(frame, lm[INNER_LIP], opening, self.mouth_colour)
            if ex is not None and smile[tf] > 0:
                to_crop = compose(crops[u], ex.to_neutral)  # smiling photo -> neutral photo -> crop
                back = np.linalg.inv(ex.to_neutral)[:2]
                real = piecewise_affine_warp(ex.face.image, ex.face.landmarks, transform_points(back, targets[u]),
                                             out_transform=to_crop, out_size=(w, w))
                m = _exemplar_mask(lm, w, iod, self.exemplar_region) * float(smile[tf])
                frame = np.clip(frame * (1 - m) + real * m + 0.5, 0, 255).astype(np.uint8)
            if nuisance is not None:
                frame = nuisance.scene(frame, backdrop)
            if self.landmarks == "dlib":  # what preprocessing would find in this frame
                lm = self._predict(frame, face, crops[u])
            frames[u] = self._finish(frame)
            out_lm[u] = downscale_points(lm, self.supersample)
            if nuisance is not None:
                frames[u], occluded[tf] = nuisance.camera(frames[u], int(tf), out_lm[u])
        return RenderedClip(frames[inverse], out_lm[inverse], occluded)
