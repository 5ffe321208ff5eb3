"""Frames from a camera or a video file, through OpenCV.

``--source 0`` is the first camera; ``--source clip.mp4`` replays a file, so a
recorded clip drives ``control`` and ``collect`` exactly like a camera. Frames
come out as RGB arrays with their time in seconds (the file's own timeline for
videos, the wall clock for cameras).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from pocketvision.errors import LiveError, MissingExtraError
from pocketvision.native_output import silenced


@dataclass
class Frame:
    index: int
    t: float
    rgb: np.ndarray  # (H, W, 3) uint8
    arrived: float  # time.perf_counter() when it was read: for latency


def _cv2():
    try:
        import cv2
    except ImportError:
        raise MissingExtraError.needing("reading cameras and videos needs OpenCV", "live") from None
    return cv2


def frames(source: str | int, every: int = 1, limit: int | None = None) -> Iterator[Frame]:
    """Yield every ``every``-th frame of ``source`` (camera index or video path)."""
    capture, is_camera = _open(source)
    # a camera's frames are timed by the clock, a video's by its own timeline
    fps = capture.get(_cv2().CAP_PROP_FPS) or 30.0
    started, index, produced = time.perf_counter(), 0, 0
    try:
        while limit is None or produced < limit:
            ok, bgr = capture.read()
            arrived = time.perf_counter()
            if not ok:  # the end of a video, or a camera that went away
                if index == 0:
                    raise LiveError(f"{source}: no frames could be read (broken video?)")
                return
            if index % every == 0:
                t = arrived - started if is_camera else index / fps
                yield Frame(index, t, _cv2().cvtColor(bgr, _cv2().COLOR_BGR2RGB), arrived)
                produced += 1
            index += 1
    finally:
        capture.release()


def _open(source: str | int):
    """(an open cv2.VideoCapture, whether it is a camera), or a LiveError saying why not."""
    cv2 = _cv2()
    is_camera = isinstance(source, int) or str(source).isdigit()
    if not is_camera and not Path(source).is_file():
        raise LiveError(f"{source}: no such video file (or pass a camera index like 0)")
    with silenced():  # FFmpeg prints its own complaints about broken files
        capture = cv2.VideoCapture(int(source) if is_camera else str(source))
    if not capture.isOpened():
        what = f"camera {source}" if is_camera else f"video {source}"
        raise LiveError(f"cannot open {what}: " + ("is a camera attached and free?" if is_camera
                                                   else "not a video OpenCV can read"))
    return capture, is_camera


def to_jpeg(rgb: np.ndarray, quality: int = 92) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
