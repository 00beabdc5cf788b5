"""Turn an uploaded photo into a clean JPEG and its thumbnail, or refuse it with a stable code."""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from typing import Final, Literal

from PIL import Image, ImageOps

from catalog.errors import InvalidInput, PayloadTooLarge, UnsupportedMedia

ImageType = Literal["jpeg", "png", "webp"]

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_PILLOW_FORMATS: Final[dict[ImageType, str]] = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
_ALPHA_MODES: Final = frozenset({"RGBA", "RGBa", "LA", "La", "PA"})
_JPEG_QUALITY: Final = 85
# Pillow raises these (not one common base) when a file's bytes do not decode.
_UNDECODABLE: Final = (OSError, SyntaxError, ValueError, EOFError, struct.error)


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """A photo ready to store: metadata-free full size and thumbnail, encoded as `extension`."""

    image_type: ImageType  # what the upload was, by its magic bytes
    width: int  # of `full`
    height: int
    full: bytes
    thumb: bytes
    extension: str


def detect_image_type(data: bytes) -> ImageType | None:
    """The type named by the leading bytes; filenames and client content types are never trusted."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def process_photo(
    data: bytes, *, max_bytes: int, max_pixels: int, max_side: int, thumb_side: int
) -> ProcessedImage:
    """Check an upload by its content and re-encode it as an upright JPEG plus a thumbnail."""
    if not data:
        raise InvalidInput("The photo is empty.", code="photo_empty")
    if len(data) > max_bytes:
        raise PayloadTooLarge(
            "The photo is too large.", code="photo_too_large", max_bytes=max_bytes
        )
    image_type = detect_image_type(data)
    if image_type is None:
        raise UnsupportedMedia("Photos must be JPEG, PNG or WebP.", code="photo_type_unsupported")

    with _open_within_limits(data, image_type=image_type, max_pixels=max_pixels) as source:
        upright = _decode_upright(source, max_side=max_side)
    full = _pixels_on_white(upright)
    full.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    thumb = full.copy()
    thumb.thumbnail((thumb_side, thumb_side), Image.Resampling.LANCZOS)
    return ProcessedImage(
        image_type=image_type,
        width=full.width,
        height=full.height,
        full=_encode_jpeg(full),
        thumb=_encode_jpeg(thumb),
        extension="jpg",
    )


def _open_within_limits(data: bytes, *, image_type: ImageType, max_pixels: int) -> Image.Image:
    """Read only the header, so a decompression bomb is refused before its pixels exist."""
    expected_format = _PILLOW_FORMATS[image_type]
    try:
        # Only the decoder the magic bytes named gets to look at the data.
        image = Image.open(io.BytesIO(data), formats=[expected_format])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own global limit fired first (the warning arrives as an
        # exception when warnings are configured as errors).
        raise _too_many_pixels(max_pixels) from exc
    except _UNDECODABLE as exc:
        raise _corrupt() from exc
    if image.format != expected_format:
        image.close()
        raise _corrupt()
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _too_many_pixels(max_pixels)
    return image


def _decode_upright(source: Image.Image, *, max_side: int) -> Image.Image:
    """Decode the first frame (animations are not kept) and turn it as the camera's EXIF says."""
    # JPEG can decode at 1/2, 1/4 or 1/8 scale for almost nothing; keeping twice the
    # target size leaves the final resampling enough pixels to stay sharp.
    target_width, target_height = _fit(source.size, max_side)
    source.draft(None, (target_width * 2, target_height * 2))
    try:
        return ImageOps.exif_transpose(source)
    except _UNDECODABLE as exc:
        raise _corrupt() from exc


def _pixels_on_white(image: Image.Image) -> Image.Image:
    """A fresh RGB image holding only the pixels, so no EXIF, GPS, XMP, ICC or comment survives."""
    if image.mode.startswith("I;16"):
        # 16-bit grey would clip to white if converted directly.
        image = image.convert("I").point(lambda value: value / 256).convert("L")
    has_alpha = image.mode in _ALPHA_MODES or "transparency" in image.info
    pixels = image.convert("RGBA" if has_alpha else "RGB")
    # JPEG has no transparency; white is what a listing page shows behind a photo.
    canvas = Image.new("RGB", pixels.size, "white")
    canvas.paste(pixels, mask=pixels.getchannel("A") if has_alpha else None)
    return canvas


def _fit(size: tuple[int, int], side: int) -> tuple[int, int]:
    """`size` shrunk (never grown) so its longest side is at most `side`."""
    width, height = size
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encode_jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=_JPEG_QUALITY, optimize=True, progressive=True)
    return buffer.getvalue()


def _too_many_pixels(max_pixels: int) -> InvalidInput:
    return InvalidInput(
        "The photo has too many pixels.", code="photo_too_many_pixels", max_pixels=max_pixels
    )


def _corrupt() -> InvalidInput:
    return InvalidInput("The photo cannot be read; it may be damaged.", code="photo_corrupt")
