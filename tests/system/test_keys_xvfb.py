"""Real key presses: the pynput sink on an X server (Xvfb), observed by a key
listener on the same display. tests/install.sh installs Debian's xvfb."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys

import pytest
from engines import virtual_display

pytestmark = [
    pytest.mark.skipif(shutil.which("Xvfb") is None, reason="needs Xvfb (tests/install.sh installs xvfb)"),
    # not imported here: pynput needs a display at import time
    pytest.mark.skipif(importlib.util.find_spec("pynput") is None, reason="needs pynput ([live])"),
]

PRESS_AND_LISTEN = """
import json, time
from pynput import keyboard
seen = []
listener = keyboard.Listener(on_press=lambda k: seen.append(["press", str(k)]),
                             on_release=lambda k: seen.append(["release", str(k)]))
listener.start(); listener.wait(); time.sleep(0.3)
from pocketvision.live.keys import KeyboardSink
from pocketvision.live.smoothing import Event
sink = KeyboardSink()
for event in [Event(0.0, 1, "up", "tap", "space"), Event(0.1, 2, "down", "down", "Down"),
              Event(0.2, 3, "down", "up", "Down")]:
    sink.send(event)
time.sleep(0.5); listener.stop()
print(json.dumps(seen))
"""


@pytest.fixture
def display():
    screen = virtual_display("800x600x24")
    yield screen.name
    screen.stop()


def test_keyboard_sink_presses_real_keys(display):
    result = subprocess.run([sys.executable, "-c", PRESS_AND_LISTEN], capture_output=True,
                            text=True, timeout=60, env=dict(os.environ, DISPLAY=display))
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    # the RECORD listener may report injected transitions twice, even the whole sequence
    # again (seen in about half the runs); the order in which they first appear counts
    transitions = list(dict.fromkeys(map(tuple, seen)))
    assert transitions == [("press", "Key.space"), ("release", "Key.space"),
                           ("press", "Key.down"), ("release", "Key.down")]
