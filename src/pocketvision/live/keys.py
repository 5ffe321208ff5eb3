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


# pynput's Key names (what --map LABEL=KEY accepts besides single characters),
# listed here so a map is checked before the camera opens, --dry-run included.
KEY_NAMES = frozenset(
    "alt alt_l alt_r alt_gr backspace caps_lock cmd cmd_l cmd_r ctrl ctrl_l ctrl_r delete "
    "down end enter esc home insert left menu num_lock page_down page_up pause print_screen "
    "right scroll_lock shift shift_l shift_r space tab up media_play_pause media_volume_mute "
    "media_volume_down media_volume_up media_previous media_next".split()
    + [f"f{n}" for n in range(1, 21)])


def check_key_name(name: str) -> str:
    """The key name as pynput spells it; LiveError for one no keyboard has."""
    if len(name) == 1 and name.isprintable():
        return name
    if name.lower() in KEY_NAMES:
        return name.lower()
    raise LiveError(f"unknown key {name!r}: use a single character or a key name "
                    "such as space, up, down, left, right, enter")


class KeyboardSink:
    """Presses keys with pynput, in whatever window has the focus."""

    def __init__(self):
        import importlib.util
        import os

        if importlib.util.find_spec("pynput") is None:
            raise MissingExtraError.needing("pressing keys needs pynput", "live")
        if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                     or os.environ.get("WAYLAND_DISPLAY")):
            raise LiveError("cannot press keys: there is no display (DISPLAY is not set); "
                            "run it in your desktop session, or try --dry-run")
        try:
            from pynput.keyboard import Controller, Key
        except Exception as error:  # an X server that refuses us, no uinput access, ...
            raise LiveError(f"cannot send key presses here ({error}); try --dry-run") from None
        self.controller, self.special = Controller(), Key

    def key(self, name: str):
        name = check_key_name(name)
        return getattr(self.special, name) if len(name) > 1 else name

    def send(self, event: Event) -> None:
        key = self.key(event.key)
        if event.action in ("tap", "down"):
            self.controller.press(key)
        if event.action in ("tap", "up"):
            self.controller.release(key)
