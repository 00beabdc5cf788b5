"""Uploaded photos: content checks, metadata stripping, resizing and the file store."""

from __future__ import annotations

import io
import re
import struct
import time
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image

from catalog.errors import CatalogError, InvalidInput, PayloadTooLarge, UnsupportedMedia
from catalog.media.images import ProcessedImage, detect_image_type, process_photo
from catalog.media.store import MediaStore

_PILLOW_FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_SECRET_MAKE = "SpyCam-7731"


def encode(image: Image.Image, image_type: str = "png", **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, _PILLOW_FORMATS.get(image_type, image_type), **params)
    return buffer.getvalue()


def make_photo(
    *, size: tuple[int, int] = (120, 80), image_type: str = "jpeg", **params: Any
) -> bytes:
    # Noise, so lossy encoders keep a realistic amount of data.
    image = Image.effect_noise(size, 40).convert("RGB")
    return encode(image, image_type, **params)


def exif_with_gps(*, orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = _SECRET_MAKE
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (39.0, 54.0, 15.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (116.0, 23.0, 29.0)
    return exif


def process(
    data: bytes,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    max_pixels: int = 40_000_000,
    max_side: int = 1600,
    thumb_side: int = 360,
) -> ProcessedImage:
    return process_photo(
        data, max_bytes=max_bytes, max_pixels=max_pixels, max_side=max_side, thumb_side=thumb_side
    )


def open_jpeg(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    image.load()
    return image


def png_header_only(*, width: int, height: int) -> bytes:
    """A valid PNG claiming `width` x `height` 1-bit grey with a token IDAT: a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    rows = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )


def refusal(
    error: type[CatalogError], data: bytes, *, status: int, code: str, **limits: int
) -> CatalogError:
    with pytest.raises(error) as caught:
        process(data, **limits)
    assert caught.value.status_code == status
    assert caught.value.code == code
    return caught.value


# Accepted types and the output


@pytest.mark.parametrize("image_type", ["jpeg", "png", "webp"])
def test_each_accepted_type_comes_out_as_jpeg_of_the_same_size(image_type: str) -> None:
    result = process(make_photo(size=(120, 80), image_type=image_type))

    assert result.image_type == image_type
    assert result.extension == "jpg"
    assert (result.width, result.height) == (120, 80)
    full = open_jpeg(result.full)
    assert (full.size, full.mode) == ((120, 80), "RGB")
    assert open_jpeg(result.thumb).size == (120, 80)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\xff\xd8\xff\xe0rest", "jpeg"),
        (b"\x89PNG\r\n\x1a\nrest", "png"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "webp"),
        (b"RIFF\x00\x00\x00\x00WAVEfmt ", None),
        (b"GIF89a", None),
        (b"%PDF-1.7", None),
        (b"\xff\xd8", None),
        (b"", None),
    ],
)
def test_type_is_detected_by_magic_bytes(data: bytes, expected: str | None) -> None:
    assert detect_image_type(data) == expected


# Metadata and orientation


@pytest.mark.parametrize("image_type", ["jpeg", "png", "webp"])
def test_exif_with_gps_does_not_survive(image_type: str) -> None:
    data = make_photo(image_type=image_type, exif=exif_with_gps().tobytes())
    # The input really carries a location, or this test proves nothing.
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(ExifTags.IFD.GPSInfo)

    result = process(data)

    for output in (result.full, result.thumb):
        assert not open_jpeg(output).getexif()
        assert b"Exif" not in output
        assert _SECRET_MAKE.encode() not in output


def test_jpeg_comment_xmp_and_icc_profile_do_not_survive() -> None:
    data = make_photo(
        image_type="jpeg",
        comment=b"seller lives at 12 Example Road",
        xmp=b"<x:xmpmeta>secret-xmp</x:xmpmeta>",
        icc_profile=b"fake-icc-profile",
    )

    result = process(data)

    out = open_jpeg(result.full)
    assert not {"comment", "xmp", "icc_profile", "exif"} & out.info.keys()
    for secret in (b"Example Road", b"secret-xmp", b"fake-icc-profile", b"ns.adobe.com"):
        assert secret not in result.full


@pytest.mark.parametrize("image_type", ["jpeg", "png", "webp"])
def test_orientation_6_turns_the_photo_upright(image_type: str) -> None:
    # Red on the left, blue on the right; orientation 6 means "turn 90° clockwise to view".
    image = Image.new("RGB", (40, 20), "blue")
    image.paste("red", (0, 0, 20, 20))
    data = encode(image, image_type, exif=exif_with_gps(orientation=6).tobytes(), quality=95)

    result = process(data)

    assert (result.width, result.height) == (20, 40)
    out = open_jpeg(result.full).convert("RGB")
    top_r, _, top_b = out.getpixel((10, 5))  # type: ignore[misc]
    bottom_r, _, bottom_b = out.getpixel((10, 35))  # type: ignore[misc]
    assert top_r > 200 > top_b
    assert bottom_b > 200 > bottom_r


# Sizes


def test_large_photo_is_scaled_to_max_side_and_thumb_side() -> None:
    result = process(make_photo(size=(3000, 1500)), max_side=1000, thumb_side=200)

    assert (result.width, result.height) == (1000, 500)
    assert open_jpeg(result.full).size == (1000, 500)
    assert open_jpeg(result.thumb).size == (200, 100)


def test_tall_photo_is_limited_by_its_height() -> None:
    result = process(make_photo(size=(600, 2400), image_type="png"), max_side=800, thumb_side=100)

    assert open_jpeg(result.full).size == (200, 800)
    assert open_jpeg(result.thumb).size == (25, 100)


def test_small_photo_is_never_upscaled() -> None:
    result = process(make_photo(size=(50, 30)), max_side=1600, thumb_side=360)

    assert open_jpeg(result.full).size == (50, 30)
    assert open_jpeg(result.thumb).size == (50, 30)


# Modes: transparency, palettes, 16-bit, animation


def _transparent_rgba() -> Image.Image:
    image = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    image.paste((0, 0, 255, 255), (0, 0, 20, 40))
    return image


def _transparent_palette() -> Image.Image:
    image = Image.new("P", (40, 40), 0)
    image.putpalette([0, 0, 0, 0, 0, 255] + [0] * 762)
    image.paste(1, (0, 0, 20, 40))
    image.info["transparency"] = 0
    return image


def _transparent_grey() -> Image.Image:
    image = Image.new("LA", (40, 40), (0, 0))
    image.paste((0, 255), (0, 0, 20, 40))
    return image


@pytest.mark.parametrize(
    "make_image",
    [_transparent_rgba, _transparent_palette, _transparent_grey],
    ids=["rgba", "palette", "grey-alpha"],
)
@pytest.mark.parametrize("image_type", ["png", "webp"])
def test_transparent_areas_become_white(make_image: Any, image_type: str) -> None:
    image: Image.Image = make_image()
    params: dict[str, Any] = {"lossless": True} if image_type == "webp" else {}
    if image.mode == "P" and image_type == "png":
        params["transparency"] = 0

    result = process(encode(image, image_type, **params))

    out = open_jpeg(result.full).convert("RGB")
    assert all(channel > 240 for channel in out.getpixel((30, 20)))  # type: ignore[union-attr]
    assert max(out.getpixel((10, 20))) < 255  # type: ignore[arg-type]


def test_opaque_palette_png_is_accepted() -> None:
    image = Image.effect_noise((64, 64), 40).convert("RGB").convert("P")

    result = process(encode(image, "png"))

    assert open_jpeg(result.full).size == (64, 64)


def test_sixteen_bit_grey_keeps_its_tone() -> None:
    image = Image.new("I;16", (32, 32), 40000)  # about 61% grey

    result = process(encode(image, "png"))

    red, green, blue = open_jpeg(result.full).convert("RGB").getpixel((16, 16))  # type: ignore[misc]
    assert 140 < red < 170
    assert red == green == blue


@pytest.mark.parametrize("image_type", ["png", "webp"])
def test_animation_keeps_only_its_first_frame(image_type: str) -> None:
    first = Image.new("RGB", (30, 30), "red")
    second = Image.new("RGB", (30, 30), "blue")
    data = encode(first, image_type, save_all=True, append_images=[second])
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2

    result = process(data)

    red, _, blue = open_jpeg(result.full).getpixel((15, 15))  # type: ignore[misc]
    assert red > 200 > blue


# Refusals


@pytest.mark.parametrize(
    "data",
    [
        b"just some text, named holiday.jpg by the client\n",
        encode(Image.new("RGB", (10, 10)), "GIF"),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        encode(Image.new("RGB", (10, 10)), "BMP"),
    ],
    ids=["text", "gif", "pdf", "bmp"],
)
def test_other_content_is_refused_as_unsupported(data: bytes) -> None:
    refusal(UnsupportedMedia, data, status=415, code="photo_type_unsupported")


def test_over_max_bytes_is_refused_before_anything_else() -> None:
    data = make_photo(size=(200, 200))

    refusal(PayloadTooLarge, data, status=413, code="photo_too_large", max_bytes=len(data) - 1)
    # The size is checked before the type, so even junk gets the size answer.
    refusal(PayloadTooLarge, b"x" * 101, status=413, code="photo_too_large", max_bytes=100)


def test_exactly_max_bytes_is_accepted() -> None:
    data = make_photo()

    assert process(data, max_bytes=len(data)).width == 120


def test_empty_upload_is_refused() -> None:
    refusal(InvalidInput, b"", status=422, code="photo_empty")


def test_pixel_bomb_is_refused_fast_without_decoding() -> None:
    data = png_header_only(width=50_000, height=50_000)
    assert len(data) < 200

    started = time.perf_counter()
    refusal(InvalidInput, data, status=422, code="photo_too_many_pixels")
    assert time.perf_counter() - started < 1.0


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_pillow_bomb_warning_raised_as_error_is_still_a_pixel_refusal() -> None:
    # 12,000 x 12,000 is past Pillow's warning threshold but short of its hard limit.
    data = png_header_only(width=12_000, height=12_000)

    refusal(InvalidInput, data, status=422, code="photo_too_many_pixels")


def test_photo_over_the_configured_pixel_limit_is_refused() -> None:
    data = make_photo(size=(100, 100), image_type="png")

    error = refusal(InvalidInput, data, status=422, code="photo_too_many_pixels", max_pixels=9_999)
    assert error.details == {"max_pixels": 9_999}
    assert process(data, max_pixels=10_000).width == 100


def test_truncated_jpeg_is_refused_as_corrupt() -> None:
    data = make_photo(size=(400, 300))

    refusal(InvalidInput, data[: len(data) // 2], status=422, code="photo_corrupt")


@pytest.mark.parametrize("image_type", ["png", "webp"])
def test_truncated_png_and_webp_are_refused_as_corrupt(image_type: str) -> None:
    data = make_photo(size=(400, 300), image_type=image_type)

    refusal(InvalidInput, data[: len(data) // 2], status=422, code="photo_corrupt")


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4,
        b"\xff\xd8\xff" + b"\x00garbage" * 50,
        b"RIFF\x20\x00\x00\x00WEBP" + b"garbage!" * 4,
    ],
    ids=["png", "jpeg", "webp"],
)
def test_right_magic_with_garbage_after_it_is_refused_as_corrupt(data: bytes) -> None:
    refusal(InvalidInput, data, status=422, code="photo_corrupt")


# The file store


_STORED = re.compile(r"goods/([0-9a-f]{2})/([0-9a-f]{32})\.jpg")


def test_store_saves_under_random_sharded_names(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)

    first = store.save(b"one", extension="jpg", folder="goods")
    second = store.save(b"one", extension="jpg", folder="goods")

    assert first != second
    for relative in (first, second):
        match = _STORED.fullmatch(relative)
        assert match is not None, relative
        assert match.group(2).startswith(match.group(1))
        assert (tmp_path / relative).read_bytes() == b"one"
        assert store.absolute(relative) == (tmp_path / relative).resolve()
    leftovers = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".jpg"]
    assert leftovers == []


def test_store_delete_removes_the_file_and_ignores_a_missing_one(tmp_path: Path) -> None:
    store = MediaStore(tmp_path)
    relative = store.save(b"photo", extension="jpg", folder="goods")

    store.delete(relative)
    store.delete(relative)

    assert not (tmp_path / relative).exists()


@pytest.mark.parametrize("folder", ["", "../goods", "goods/ab", "goods.", "/srv", "..", "好物"])
def test_store_refuses_folders_that_are_not_simple_names(tmp_path: Path, folder: str) -> None:
    with pytest.raises(ValueError, match="folder"):
        MediaStore(tmp_path / "media").save(b"x", extension="jpg", folder=folder)
    assert not (tmp_path / "media").exists()


@pytest.mark.parametrize("extension", ["", "../jpg", "j/pg", ".jpg", "JPG"])
def test_store_refuses_odd_extensions(tmp_path: Path, extension: str) -> None:
    with pytest.raises(ValueError, match="extension"):
        MediaStore(tmp_path).save(b"x", extension=extension, folder="goods")


@pytest.mark.parametrize(
    "relative", ["../outside.txt", "goods/../../outside.txt", "", ".", "goods/..", "a\\..\\b"]
)
def test_store_refuses_paths_outside_its_root(tmp_path: Path, relative: str) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep me")
    store = MediaStore(tmp_path / "media")

    with pytest.raises(ValueError, match="media path"):
        store.delete(relative)
    with pytest.raises(ValueError, match="media path"):
        store.absolute(relative)
    assert outside.read_bytes() == b"keep me"


def test_store_refuses_absolute_paths_and_symlinks_out_of_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"keep me")
    root = tmp_path / "media"
    (root / "goods").mkdir(parents=True)
    (root / "goods" / "link.jpg").symlink_to(outside)
    store = MediaStore(root)

    for relative in (str(outside), "goods/link.jpg"):
        with pytest.raises(ValueError, match="media path"):
            store.delete(relative)
    assert outside.read_bytes() == b"keep me"
