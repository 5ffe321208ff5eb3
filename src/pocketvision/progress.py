"""Progress bars on stderr, so ``--json`` output on stdout stays clean."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Callable, Iterator

from rich.markup import escape

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
def progress_bar(description: str, total: int, unit: str | None = None, lines: bool = False
                 ) -> Iterator[Callable[..., None]]:
    """Yield ``advance(n=1, note=None)``: ``n`` more steps done, ``note`` saying what runs
    now. Draws a bar on stderr when it is a terminal and POCKETVISION_NO_PROGRESS is
    unset; with ``unit``, also the rate (e.g. "38 images/s"). ``lines``: for a job of
    few slow steps (an export), a pipe or a log gets a line per note instead of silence."""
    quiet = total <= 0 or bool(os.environ.get("POCKETVISION_NO_PROGRESS"))
    if _observers:
        with _observed(description, total) as advance:
            yield advance
    elif quiet or not sys.stderr.isatty():
        # a bar in a pipe or a file is only noise; a line per slow step is not
        yield _line_printer(description, total) if lines and not quiet else _ignore
    else:
        with _drawn(description, total, unit) as advance:
            yield advance


@contextmanager
def _drawn(description: str, total: int, unit: str | None) -> Iterator[Callable[..., None]]:
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

        def advance(n: int = 1, note: str | None = None) -> None:
            shown = description if note is None else f"{description}: {note}"
            bar.update(task, advance=n, description=escape(shown))

        yield advance


def _line_printer(description: str, total: int) -> Callable[..., None]:
    done = 0

    def advance(n: int = 1, note: str | None = None) -> None:
        nonlocal done
        done += n
        if note is not None:
            print(f"{description} ({done}/{total}): {note}", file=sys.stderr, flush=True)

    return advance


def _ignore(n: int = 1, note: str | None = None) -> None:
    pass


@contextmanager
def _observed(description: str, total: int) -> Iterator[Callable[..., None]]:
    done = 0

    def advance(n: int = 1, note: str | None = None) -> None:
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
