"""``export --format web`` as a phone would use it: a plain ``python -m http.server``
serves the site; Chromium emulates a phone (small viewport, touch, a fake camera);
the service worker takes over, the page is cross-origin isolated (threads), the
player picks the jump class and the choice survives a reload, the touch button
jumps, and after the server is gone and the browser is offline a reload still
plays. No request leaves 127.0.0.1."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from browser import CHROMIUM, FLAGS, browser_available
from live_helpers import camera_frame, write_y4m

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (.ci/run installs both)")
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def static_site(folder, port):
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("python -m http.server did not start")


def settled_state(page, condition: str, timeout: float = 90) -> dict:
    """Poll ``window.gameState`` until ``condition`` (JS, over ``s``) holds; the page
    may reload itself once when the service worker takes over."""
    deadline, seen = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            seen = page.evaluate("({s: window.gameState, isolated: self.crossOriginIsolated, "
                                 "status: document.getElementById('status').textContent})")
            state = page.evaluate("(() => { const s = window.gameState; "
                                  f"return s && ({condition}) ? s : null; }})()")
            if state:
                return state
        except Exception:  # the execution context went away in a reload
            pass
        time.sleep(0.3)
    raise AssertionError(f"never: {condition}; last seen: {seen}")


def test_the_web_app_installs_plays_on_a_phone_and_works_offline(trained, fashion3, tmp_path, artifacts):
    from playwright.sync_api import sync_playwright

    from pocketvision.exports.job import export

    report = export(trained.bundle, tmp_path / "out", ["web"])  # no --map: the player chooses
    [entry] = report.exports
    assert entry.format == "web" and entry.ran and "192 px" in entry.notes[0]
    assert entry.top1_agreement >= 0.97  # the live-sized model, checked against the bundle
    site = tmp_path / "out" / "web"
    manifest = json.loads((site / "manifest.webmanifest").read_text())
    assert manifest["display"] == "standalone" and len(manifest["icons"]) == 2
    sneakers = sorted((fashion3 / "val" / "sneaker").iterdir())[:6]
    camera = write_y4m(tmp_path / "camera.y4m", [camera_frame(p) for p in sneakers for _ in range(4)])
    port = free_port()
    server = static_site(site, port)
    outside = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=FLAGS + [f"--use-file-for-fake-video-capture={camera}"])
            context = browser.new_context(**PHONE)
            context.route("**/*", lambda route: route.continue_()
                          if route.request.url.startswith("http://127.0.0.1") else
                          (outside.append(route.request.url), route.abort()))
            page = context.new_page()
            page.goto(f"http://127.0.0.1:{port}/")
            state = settled_state(page, "s.modelReady && s.cameraReady && self.crossOriginIsolated")
            assert state["threads"] >= 2  # the service worker's headers allow wasm threads
            assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone

            page.select_option("#jump-class", "sneaker")  # the camera shows sneakers
            state = settled_state(page, "s.jumps >= 1 && s.label === 'sneaker'")
            page.wait_for_timeout(1500)
            page.screenshot(path=str(artifacts / "web-app-phone.png"))
            page.reload()
            settled_state(page, "s.modelReady")
            assert page.eval_on_selector("#jump-class", "e => e.value") == "sneaker"  # remembered
            before = page.evaluate("window.gameState.jumps")
            page.tap("#jump")
            assert page.evaluate("window.gameState.jumps") > before

            server.terminate()
            server.wait(timeout=10)
            context.set_offline(True)
            page.reload()
            state = settled_state(page, "s.modelReady && s.cameraReady")
            assert state["label"] is None or state["label"] in trained.classes
            browser.close()
    finally:
        server.kill()
    assert outside == []
