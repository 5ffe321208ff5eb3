"""Turn what a browser sends (captured frames, photos, videos) into JPEG samples.

Everything is decoded and re-encoded: a sample on disk is always a plain JPEG
we wrote, whatever bytes arrived (a 169-megapixel PNG, a GIF+HTML polyglot).
These functions are slow and CPU-bound: the studio runs them in worker threads,
never on the server's event loop.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path

from pocketvision.data.images import to_rgb
from pocketvision.errors import LiveError, PocketVisionError
from pocketvision.live.sources import frames, to_jpeg

MAX_PIXELS = 40_000_000  # a 40-megapixel photo; larger pictures are refused unread
VIDEO_SUFFIXES = (".mp4", ".mov", ".avi", ".webm", ".mkv", ".m4v")
VIDEO_EVERY = 5  # keep every 5th frame of an uploaded video
VIDEO_MAX_FRAMES = 300


def as_jpeg(data: bytes, what: str) -> bytes:
    """The picture in ``data`` as an upright RGB JPEG; LiveError naming ``what``
    when it is not a picture or is larger than MAX_PIXELS."""
    from PIL import Image, ImageOps

    try:
        picture = Image.open(io.BytesIO(data))
        width, height = picture.size  # read from the header, before any decoding
    except Exception:
        raise LiveError(f"{what} is not an image or a video pocketvision can read") from None
    if width * height > MAX_PIXELS:
        raise LiveError(f"{what} is {width}x{height} pixels; the limit is "
                        f"{MAX_PIXELS // 1_000_000} megapixels: make it smaller first")
    try:
        image = to_rgb(ImageOps.exif_transpose(picture))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=92)
    except Exception:
        raise LiveError(f"{what} is not an image pocketvision can read") from None
    return out.getvalue()


def kept_jpeg(data: bytes, what: str) -> bytes:
    """``data`` itself when it is a JPEG that decodes whole within MAX_PIXELS (a picture
    a page made: kept byte for byte, so its content hash stays the page's), else the
    picture re-encoded by as_jpeg (or LiveError)."""
    from PIL import Image

    try:
        picture = Image.open(io.BytesIO(data))
        if picture.format == "JPEG" and picture.width * picture.height <= MAX_PIXELS:
            picture.load()
            return data
    except Exception:
        pass  # as_jpeg says what is wrong with it
    return as_jpeg(data, what)


def is_video(filename: str) -> bool:
    return Path(filename).suffix.lower() in VIDEO_SUFFIXES


def video_jpegs(filename: str, data: bytes) -> list[bytes]:
    """Every VIDEO_EVERY-th frame of an uploaded video, as JPEGs."""

    with tempfile.TemporaryDirectory(prefix="pocketvision-video-") as folder:
        path = Path(folder) / f"upload{Path(filename).suffix.lower()}"
        path.write_bytes(data)
        try:
            return [to_jpeg(f.rgb) for f in frames(str(path), every=VIDEO_EVERY,
                                                   limit=VIDEO_MAX_FRAMES)]
        except PocketVisionError:
            raise LiveError(f"{filename}: not a video pocketvision can read") from None


def prepared_uploads(payloads: list[tuple[str, bytes]]) -> tuple[list[bytes], list[list[bytes]]]:
    """(photo JPEGs, one list of frame JPEGs per video), or LiveError for the first
    bad file: an upload is saved whole or not at all."""
    photos, videos = [], []
    for filename, data in payloads:
        if is_video(filename):
            videos.append(video_jpegs(filename, data))
        else:
            photos.append(as_jpeg(data, filename))
    return photos, videos
