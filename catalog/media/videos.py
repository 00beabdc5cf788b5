"""Check a seller's video of an item by reading its MP4/MOV boxes, never decoding a frame."""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

from catalog.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia

VideoContainer = Literal["mp4", "mov"]

_BRANDS: Final[Mapping[bytes, VideoContainer]] = {
    b"isom": "mp4",
    b"iso2": "mp4",
    b"mp41": "mp4",
    b"mp42": "mp4",
    b"avc1": "mp4",
    b"M4V ": "mp4",
    b"qt  ": "mov",
}
# ftyp may list any number of compatible brands; real files list a handful.
_MAX_COMPATIBLE_BRANDS: Final = 64
# Every box read costs one; a hostile file of millions of empty boxes stops here.
_MAX_BOXES: Final = 10_000
_HEADER: Final = struct.Struct(">I4s")
_LARGESIZE: Final = struct.Struct(">Q")
# Full-box layouts after version and flags, keyed by version: creation and modification
# times come first in both boxes, and tkhd's ids, duration, layer, volume and display
# matrix come before its 16.16 fixed-point size.
_MVHD: Final[Mapping[int, struct.Struct]] = {0: struct.Struct(">8xII"), 1: struct.Struct(">16xIQ")}
_TKHD: Final[Mapping[int, struct.Struct]] = {0: struct.Struct(">72xII"), 1: struct.Struct(">84xII")}
# All ones is how mvhd says "unknown", which cannot be checked against the limits.
_UNKNOWN_DURATION: Final[Mapping[int, int]] = {0: 0xFFFF_FFFF, 1: 0xFFFF_FFFF_FFFF_FFFF}


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What an accepted video is, how long it plays and the size its first video track shows."""

    container: VideoContainer  # what the upload was, by its ftyp brands
    duration_seconds: float
    width: int | None  # None when the video track has no tkhd
    height: int | None


@dataclass(frozen=True, slots=True)
class _Box:
    kind: bytes
    body: int  # offset of the first byte after the header
    end: int


def detect_video_container(data: bytes) -> VideoContainer | None:
    """The container the leading ftyp box names; filenames and content types are not trusted."""
    if len(data) < 16 or data[4:8] != b"ftyp":
        return None
    major = _BRANDS.get(data[8:12])
    if major is not None:
        return major
    # The box may lie about its size; the box walk refuses that later.
    size, _ = _HEADER.unpack_from(data)
    brands_end = min(size, len(data), 16 + 4 * _MAX_COMPATIBLE_BRANDS)
    for offset in range(16, brands_end - 3, 4):
        compatible = _BRANDS.get(data[offset : offset + 4])
        if compatible is not None:
            return compatible
    return None


def inspect_video(
    data: bytes, *, max_bytes: int, min_seconds: float, max_seconds: float
) -> VideoInfo:
    """Check an upload by its boxes: an MP4 or MOV with a video track playing within the limits."""
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            "The video is too large.", code="video_too_large", max_bytes=max_bytes
        )
    container = detect_video_container(data)
    if container is None:
        raise UnsupportedMedia("Videos must be MP4 or MOV.", code="unsupported_video_type")

    # Only moov > trak > mdia is entered, so nesting depth is fixed whatever the file claims.
    reader = _BoxReader(data)
    moov = _first(reader.children(0, len(data)), b"moov")
    if moov is None:
        raise _invalid("The video has no index (moov box).")
    in_moov = reader.children(moov.body, moov.end)
    mvhd = _first(in_moov, b"mvhd")
    if mvhd is None:
        raise _invalid("The video has no movie header (mvhd box).")
    duration_seconds = _duration_seconds(data, mvhd)

    video_track = _first_video_track(data, reader, in_moov)
    if video_track is None:
        raise InvalidInput("The video has no picture.", code="no_video_track", field="video")
    tkhd = _first(video_track, b"tkhd")
    width, height = (None, None) if tkhd is None else _track_size(data, tkhd)

    if duration_seconds < min_seconds:
        raise InvalidInput(
            "The video is too short.",
            code="video_too_short",
            field="video",
            min_seconds=min_seconds,
        )
    if duration_seconds > max_seconds:
        raise InvalidInput(
            "The video is too long.",
            code="video_too_long",
            field="video",
            max_seconds=max_seconds,
        )
    return VideoInfo(
        container=container, duration_seconds=duration_seconds, width=width, height=height
    )


class _BoxReader:
    """Lists boxes with every size checked against the parent, from one box budget per file."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._budget = _MAX_BOXES

    def children(self, start: int, end: int) -> list[_Box]:
        """The boxes that exactly tile `data[start:end]`."""
        data = self._data
        boxes: list[_Box] = []
        position = start
        while position < end:
            self._budget -= 1
            if self._budget < 0:
                raise _invalid("The video has too many boxes.")
            if end - position < _HEADER.size:
                raise _invalid("The video is cut off inside a box header.")
            size, kind = _HEADER.unpack_from(data, position)
            header = _HEADER.size
            if size == 1:
                if end - position < _HEADER.size + _LARGESIZE.size:
                    raise _invalid("The video is cut off inside a box header.")
                (size,) = _LARGESIZE.unpack_from(data, position + _HEADER.size)
                header += _LARGESIZE.size
            elif size == 0:
                # Zero is how a writer that could not seek back says "to the end".
                size = end - position
            if size < header:
                raise _invalid("The video has a box smaller than its own header.")
            if size > end - position:
                raise _invalid("The video is cut off inside a box.")
            boxes.append(_Box(kind=kind, body=position + header, end=position + size))
            position += size
        return boxes


