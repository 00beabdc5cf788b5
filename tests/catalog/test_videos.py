"""Sellers' item videos: accepted by their MP4/MOV boxes, refused with a stable code."""

from __future__ import annotations

import io
import struct
import time
from fractions import Fraction

import av
import pytest
from PIL import Image

from catalog.errors import CatalogError, InvalidInput, PayloadTooLarge, UnsupportedMedia
from catalog.media.videos import VideoInfo, detect_video_container, inspect_video

_FPS = 10
_MAX_BYTES = 5 * 1024 * 1024


def mp4_video(
    *, seconds: float, container: str = "mp4", width: int = 64, height: int = 48
) -> bytes:
    """A real, playable `container` ("mp4" or "mov") video, encoded with mpeg4 by PyAV."""
    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format=container) as output:
        stream = output.add_stream("mpeg4", rate=_FPS)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        for index in range(round(seconds * _FPS)):
            # A changing colour, so the encoder emits real frames rather than skips.
            pixels = bytes((index * 13 % 256, 90, 160, 255)) * (width * height)
            frame = av.VideoFrame.from_bytes(pixels, width, height, format="rgba")
            frame.pts = index
            frame.time_base = Fraction(1, _FPS)
            output.mux(stream.encode(frame))
        output.mux(stream.encode(None))
    return buffer.getvalue()


def inspect(
    data: bytes,
    *,
    max_bytes: int = _MAX_BYTES,
    min_seconds: float = 1.0,
    max_seconds: float = 60.0,
) -> VideoInfo:
    return inspect_video(
        data, max_bytes=max_bytes, min_seconds=min_seconds, max_seconds=max_seconds
    )


def box(kind: bytes, *parts: bytes) -> bytes:
    body = b"".join(parts)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, *, version: int, body: bytes) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]), body)


def mvhd(*, timescale: int = 1000, duration: int = 3000, version: int = 0) -> bytes:
    if version == 1:
        times = struct.pack(">QQIQ", 0, 0, timescale, duration)
    else:
        times = struct.pack(">IIII", 0, 0, timescale, duration)
    # Rate, volume, reserved, matrix, pre_defined and next_track_ID, all irrelevant here.
    return full_box(b"mvhd", version=version, body=times + bytes(80))


def tkhd(*, width: int, height: int) -> bytes:
    before_size = bytes(72)
    return full_box(
        b"tkhd", version=0, body=before_size + struct.pack(">II", width << 16, height << 16)
    )


def hdlr(handler: bytes) -> bytes:
    return full_box(b"hdlr", version=0, body=bytes(4) + handler + bytes(12) + b"handler\x00")


def handmade_video(
    *,
    handler: bytes = b"vide",
    timescale: int = 1000,
    duration: int = 3000,
    mvhd_version: int = 0,
    with_tkhd: bool = True,
) -> bytes:
    """A minimal ftyp + moov file: one track, no media samples at all."""
    track_header = tkhd(width=320, height=240) if with_tkhd else b""
    trak = box(b"trak", track_header, box(b"mdia", hdlr(handler)))
    movie_header = mvhd(timescale=timescale, duration=duration, version=mvhd_version)
    return ftyp() + box(b"moov", movie_header, trak)


def ftyp(major: bytes = b"isom", *compatible: bytes) -> bytes:
    return box(b"ftyp", major, struct.pack(">I", 0x200), *compatible)


def top_level_boxes(data: bytes) -> list[bytes]:
    """A real file split into its top-level boxes, which PyAV writes with 32-bit sizes."""
    boxes = []
    position = 0
    while position < len(data):
        (size,) = struct.unpack_from(">I", data, position)
        assert size >= 8
        boxes.append(data[position : position + size])
        position += size
    return boxes


def refusal(
    data: bytes,
    *,
    max_bytes: int = _MAX_BYTES,
    min_seconds: float = 1.0,
    max_seconds: float = 60.0,
) -> CatalogError:
    with pytest.raises(CatalogError) as caught:
        inspect(data, max_bytes=max_bytes, min_seconds=min_seconds, max_seconds=max_seconds)
    return caught.value


