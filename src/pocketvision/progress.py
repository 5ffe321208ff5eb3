"""Progress bars on stderr, so ``--json`` output on stdout stays clean."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

_observers: list[Callable[[str, int, int], None]] = []
_stop: list[BaseException] = []  # what a signal asked for; raised at the next step


def stop_at_next_step(reason: BaseException) -> None:
    """Ask the running job to stop where it is safe: at its next progress step (a
    signal handler raising at an arbitrary moment can land in a library's cleanup
    code, which swallows it)."""
    _stop.append(reason)


def _check_stop() -> None:
    if _stop:
        raise _stop.pop()


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
    _check_stop()
    if _observers:
        with _observed(description, total) as advance:
            yield _stoppable(advance)
        return
    if total <= 0 or os.environ.get("POCKETVISION_NO_PROGRESS") or not sys.stderr.isatty():
        yield _stoppable(lambda n=1: None)  # a bar in a pipe or a file is only noise
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    console = Console(file=sys.stderr, emoji=False)  # names in descriptions print as written
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeRemainingColumn())
    if unit:
        columns += (_Rate(unit),)
    with Progress(*columns, console=console) as bar:
        task = bar.add_task(description, total=total)
        yield _stoppable(lambda n=1: bar.advance(task, n))


def _stoppable(advance: Callable[[int], None]) -> Callable[[int], None]:
    def step(n: int = 1) -> None:
        _check_stop()
        advance(n)

    return step


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
