"""Progress bars on stderr, so ``--json`` output on stdout stays clean."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

_enabled = True


def set_progress(enabled: bool) -> None:
    """Turn progress bars on or off for this process (the CLI's ``--quiet``)."""
    global _enabled
    _enabled = enabled


@contextmanager
def progress_bar(description: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws a bar on stderr when enabled and worth it."""
    if not _enabled or total <= 0 or os.environ.get("POCKETVISION_NO_PROGRESS"):
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    console = Console(file=sys.stderr)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    with Progress(*columns, console=console, transient=not console.is_terminal) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)