@pytest.mark.parametrize(
    ("container", "seconds", "width", "height"),
    [("mp4", 2.0, 64, 48), ("mov", 5.0, 80, 64)],
)
def test_real_videos_are_accepted_with_their_duration_and_size(
    container: str, seconds: float, width: int, height: int
) -> None:
    data = mp4_video(seconds=seconds, container=container, width=width, height=height)

    info = inspect(data)

    assert info.container == container
    assert info.duration_seconds == pytest.approx(seconds, abs=0.2)
    assert (info.width, info.height) == (width, height)


def test_the_container_is_read_from_the_brands_not_assumed() -> None:
    assert detect_video_container(mp4_video(seconds=2.0)) == "mp4"
    assert detect_video_container(mp4_video(seconds=2.0, container="mov")) == "mov"
    # An unknown major brand still passes when it declares a known compatible brand.
    assert detect_video_container(ftyp(b"dash", b"iso6", b"mp42")) == "mp4"


def test_a_video_shorter_than_the_minimum_is_refused() -> None:
    error = refusal(mp4_video(seconds=2.0), min_seconds=3.0)

    assert isinstance(error, InvalidInput)
    assert error.code == "video_too_short"
    assert error.details["field"] == "video"


def test_a_video_longer_than_the_maximum_is_refused() -> None:
    error = refusal(mp4_video(seconds=5.0), max_seconds=4.0)

    assert isinstance(error, InvalidInput)
    assert error.code == "video_too_long"
    assert error.details["field"] == "video"


def test_a_video_over_the_byte_limit_is_refused_and_one_at_it_is_not() -> None:
    data = mp4_video(seconds=2.0)

    error = refusal(data, max_bytes=len(data) - 1)

    assert isinstance(error, PayloadTooLarge)
    assert error.code == "video_too_large"
    assert inspect(data, max_bytes=len(data)).duration_seconds == pytest.approx(2.0, abs=0.2)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "red").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(_png(), id="png"),
        pytest.param(b"Hello, this is my bike. It works fine.\n" * 20, id="text"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00" + bytes(500), id="exe-renamed-to-mp4"),
        pytest.param(ftyp(b"heic", b"mif1", b"heic") + bytes(64), id="heic-photo"),
        pytest.param(ftyp(b"3gp4", b"3gp4") + bytes(64), id="3gp"),
        pytest.param(b"", id="empty"),
    ],
)
def test_files_that_are_not_mp4_or_mov_are_refused_by_their_content(data: bytes) -> None:
    error = refusal(data)

    assert isinstance(error, UnsupportedMedia)
    assert error.code == "unsupported_video_type"


@pytest.mark.parametrize("container", ["mp4", "mov"])
@pytest.mark.parametrize("cut", ["half", "100 bytes"])
def test_a_truncated_video_is_refused_as_invalid(container: str, cut: str) -> None:
    data = mp4_video(seconds=2.0, container=container)
    kept = len(data) // 2 if cut == "half" else 100

    error = refusal(data[:kept])

    assert isinstance(error, InvalidInput)
    assert error.code == "invalid_video"
    assert error.details["field"] == "video"


@pytest.mark.parametrize("source", ["mp4", "mov", "handmade"])
def test_every_truncation_of_a_video_is_refused_with_a_code(source: str) -> None:
    data = handmade_video() if source == "handmade" else mp4_video(seconds=2.0, container=source)

    for length in range(len(data)):
        error = refusal(data[:length])
        assert error.code in {"unsupported_video_type", "invalid_video"}, length


def test_a_last_box_sized_zero_runs_to_the_end_of_the_file() -> None:
    *leading, moov = top_level_boxes(mp4_video(seconds=2.0))
    assert moov[4:8] == b"moov"

    info = inspect(b"".join(leading) + bytes(4) + moov[4:])

    assert info.duration_seconds == pytest.approx(2.0, abs=0.2)
    assert (info.width, info.height) == (64, 48)


