"""The real-face material that ships in the repository's ``assets/`` folder (licences beside it).

``asset("london_frl_subset")`` → the folder's path; a clone without it (an install from a wheel)
gets one line naming the folder that was looked for.
"""

from __future__ import annotations

from pathlib import Path

ASSETS = Path(__file__).resolve().parents[1] / "assets"

LONDON = "london_frl_subset"  # 20 London-set people, neutral + smiling
LONDON_MORE = "london_frl_more"  # 41 more London-set people, neutral + smiling
CANADA = "canada_frl"  # 40 Canada-set people, neutral only
VIDEOS = "videos"  # single_face.mp4, face_noface.mov, no_face.mp4

#: every folder of real people the workbook may render (the one list of its identity sources):
#: the London folders (neutral + smiling photos: they may also be real test people) and the Canada
#: folder (neutral photos only: rendered, never tested)
IDENTITY_SOURCES: tuple[str, ...] = (LONDON, LONDON_MORE, CANADA)


def asset(*parts: str) -> Path:
    """The path of ``assets/<parts…>``; raises ``FileNotFoundError`` naming it when absent."""
    path = ASSETS.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: the real-face material ships in the repository's "
                                f"assets/ folder (use a clone of the repository, not a wheel install)")
    return path


def identity_folders(sources: tuple[str, ...] = IDENTITY_SOURCES) -> list[Path]:
    """The paths of ``sources`` (default :data:`IDENTITY_SOURCES`), each checked by :func:`asset`."""
    return [asset(name) for name in sources]
