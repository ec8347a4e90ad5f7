"""Canonical expression class names and the aliases data sets use for them.

ferlib names classes in lower case: ``anger, contempt, disgust, fear, happy, sad, surprise`` (the
7 basic classes, in CK+'s order), plus ``neutral`` and the extra MAFW classes. Data sets spell
them many ways (``Angry``, ``Happiness``, ``Surprised`` …): :func:`canonical_class` maps them.
"""

from __future__ import annotations

BASIC7: tuple[str, ...] = ("anger", "contempt", "disgust", "fear", "happy", "sad", "surprise")
NEUTRAL = "neutral"

_ALIASES = {
    "an": "anger", "angry": "anger", "anger": "anger",
    "co": "contempt", "contempt": "contempt",
    "di": "disgust", "disgust": "disgust", "disgusted": "disgust",
    "fe": "fear", "fear": "fear", "fearful": "fear", "afraid": "fear",
    "ha": "happy", "happy": "happy", "happiness": "happy", "joy": "happy",
    "sa": "sad", "sad": "sad", "sadness": "sad",
    "su": "surprise", "surprise": "surprise", "surprised": "surprise",
    "ne": "neutral", "neutral": "neutral",
    "anxiety": "anxiety", "helplessness": "helplessness", "disappointment": "disappointment",
}


def canonical_class(name: str) -> str:
    """Map a data set's class spelling to ferlib's name; unknown names raise ``ValueError``."""
    key = str(name).strip().lower()
    if key not in _ALIASES:
        raise ValueError(
            f"unknown class name {name!r}; expected one of {sorted(set(_ALIASES.values()))} "
            "(or a common spelling of them)"
        )
    return _ALIASES[key]


def class_index(classes: tuple[str, ...] | list[str], name: str) -> int:
    """Position of ``name`` (any accepted spelling) in a label set."""
    canon = canonical_class(name)
    if canon not in classes:
        raise ValueError(f"class {name!r} ({canon}) is not in this label set {tuple(classes)}")
    return list(classes).index(canon)