@pytest.mark.parametrize("kind", [b"mdat", b"moov"])
def test_a_box_with_a_64_bit_largesize_is_read(kind: bytes) -> None:
    boxes = top_level_boxes(mp4_video(seconds=2.0))
    rewritten = [
        struct.pack(">I4sQ", 1, kind, len(each) + 8) + each[8:] if each[4:8] == kind else each
        for each in boxes
    ]

    info = inspect(b"".join(rewritten))

    assert info.duration_seconds == pytest.approx(2.0, abs=0.2)
    assert (info.width, info.height) == (64, 48)


@pytest.mark.parametrize(
    "tail",
    [
        pytest.param(struct.pack(">I4s", 4, b"free"), id="size-below-header"),
        pytest.param(struct.pack(">I4sQ", 1, b"free", 8), id="largesize-below-header"),
        pytest.param(struct.pack(">I4sQ", 1, b"free", 2**63), id="largesize-past-end"),
        pytest.param(struct.pack(">I4s", 4096, b"free"), id="size-past-end"),
        pytest.param(b"\x00\x00\x00", id="partial-header"),
    ],
)
def test_box_sizes_that_cannot_be_true_are_refused(tail: bytes) -> None:
    error = refusal(handmade_video() + tail)

    assert isinstance(error, InvalidInput)
    assert error.code == "invalid_video"


def test_a_handmade_file_with_a_video_track_is_read() -> None:
    info = inspect(handmade_video(timescale=600, duration=1800))

    assert info == VideoInfo(container="mp4", duration_seconds=3.0, width=320, height=240)


def test_a_64_bit_movie_header_is_read() -> None:
    info = inspect(handmade_video(mvhd_version=1, timescale=90_000, duration=90_000 * 7))

    assert info.duration_seconds == pytest.approx(7.0)


def test_a_video_track_without_a_track_header_has_no_size() -> None:
    info = inspect(handmade_video(with_tkhd=False))

    assert (info.width, info.height) == (None, None)


def test_a_file_with_a_moov_but_no_video_track_is_refused() -> None:
    error = refusal(handmade_video(handler=b"soun"))

    assert isinstance(error, InvalidInput)
    assert error.code == "no_video_track"
    assert error.details["field"] == "video"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(ftyp() + box(b"free", bytes(32)), id="no-moov"),
        pytest.param(ftyp() + box(b"moov", box(b"trak")), id="no-mvhd"),
        pytest.param(handmade_video(timescale=0), id="zero-timescale"),
        pytest.param(handmade_video(duration=0xFFFF_FFFF), id="unknown-duration"),
        pytest.param(handmade_video(mvhd_version=2), id="unknown-mvhd-version"),
        pytest.param(ftyp() + box(b"moov", box(b"mvhd", b"\x00\x00")), id="mvhd-cut-short"),
    ],
)
def test_a_file_without_a_readable_movie_header_is_refused(data: bytes) -> None:
    error = refusal(data)

    assert isinstance(error, InvalidInput)
    assert error.code == "invalid_video"


def _nested(kind: bytes, depth: int) -> bytes:
    # Headers built at once: wrapping one box at a time would copy quadratically.
    return b"".join(struct.pack(">I4s", 8 * (depth - level), kind) for level in range(depth))


_EMPTY_BOX = struct.pack(">I4s", 8, b"free")


@pytest.mark.parametrize(
    ("data", "code"),
    [
        pytest.param(
            ftyp() + box(b"moov", mvhd(), _EMPTY_BOX * 100_000), "invalid_video", id="flat"
        ),
        pytest.param(ftyp() + _nested(b"moov", 100_000), "invalid_video", id="nested-moov"),
        pytest.param(
            ftyp() + box(b"moov", mvhd(), _nested(b"trak", 100_000)),
            "no_video_track",
            id="nested-trak",
        ),
    ],
)
def test_a_file_of_100_000_tiny_boxes_is_refused_quickly(data: bytes, code: str) -> None:
    started = time.perf_counter()

    error = refusal(data)

    assert time.perf_counter() - started < 0.5
    assert error.code == code
