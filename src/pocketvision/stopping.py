"""Stopping a long job where it is safe: at a stop point.

``pocketvision`` turns SIGTERM into ``ask_to_stop(Terminated())`` (cli.py); every long
loop (scanning, features, labelling, fine-tuning, exporting, timing, capturing) calls
``stop_point()`` once per step, where an exception unwinds cleanly, as Ctrl-C does.
A signal handler that raised at an arbitrary moment could land in a library's
cleanup code, which swallows it.
"""

from __future__ import annotations

_asked: list[BaseException] = []  # what a signal asked for, raised at the next stop point


def ask_to_stop(reason: BaseException) -> None:
    """Ask the running job to raise ``reason`` at its next stop point."""
    _asked.append(reason)


def stop_point() -> None:
    """Raise what was asked for, if anything: call once per step of a long loop."""
    if _asked:
        raise _asked.pop()
