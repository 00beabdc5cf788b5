"""One placeholder photo per top-level category, drawn with Pillow.

Shapes and gradients only: no text, so nothing depends on a CJK font being installed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageDraw

from catalog.seed.taxonomy import TAXONOMY

PHOTO_SIDE = 800
# The same as the default thumbnail side of uploaded photos, so seeded cards look alike.
THUMB_SIDE = 360
SEED_DIR = "seed"

# (top colour, bottom colour) per top level, in taxonomy order; wraps if the tree grows.
_PALETTE: tuple[tuple[tuple[int, int, int], tuple[int, int, int]], ...] = (
    ((255, 183, 77), (239, 108, 0)),
    ((129, 212, 250), (2, 119, 189)),
    ((176, 190, 197), (55, 71, 79)),
    ((165, 214, 167), (46, 125, 50)),
    ((244, 143, 177), (194, 24, 91)),
    ((248, 187, 208), (173, 20, 87)),
    ((255, 224, 130), (191, 144, 0)),
    ((255, 204, 188), (216, 67, 21)),
    ((128, 203, 196), (0, 105, 92)),
    ((179, 157, 219), (69, 39, 160)),
    ((188, 170, 164), (78, 52, 46)),
    ((197, 225, 165), (85, 139, 47)),
    ((255, 241, 118), (130, 119, 23)),
    ((144, 202, 249), (21, 101, 192)),
    ((255, 171, 145), (191, 54, 12)),
    ((206, 147, 216), (106, 27, 154)),
)


class PlaceholderPhoto(NamedTuple):
    # Relative to the media root, with forward slashes, as GoodsPhoto stores paths.
    path: str
    thumb_path: str
    width: int
    height: int


def _draw(index: int, side: int) -> Image.Image:
    top, bottom = _PALETTE[index % len(_PALETTE)]
    mask = Image.linear_gradient("L").resize((side, side))
    image = Image.composite(
        Image.new("RGB", (side, side), bottom), Image.new("RGB", (side, side), top), mask
    )
    draw = ImageDraw.Draw(image)
    light = (255, 255, 255)
    a, b = side // 4, side * 3 // 4
    # A different shape per category so neighbouring cards are told apart at a glance.
    match index % 4:
        case 0:
            draw.ellipse((a, a, b, b), fill=light)
        case 1:
            draw.rounded_rectangle((a, a, b, b), radius=side // 12, fill=light)
        case 2:
            draw.polygon([(side // 2, a), (b, b), (a, b)], fill=light)
        case _:
            draw.polygon(
                [(side // 2, a), (b, side // 2), (side // 2, b), (a, side // 2)], fill=light
            )
    inner = side // 10
    draw.ellipse(
        (side // 2 - inner, side // 2 - inner, side // 2 + inner, side // 2 + inner),
        fill=bottom,
    )
    return image


def _save_atomically(image: Image.Image, target: Path) -> None:
    # Written beside the target and renamed, so a crash never leaves a half file that the
    # next run would mistake for a finished one.
    partial = target.with_name(f".{target.name}.partial")
    image.save(partial, format="JPEG", quality=85, optimize=True)
    os.replace(partial, target)


def ensure_placeholder_photos(media_root: Path) -> dict[str, PlaceholderPhoto]:
    """Make `seed/<slug>.jpg` and `seed/<slug>_thumb.jpg` under `media_root` for every
    top-level category, skipping files that exist; maps each top-level slug to its photo."""
    folder = media_root / SEED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    photos: dict[str, PlaceholderPhoto] = {}
    for index, top in enumerate(TAXONOMY):
        main = folder / f"{top.slug}.jpg"
        thumb = folder / f"{top.slug}_thumb.jpg"
        if not main.exists():
            _save_atomically(_draw(index, PHOTO_SIDE), main)
        if not thumb.exists():
            _save_atomically(_draw(index, THUMB_SIDE), thumb)
        with Image.open(main) as opened:
            width, height = opened.size
        photos[top.slug] = PlaceholderPhoto(
            path=f"{SEED_DIR}/{main.name}",
            thumb_path=f"{SEED_DIR}/{thumb.name}",
            width=width,
            height=height,
        )
    return photos
