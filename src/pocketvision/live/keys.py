"""Where smoothed events go: printed (``--dry-run``) or pressed as real keys."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from pocketvision.errors import LiveError, MissingExtraError
from pocketvision.live.smoothing import Event


class DryRunSink:
    """Prints each event; with ``as_json`` one JSON object per line."""

    def __init__(self, as_json: bool = False, stream: TextIO = sys.stdout):
        self.as_json, self.stream = as_json, stream

    def send(self, event: Event) -> None:
        if self.as_json:
            self.stream.write(json.dumps(event.to_dict()) + "\n")
        else:
            self.stream.write(f"{event.t:8.3f}s  frame {event.frame:5d}  {event.label:>12}  "
                              f"{event.action:<4} {event.key}\n")
        self.stream.flush()


class KeyboardSink:
    """Presses keys with pynput, in whatever window has the focus."""

    def __init__(self):
        try:
            from pynput.keyboard import Controller, Key
        except ImportError:
            raise MissingExtraError.needing("pressing keys needs pynput", "live") from None
        except Exception as error:  # no X display, no uinput access, ...
            raise LiveError(f"cannot send key presses here ({error}); "
                                    "try --dry-run") from None
        self.controller, self.special = Controller(), Key

    def key(self, name: str):
        special = getattr(self.special, name.lower(), None)
        if special is not None:
            return special
        if len(name) == 1:
            return name
        raise LiveError(f"unknown key {name!r}: use a single character or a key name "
                                "such as space, up, down, left, right, enter")

    def send(self, event: Event) -> None:
        key = self.key(event.key)
        if event.action in ("tap", "down"):
            self.controller.press(key)
        if event.action in ("tap", "up"):
            self.controller.release(key)
