"""MMI Facial Expression Database: posed sequences neutral → apex → neutral, one folder a session.

Layout as distributed (the web-site download)::

    <root>/Sessions/1766/S001-001.avi       the session's video
    <root>/Sessions/1766/session.xml        the session: <subject id="1"/>, <track view="0" filename="S001-001.avi"/>
    <root>/Sessions/1766/S001-001.xml       the annotation (FACS), with <Metatag Name="Emotion" Value="4"/>

The emotion of a session is a ``Metatag`` of its annotation file ``S0ss-0qq.xml`` (the one named
like the video, else the session's only other XML file); ``session.xml`` holds the subject and
the view. Both are read by the tolerant :func:`parse_session_xml`, which finds, case-insensitively
and wherever they sit in the tree:

* the emotion: ``<Metatag Name="Emotion" Value="4"/>`` (any element whose ``name`` attribute is
  ``Emotion``, value from its ``value`` attribute or text), an ``<emotion>`` element (``value`` /
  ``id`` attribute or text), or an ``emotion`` attribute of the root. An emotion in
  ``session.xml`` itself (some re-packaged copies) is used first. Numeric codes follow MMI's list
  1 anger, 2 disgust, 3 fear, 4 happiness, 5 sadness, 6 surprise (override with
  ``emotion_codes``); a spelled-out name (``Happiness``) is accepted too. Sessions without an
  emotion (most MMI sessions are coded for action units only) are not indexed; a session whose
  emotion is neither a known code nor a known name (MMI has codes above 6 for other states) is
  left out and reported (``ClipIndex.left_out``), never aborting the index.
* the subject: ``<subject id="1">`` (also ``subjectId`` / ``subject`` attributes or a ``Subject``
  metatag); failing that the ``S<number>`` prefix of the video name (``S001-001.avi`` → ``S001``).
  A session whose subject cannot be found raises: guessing it would break subject independence.
* the view: a ``view`` attribute (``<track view="0">``) or a ``View`` metatag. MMI writes it as a
  number; :data:`MMI_VIEW_CODES` reads 0 frontal, 1 profile, 2 both (side by side), the reading
  ferlib chose (the download documents no legend) and a parameter (``view_codes``). With
  ``view="frontal"`` (default) sessions whose view is known and not frontal are left out (the
  FER-GCN paper uses the 205 frontal sequences); ``view=None`` keeps all. An unknown code keeps
  the session.
* the video: a ``mediaFile`` / ``filename`` / ``src`` attribute naming a video of the session
  folder; otherwise the session's only video (with several and none named, the first by name).

``metadata_file`` names the session file (default ``session.xml``); ``emotion_file`` a glob for
the annotation file when it is not named like the video. For another layout pass
``parse=<callable(path) -> SessionMeta>`` (on the command line ``parse=package.module:function``);
it reads every XML file of a session and the first value found for each field wins.

Index: ``clip_id`` = session folder name, ``subject`` ``S001``, ``source`` the video, ``view``.
Protocol: 10-fold subject-independent.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from ferlib.data.adapters.base import (
    VIDEO_EXTS,
    Adapter,
    LabelError,
    LayoutError,
    build_index,
    glob_or_fail,
    natural_key,
    name_to_class,
    parse_code,
    require_dir,
    resolve_callable,
)
from ferlib.data.index import ClipIndex, safe_clip_id

MMI_CLASSES: tuple[str, ...] = ("anger", "disgust", "fear", "happy", "sad", "surprise")
MMI_EMOTION_CODES: dict[int, str] = {1: "anger", 2: "disgust", 3: "fear", 4: "happy", 5: "sad", 6: "surprise"}


@dataclass(frozen=True)
class SessionMeta:
    """What the adapter needs from one ``session.xml``; ``None`` where the file does not say."""

    emotion: str | None
    subject: str | None
    view: str | None
    media_file: str | None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _attrs(el: ET.Element) -> dict[str, str]:
    return {_local(k): (v or "").strip() for k, v in el.attrib.items()}


def parse_session_xml(path: Path) -> SessionMeta:
    """Emotion, subject, view and video name of one MMI ``session.xml`` (see the module docstring)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise LayoutError(f"{path} is not readable XML ({exc})") from None
    found: dict[str, str] = {}

    def put(key: str, value: str | None) -> None:
        if value and key not in found:
            found[key] = value.strip()

    for el in root.iter():
        tag, attrs = _local(el.tag), _attrs(el)
        text = (el.text or "").strip()
        meta_name = attrs.get("name", "").lower()
        if meta_name:
            value = attrs.get("value") or text
            if meta_name == "emotion":
                put("emotion", value)
            elif meta_name in ("subject", "subjectid", "subject id"):
                put("subject", value)
            elif meta_name in ("view", "camera view"):
                put("view", value)
        if tag == "emotion":
            put("emotion", attrs.get("value") or attrs.get("id") or text)
        if tag == "subject":
            put("subject", attrs.get("id") or attrs.get("subjectid") or text)
        put("subject", attrs.get("subjectid") or attrs.get("subject"))
        put("emotion", attrs.get("emotion"))
        put("view", attrs.get("view"))
        put("media", attrs.get("mediafile") or attrs.get("filename") or attrs.get("src"))
    return SessionMeta(found.get("emotion"), found.get("subject"), found.get("view"), found.get("media"))


def _subject_id(value: str) -> str:
    """``"1"`` → ``S001``; ``"S001"`` stays; other ids pass through made filesystem-safe."""
    value = value.strip()
    if value.isdigit():
        return f"S{int(value):03d}"
    m = re.fullmatch(r"[Ss](\d+)", value)
    return f"S{int(m.group(1)):03d}" if m else safe_clip_id(value)


