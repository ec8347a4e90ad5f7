"""dlib's face detector and 68-point shape predictor, found without the network.

The predictor file ships in the PyPI package ``face-recognition-models``; its ``__init__`` needs
``pkg_resources``, so the file is located through :mod:`importlib` instead of importing it. A user
may pass any other ``shape_predictor_68_face_landmarks.dat``.
"""

from __future__ import annotations

import importlib.util
from functools import lru_cache
from pathlib import Path

import numpy as np

PREDICTOR_FILE = "shape_predictor_68_face_landmarks.dat"


def predictor_path(path: str | Path | None = None) -> Path:
    """The 68-landmark model: ``path`` if given, else the copy in ``face-recognition-models``."""
    if path is not None:
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"landmark model {p} does not exist (expected a dlib {PREDICTOR_FILE})")
        return p
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"dlib's {PREDICTOR_FILE} was not found: install 'face-recognition-models' "
            "(pip install face-recognition-models) or pass the path of the file"
        )
    p = Path(list(spec.submodule_search_locations)[0]) / "models" / PREDICTOR_FILE
    if not p.is_file():
        raise FileNotFoundError(f"{p} is missing from the installed face-recognition-models package")
    return p


def check_predictor(path: str | Path) -> Path:
    """``path`` if it is a dlib 68-point shape predictor that loads; else one ``ValueError`` naming it."""
    p = predictor_path(path)
    try:
        predictor = load_predictor(str(p))
    except RuntimeError as exc:
        raise ValueError(f"--predictor {p} is not a dlib shape predictor ({exc}); expected a {PREDICTOR_FILE}") from None
    if predictor.num_parts != 68:
        raise ValueError(f"--predictor {p} predicts {predictor.num_parts} points; ferlib needs the 68-point {PREDICTOR_FILE}")
    return p


@lru_cache(maxsize=None)
def load_detector():  # -> dlib.fhog_object_detector
    """dlib's HOG frontal face detector (cached per process)."""
    import dlib

    return dlib.get_frontal_face_detector()


@lru_cache(maxsize=4)
def load_predictor(path: str | None = None):  # -> dlib.shape_predictor
    """dlib's 68-point shape predictor (cached per process and path)."""
    import dlib

    return dlib.shape_predictor(str(predictor_path(path)))


def detect_faces(image_rgb: np.ndarray, upsample: int = 1) -> list[tuple[tuple[int, int, int, int], float]]:
    """Faces in an RGB uint8 image as ``((left, top, right, bottom), score)``, best first."""
    dets, scores, _ = load_detector().run(np.ascontiguousarray(image_rgb), upsample, 0.0)
    out = [((d.left(), d.top(), d.right(), d.bottom()), float(s)) for d, s in zip(dets, scores)]
    return sorted(out, key=lambda x: -x[1])


def landmarks_in_box(image_rgb: np.ndarray, box: tuple[int, int, int, int], predictor: str | None = None) -> np.ndarray:
    """68 landmarks ``(68, 2)`` float32 ``(x, y)`` of the face in ``box`` (left, top, right, bottom)."""
    import dlib

    shape = load_predictor(predictor)(np.ascontiguousarray(image_rgb), dlib.rectangle(*map(int, box)))
    return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float32)
