"""Open any image a user is likely to have and turn it into plain 8-bit RGB.

One place decides what counts as an image, so training, evaluation and prediction
treat files the same way:

* hidden files and known non-image files are ignored without a word;
* files with an image extension must decode, or they are reported with a reason;
* files with another extension are used if Pillow recognises their content.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pocketvision.errors import ImageError, first_line

IMAGE_EXTENSIONS = frozenset(
    {".jpg", ".jpeg", ".jpe", ".png", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".ppm", ".pgm"}
)
# Files that live in photo folders but are never images.
IGNORED_NAMES = frozenset({"thumbs.db", "desktop.ini", ".ds_store", "icon\r"})
IGNORED_EXTENSIONS = frozenset(
    {".txt", ".md", ".json", ".csv", ".xml", ".ini", ".db", ".log", ".py", ".zip",
     ".pdf", ".doc", ".docx", ".mp4", ".mov", ".avi", ".mkv", ".aae", ".xmp"}
)
# Alpha is composited onto white: transparent product shots then look like photos
# on a white table, which is what a camera would have seen.
ALPHA_BACKGROUND = (255, 255, 255)


def is_ignored(path: Path) -> bool:
    """True for hidden files and files that are obviously not images."""
    name = path.name.lower()
    return (
        path.name.startswith(".")
        or name in IGNORED_NAMES
        or path.suffix.lower() in IGNORED_EXTENSIONS
    )


def has_image_extension(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_EXTENSIONS


def is_image_name(path: Path) -> bool:
    """Named like an image and not a hidden or ignored file (decides what a folder
    given to predict, or a studio class, contains)."""
    return has_image_extension(path) and not is_ignored(path)


def load_rgb(path: Path | str, at_least: int | None = None) -> Image.Image:
    """Decode a file fully and return it as an RGB image, upright per EXIF.

    Args:
        path: the file.
        at_least: if given, a JPEG may be decoded at a reduced scale (libjpeg's DCT
            scaling, 1/2 to 1/8) as long as both sides stay >= this many pixels.
            A 12-megapixel photo then decodes about 7x faster; the preprocessing
            resize that follows brings every image to the same size anyway.

    Raises:
        ImageError: the file is empty, truncated, or not an image; the message
            names the path and the reason.
    """
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            raise ImageError(f"{path}: empty file (0 bytes)")
        with Image.open(path) as image:
            if at_least is not None and image.format == "JPEG":
                image.draft(image.mode, (at_least, at_least))
            image.load()  # decode now, so truncation is found here
            return to_rgb(image)
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{path}: not an image Pillow can read") from None
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageError(f"{path}: cannot decode ({first_line(error, 160)})") from None
    except Image.DecompressionBombError as error:
        raise ImageError(f"{path}: too large to decode safely ({first_line(error, 160)})") from None


def to_rgb(image: Image.Image) -> Image.Image:
    """Convert any Pillow mode to 8-bit RGB, applying EXIF orientation first."""
    image = ImageOps.exif_transpose(image)
    if image.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        image = _high_bit_depth_to_l(image)
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, ALPHA_BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    return image.convert("RGB")


def _high_bit_depth_to_l(image: Image.Image) -> Image.Image:
    """Scale 16/32-bit grayscale to 8 bits (Pillow's own convert clips instead)."""
    pixels = np.asarray(image, dtype=np.float64)
    top = 65535.0 if image.mode.startswith("I;16") or pixels.max() > 255 else 255.0
    scaled = np.clip(np.rint(pixels * (255.0 / top)), 0, 255).astype(np.uint8)
    return Image.fromarray(scaled, mode="L")


