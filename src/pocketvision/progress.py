"""Progress bars on stderr, so ``--json`` output on stdout stays clean."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

_observers: list[Callable[[str, int, int], None]] = []


@contextmanager
def observe(callback: Callable[[str, int, int], None]) -> Iterator[None]:
    """Call ``callback(description, done, total)`` as any progress bar moves, in any
    thread (the studio shows training progress in the page this way)."""
    _observers.append(callback)
    try:
        yield
    finally:
        _observers.remove(callback)


@contextmanager
def progress_bar(description: str, total: int, unit: str | None = None
                 ) -> Iterator[Callable[[int], None]]:
    """Yield ``advance(n)``; draws a bar on stderr when it is a terminal and
    POCKETVISION_NO_PROGRESS is unset; with ``unit``, also the rate (e.g. "38 images/s")."""
    if _observers:
        with _observed(description, total) as advance:
            yield advance
        return
    if total <= 0 or os.environ.get("POCKETVISION_NO_PROGRESS") or not sys.stderr.isatty():
        yield lambda n=1: None  # a bar drawn into a pipe or a file is only noise (and a blank line)
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(file=sys.stderr)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    if unit:
        columns += (_Rate(unit),)
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n=1: bar.advance(task, n)


@contextmanager
def _observed(description: str, total: int) -> Iterator[Callable[[int], None]]:
    done = 0

    def advance(n: int = 1) -> None:
        nonlocal done
        done += n
        for callback in list(_observers):
            callback(description, done, total)

    advance(0)
    yield advance


def _Rate(unit: str):
    """A progress column: items per second."""
    from rich.progress import ProgressColumn
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:
            return Text(f"{task.speed:.0f} {unit}/s" if task.speed else "")

    return Rate()
