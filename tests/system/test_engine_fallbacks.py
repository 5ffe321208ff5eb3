"""Where an engine lacks something the app uses, the app does without it (app/engine.js),
shown in Chromium with the thing taken away before the app starts:

- no requestVideoFrameCallback (Firefox before 132), no Web Locks, and a
  createImageBitmap that refuses ``imageOrientation: "from-image"`` (older WebKit and
  Firefox): recording, photos, Train and the game all still work;
- no OffscreenCanvas (Safari before 16.4): one sentence says what is missing, instead
  of a page that stops half-way;
- onnxruntime-web's start on several threads never answering (it hung once in
  Firefox in CI): the backbone starts again on one thread and the app works."""

from __future__ import annotations

import contextlib

import phone_drive as drive
import pytest
from conftest import sample_dir
from engines import Chromium, engine_missing
from phone import phone_site, static_site

OLDER_ENGINE = """
delete HTMLVideoElement.prototype.requestVideoFrameCallback;
Object.defineProperty(Navigator.prototype, "locks", { get: () => undefined });
const decodeImage = self.createImageBitmap;
self.createImageBitmap = function (source, ...rest) {
  const options = rest[rest.length - 1];
  if (options && options.imageOrientation === "from-image") {
    return Promise.reject(new TypeError("The provided value 'from-image' is not a valid enum value"));
  }
  return decodeImage.call(this, source, ...rest);
};
"""

# The model worker never hears a request to start on several threads, as when
# onnxruntime-web's threaded start hangs.
THREADED_START_HANGS = """
const StartingWorker = self.Worker;
self.Worker = class extends StartingWorker {
  postMessage(message, ...rest) {
    if (message && message.kind === "load" && message.threads > 1) return;
    return super.postMessage(message, ...rest);
  }
};
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return phone_site(tmp_path_factory)


@contextlib.contextmanager
def chromium_without(site, profile, script):
    if engine_missing("chromium"):  # tests/install.sh installs it: without it, the install failed
        pytest.fail(engine_missing("chromium"))
    with static_site(site) as (url, _):
        engine = Chromium(profile, private=False, init_script=script)
        try:
            engine.goto(url)
            yield engine
        finally:
            engine.close()


def test_an_older_engine_records_adds_photos_trains_and_plays(site, tmp_path):
    with chromium_without(site, tmp_path / "profile", OLDER_ENGINE) as engine:
        drive.settled(engine)
        assert engine.evaluate("!('requestVideoFrameCallback' in HTMLVideoElement.prototype) && !navigator.locks")
        drive.add_class(engine, "camera")
        for _ in range(2):
            drive.record(engine, "camera", 5)
        drive.add_class(engine, "sneaker")
        drive.add_photos(engine, "sneaker", sorted((sample_dir() / "sneaker").iterdir())[:8])
        state = drive.train(engine)
        assert state["training"]["status"] == "done", state["training"]
        state = drive.play(engine, "camera")
        assert state["label"] == "camera" and state["fps"] > 0


def test_an_engine_without_offscreen_canvas_says_what_it_lacks(site, tmp_path):
    with chromium_without(site, tmp_path / "profile", "delete self.OffscreenCanvas;") as engine:
        engine.until("!document.getElementById('notice').hidden", 30)
        notice = engine.text("#notice")
        assert "This browser lacks OffscreenCanvas" in notice and "Safari, Chrome or Firefox" in notice


def test_a_threaded_start_that_hangs_falls_back_to_one_thread(site, tmp_path):
    with chromium_without(site, tmp_path / "profile", THREADED_START_HANGS) as engine:
        assert engine.until("navigator.serviceWorker.controller", 60) is not None
        assert engine.evaluate("self.crossOriginIsolated && navigator.hardwareConcurrency > 1")  # it asks for threads
        state = drive.settled(engine, 90)  # 30 s for the threaded start, then one thread
        assert state["threads"] == 1
        drive.add_class(engine, "camera")
        drive.record(engine, "camera", 5)
        drive.add_class(engine, "sneaker")
        drive.add_photos(engine, "sneaker", sorted((sample_dir() / "sneaker").iterdir())[:6])
        assert drive.train(engine)["training"]["status"] == "done"