def _first(boxes: list[_Box], kind: bytes) -> _Box | None:
    return next((box for box in boxes if box.kind == kind), None)


def _first_video_track(data: bytes, reader: _BoxReader, in_moov: list[_Box]) -> list[_Box] | None:
    """The boxes inside the first trak whose media handler is `vide`."""
    for trak in in_moov:
        if trak.kind != b"trak":
            continue
        in_trak = reader.children(trak.body, trak.end)
        mdia = _first(in_trak, b"mdia")
        if mdia is None:
            continue
        hdlr = _first(reader.children(mdia.body, mdia.end), b"hdlr")
        # Version and flags, then pre_defined (QuickTime's component type), then the handler.
        if hdlr is not None and _body(data, hdlr, 12)[8:12] == b"vide":
            return in_trak
    return None


def _duration_seconds(data: bytes, mvhd: _Box) -> float:
    version, fields = _unpack_full_box(data, mvhd, _MVHD)
    timescale: int = fields[0]
    duration: int = fields[1]
    if timescale == 0:
        raise _invalid("The video's timescale is zero.")
    if duration == _UNKNOWN_DURATION[version]:
        raise _invalid("The video does not say how long it is.")
    return duration / timescale


def _track_size(data: bytes, tkhd: _Box) -> tuple[int, int]:
    _, fields = _unpack_full_box(data, tkhd, _TKHD)
    width: int = fields[0]
    height: int = fields[1]
    return width >> 16, height >> 16


def _unpack_full_box(
    data: bytes, box: _Box, layouts: Mapping[int, struct.Struct]
) -> tuple[int, tuple[Any, ...]]:
    """A full box's version and the fields its layout for that version names."""
    version = _body(data, box, 4)[0]
    layout = layouts.get(version)
    if layout is None:
        raise _invalid("The video has a header of an unknown version.")
    return version, layout.unpack(_body(data, box, 4 + layout.size)[4:])


def _body(data: bytes, box: _Box, length: int) -> bytes:
    """The first `length` bytes of a box's body, which must hold at least that many."""
    if box.end - box.body < length:
        raise _invalid("The video has a header cut short.")
    return data[box.body : box.body + length]


def _invalid(message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_video", field="video")
