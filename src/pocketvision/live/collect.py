"""``pocketvision collect``: one capture burst from a camera or a video file into
``PROJECT/samples/<class>/<session>-<n>.jpg`` (one session id per run)."""

from __future__ import annotations

from pathlib import Path

from pocketvision.config import check_range
from pocketvision.errors import LiveError
from pocketvision.live.project import Project, new_session_id
from pocketvision.live.sources import frames, to_jpeg
from pocketvision.progress import progress_bar
from pocketvision.stopping import stop_point


def collect(project_dir: Path, label: str, source: str = "0", count: int | None = 40,
            every: int = 1) -> list[Path]:
    """Save up to ``count`` frames (every ``every``-th) of ``source`` as class ``label``."""
    check_range("--every", every, low=1)
    if count is not None:
        check_range("--count", count, low=1)
    try:
        project = Project(project_dir).create()
    except OSError as error:
        raise LiveError(f"cannot write to {project_dir} ({error.strerror}); "
                        "choose a folder you can write to") from None
    project.add_class(label)  # checks the name before the camera opens
    session, saved = new_session_id(), []
    with progress_bar(f"Capturing {label}", count or 0) as advance:
        for frame in frames(source, every=every, limit=count):
            stop_point()
            saved.append(project.save_sample(label, to_jpeg(frame.rgb), session, len(saved)))
            advance()
    return saved
