"""Helpers for the live tests: videos and fake-camera files made from real images,
and a pocketvision server running in a thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

FRAME_SIZE = (640, 480)


def camera_frame(image_path: Path) -> np.ndarray:
    """The picture scaled to the frame's height, centred on black: the model's
    centre crop sees exactly the picture."""
    width, height = FRAME_SIZE
    picture = Image.open(image_path).convert("RGB").resize((height, height), Image.Resampling.BICUBIC)
    frame = Image.new("RGB", FRAME_SIZE)
    frame.paste(picture, ((width - height) // 2, 0))
    return np.asarray(frame)


MARKER = 24  # the side of the corner block that numbers a clip's segment (outside the model's crop)


def segment_clip(path: Path, segments: list[list[Path]], frames_per_segment: int, fps: int = 15) -> Path:
    """A y4m the fake camera loops: each segment's pictures in turn (a new picture
    every 5 frames, as a hand moves), ``frames_per_segment`` frames each. A grey block
    in the top-left corner numbers the segment (grey 40 + 50 k), so a page can tell
    when segment k appears on screen; the model's centre crop never sees it."""
    frames = []
    for k, pictures in enumerate(segments):
        for i in range(frames_per_segment):
            frame = camera_frame(pictures[(i // 5) % len(pictures)]).copy()
            frame[:MARKER, :MARKER] = 40 + 50 * k
            frames.append(frame)
    return write_y4m(path, frames, fps)


def write_video(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, FRAME_SIZE)
    for rgb in frames:
        writer.write(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    """A YUV4MPEG2 (I420) file: what Chromium's fake camera plays, in a loop."""
    width, height = FRAME_SIZE
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for rgb in frames:
            r, g, b = (rgb[..., k].astype(np.float32) for k in range(3))
            y = 0.299 * r + 0.587 * g + 0.114 * b
            u = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
            v = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
            out.write(b"FRAME\n")
            out.write(np.clip(y, 0, 255).astype(np.uint8).tobytes())
            for plane in (u, v):
                half = plane.reshape(height // 2, 2, width // 2, 2).mean(axis=(1, 3))
                out.write(np.clip(half, 0, 255).astype(np.uint8).tobytes())
    return path


def studio_project(project: Path, fashion3: Path, per_class: int) -> Path:
    """A studio project of two classes, ``up`` (sneakers) and ``down`` (trousers), with
    ``per_class`` real training pictures each."""
    for name, label in (("up", "sneaker"), ("down", "trouser")):
        folder = project / "samples" / name
        folder.mkdir(parents=True)
        for source in sorted((fashion3 / "train" / label).iterdir())[:per_class]:
            (folder / source.name).write_bytes(source.read_bytes())
    return project


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running(app):
    """Serve a FastAPI app on 127.0.0.1 in a thread; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
