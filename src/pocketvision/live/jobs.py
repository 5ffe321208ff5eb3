"""One slow job at a time (training, exporting) in a background thread, with its
progress readable from the studio page while it runs."""

from __future__ import annotations

import threading
import traceback
from typing import Callable

from pocketvision.errors import PocketVisionError
from pocketvision.progress import observe


class Job:
    """State of the latest job: idle | running | done | failed, with progress."""

    def __init__(self):
        self._lock = threading.Lock()
        self._status = {"kind": None, "state": "idle", "phase": "", "done": 0, "total": 0,
                        "message": "", "result": None}

    def status(self) -> dict:
        with self._lock:
            return dict(self._status)

    def start(self, kind: str, work: Callable[[], dict]) -> bool:
        """Run ``work`` in a thread; False if a job is already running."""
        with self._lock:
            if self._status["state"] == "running":
                return False
            self._status = {"kind": kind, "state": "running", "phase": "Starting", "done": 0,
                            "total": 0, "message": "", "result": None}
        threading.Thread(target=self._run, args=(work,), daemon=True).start()
        return True

    def _progress(self, description: str, done: int, total: int) -> None:
        with self._lock:
            self._status.update(phase=description, done=done, total=total)

    def _run(self, work) -> None:
        try:
            with observe(self._progress):
                result = work()
            update = {"state": "done", "result": result, "phase": "Done"}
        except PocketVisionError as error:  # the user's to fix: say what, plainly
            update = {"state": "failed", "message": str(error)}
        except Exception as error:  # a bug: keep the details for the terminal too
            traceback.print_exc()
            update = {"state": "failed", "message": f"{type(error).__name__}: {error}"}
        with self._lock:
            self._status.update(update)
