"""Real-data preprocessing: decode videos, find faces and 68 landmarks (dlib), align, crop, store.

``preprocess_index(index, store_dir, side=112, workers=…, detect_every=1)`` fills a clip store;
the modules underneath are usable alone: :mod:`.video` (decoding), :mod:`.face` (detection,
landmarks, tracking, missing faces), :mod:`.align` (eye-level crops), :mod:`.pipeline`.
"""

from ferlib.preprocess.align import align_crop_clip, crop_transforms, eye_angle, transform_points, warp_crop
from ferlib.preprocess.face import ClipFaces, DetectorConfig, NoFaceError, Rung, detect_face, track_faces
from ferlib.preprocess.pipeline import PreprocessConfig, PreprocessSummary, ProcessedClip, preprocess_clip, preprocess_index
from ferlib.preprocess.video import VideoReadError, read_frames

__all__ = [
    "ClipFaces",
    "DetectorConfig",
    "NoFaceError",
    "PreprocessConfig",
    "PreprocessSummary",
    "ProcessedClip",
    "Rung",
    "VideoReadError",
    "align_crop_clip",
    "crop_transforms",
    "detect_face",
    "eye_angle",
    "preprocess_clip",
    "preprocess_index",
    "read_frames",
    "track_faces",
    "transform_points",
    "warp_crop",
]