#: MMI's numeric view codes (``<track view="0">``), as ferlib reads them (see the module docstring)
MMI_VIEW_CODES: dict[str, str] = {"0": "frontal", "1": "profile", "2": "frontal and profile"}


def _emotion(value: str, codes: Mapping[int, str], where: str) -> str:
    if re.fullmatch(r"[+-]?\d+(\.0*)?", value.strip()):
        code = parse_code(value, where)
        if code not in codes:
            raise LabelError(f"{where}: unknown emotion code {code}; expected one of {dict(sorted(codes.items()))}")
        return codes[code]
    return name_to_class(value, MMI_CLASSES, where)


def _view_matches(value: str | None, wanted: str | None, codes: Mapping[str, str]) -> bool:
    """Keep a session unless its view (a name, or a code of ``codes``) is known and is not ``wanted``."""
    if wanted is None or value is None:
        return True
    value = codes.get(value.strip(), value)
    if not re.search(r"[A-Za-z]", value):
        return True  # an unknown code: kept
    return value.strip().lower() == wanted.lower()


def _merge(first: SessionMeta, second: SessionMeta) -> SessionMeta:
    return SessionMeta(*(a or b for a, b in zip((first.emotion, first.subject, first.view, first.media_file),
                                               (second.emotion, second.subject, second.view, second.media_file))))


def _annotation_files(session: Path, metadata_file: str, video_stem: str | None, emotion_file: str | None) -> list[Path]:
    """The session's annotation XML files, the one named like the video first."""
    found = sorted((p for p in session.glob(emotion_file or "*.xml") if p.name != metadata_file and p.is_file()),
                   key=natural_key)
    return sorted(found, key=lambda p: p.stem != video_stem)


def _video(session: Path, media: str | None) -> Path:
    if media:
        named = session / Path(media.replace("\\", "/")).name
        if named.is_file() and named.suffix.lower() in VIDEO_EXTS:
            return named
    videos = sorted((p for p in session.iterdir() if p.suffix.lower() in VIDEO_EXTS), key=natural_key)
    if not videos:
        raise LayoutError(f"expected a video (*.avi) in the MMI session folder {session}; found {sorted(p.name for p in session.iterdir())}")
    return videos[0]


def mmi_index(
    root: Path,
    sessions_dir: str = "Sessions",
    metadata_file: str = "session.xml",
    emotion_file: str | None = None,
    emotion_codes: Mapping[int, str] | None = None,
    view: str | None = "frontal",
    view_codes: Mapping[str, str] | None = None,
    parse: Callable[[Path], SessionMeta] | str | None = None,
) -> ClipIndex:
    """Index the MMI sessions with an emotion label under ``root`` (see the module docstring)."""
    codes = dict(MMI_EMOTION_CODES if emotion_codes is None else emotion_codes)
    vcodes = {str(k): str(v) for k, v in (MMI_VIEW_CODES if view_codes is None else view_codes).items()}
    parse = resolve_callable(parse, "parse") or parse_session_xml
    sessions = require_dir(root / sessions_dir, "the MMI session folders (<root>/Sessions/<n>/session.xml)")
    records, left_out, other_view = [], [], 0
    for xml_path in sorted(glob_or_fail(sessions, f"*/{metadata_file}", "MMI session metadata"), key=lambda p: natural_key(p.parent)):
        meta = parse(xml_path)
        video = None
        if not meta.emotion:  # as distributed: the emotion is a Metatag of the annotation file
            video = _video(xml_path.parent, meta.media_file)
            for other in _annotation_files(xml_path.parent, metadata_file, video.stem, emotion_file):
                meta = _merge(meta, parse(other))
                if meta.emotion:
                    where = str(other)
                    break
        else:
            where = str(xml_path)
        if not meta.emotion:
            continue  # action-unit-only session: no expression label
        if not _view_matches(meta.view, view, vcodes):
            other_view += 1
            continue
        video = video or _video(xml_path.parent, meta.media_file)
        try:
            label = _emotion(meta.emotion, codes, where)
        except LabelError as err:
            left_out.append({"clip_id": safe_clip_id(xml_path.parent.name), "source": str(video), "reason": str(err)})
            continue
        subject = meta.subject
        if not subject:
            m = re.match(r"[Ss](\d+)", video.stem)
            if not m:
                raise LayoutError(
                    f"{xml_path}: no subject id (expected <subject id=…> or a video named S<number>-…); "
                    "pass parse=… for this layout"
                )
            subject = m.group(0)
        records.append(
            {
                "clip_id": safe_clip_id(xml_path.parent.name),
                "label_name": label,
                "subject": _subject_id(subject),
                "source": str(video),
                "split": "",
                "view": vcodes.get((meta.view or "").strip(), meta.view or ""),
            }
        )
    if not records and other_view:
        raise LayoutError(f"all {other_view} labelled MMI sessions under {sessions} have a view other than {view!r}; pass view=None to keep them")
    if not records and not left_out:
        raise LayoutError(
            f"no MMI session under {sessions} has an emotion label (expected e.g. <Metatag Name=\"Emotion\" Value=\"4\"/> "
            f"in */S001-001.xml or */{metadata_file}); pass parse=… for another metadata layout"
        )
    return build_index(records, MMI_CLASSES, "mmi", sessions, left_out)


ADAPTER = Adapter(
    name="mmi",
    classes=MMI_CLASSES,
    protocol=("subject_kfold", {"k": 10}),
    builder=mmi_index,
    description="MMI: frontal posed sequences (neutral → apex → neutral) with an emotion label, 6 classes",
)
