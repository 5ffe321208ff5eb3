"""Helpers for the phone studio's browser tests: a web app served by a plain
``python -m http.server``, Chromium emulating a phone with a fake camera playing a
y4m of real pictures, and the page driven as a person drives it (taps, holds)."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
from pathlib import Path

from browser import CHROMIUM, FLAGS
from live_helpers import camera_frame, write_y4m

PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def static_site(folder: Path):
    """``python -m http.server`` on the folder (no special headers: the service
    worker adds them); yields the site's URL."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind",
                               "127.0.0.1", "--directory", str(folder)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/", server
    finally:
        server.kill()


def camera_file(folder: Path, name: str, pictures: list[Path], fps: int = 15) -> Path:
    """A y4m the fake camera loops: each picture once, centred on black."""
    return write_y4m(folder / f"{name}.y4m", [camera_frame(p) for p in pictures], fps)


class Phone:
    """One emulated phone: a browser profile kept across launches (IndexedDB, the
    service worker, localStorage survive, as on a real phone), each launch with the
    camera showing what the test chooses."""

    def __init__(self, playwright, profile: Path, outside: list):
        self.playwright, self.profile, self.outside = playwright, profile, outside
        self.context = self.page = None
        self.errors: list[str] = []

    def open(self, url: str, camera: Path, quota: int | None = None, settle: bool = True):
        """Launch with ``camera``; ``quota``: the bytes the site may keep (a phone
        whose storage fills up), set before the site first stores anything;
        ``settle``: wait for the site's service worker to take charge."""
        self.close()
        self.context = self.playwright.chromium.launch_persistent_context(
            str(self.profile), executable_path=CHROMIUM, headless=True,
            args=FLAGS + [f"--use-file-for-fake-video-capture={camera}"], **PHONE)
        self.context.route("**/*", self._only_local)
        self.page = self.context.pages[0] if self.context.pages else self.context.new_page()
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        if quota is not None:
            self.context.new_cdp_session(self.page).send(
                "Storage.overrideQuotaForOrigin", {"origin": url.rstrip("/"), "quotaSize": quota})
        self.page.goto(url)
        if settle:
            self.settled()
        return self.page

    def settled(self, timeout: float = 90) -> None:
        """Wait until the service worker is in charge (on a first visit the page
        reloads itself once for it), so nothing the test does is reloaded away."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if self.page.evaluate("Boolean(navigator.serviceWorker.controller && "
                                      "self.crossOriginIsolated && window.studioState)"):
                    return
            except Exception:  # the page is reloading
                pass
            time.sleep(0.2)
        raise AssertionError("the service worker never took charge of the page")

    def _only_local(self, route):
        if route.request.url.startswith(("http://127.0.0.1", "blob:", "data:")):
            return route.continue_()
        self.outside.append(route.request.url)
        return route.abort()

    def close(self):
        if self.context is not None:
            self.context.close()
            self.context = self.page = None

    # ---- what a person does -------------------------------------------------------
    def state(self) -> dict:
        return self.page.evaluate("window.studioState")

    def until(self, condition: str, timeout: float = 90) -> dict:
        """Poll window.studioState (as ``s``) until ``condition`` holds; the page may
        reload itself once, when its service worker takes over."""
        deadline, seen = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                seen = self.page.evaluate("window.studioState")
                found = self.page.evaluate(
                    f"(() => {{ const s = window.studioState; return s && ({condition}) ? s : null; }})()")
                if found:
                    return found
            except Exception as error:  # the page went away in a reload
                seen = str(error)
            time.sleep(0.2)
        raise AssertionError(f"never: {condition}; last seen: {seen}; page errors: {self.errors}")

    def add_class(self, name: str) -> None:
        self.page.fill("#new-class", name)
        self.page.get_by_role("button", name="Add class").click()
        self.until(f"s.classes.some(c => c.name === {name!r})", 20)

    def record(self, name: str, pictures: int) -> None:
        """Choose the class, hold Record until ``pictures`` more are kept, let go."""
        self.page.get_by_role("radio", name=name, exact=True).click()
        before = self.state()["recorded"]
        button = self.page.locator("#record")
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        self.page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        self.page.mouse.down()
        try:
            self.until(f"s.recorded >= {before + pictures}", 60)
        finally:
            self.page.mouse.up()
        self.until("s.recording === null", 20)

    def train(self) -> dict:
        self.page.get_by_role("tab", name="Train").click()
        self.page.get_by_role("button", name="Train", exact=True).click()
        return self.until("s.training.status === 'done' || s.training.status === 'failed'", 180)

    def play(self, jump_on: str) -> None:
        self.page.get_by_role("tab", name="Play").click()
        self.page.select_option("#jump-class", jump_on)

    def labels_seen(self, seconds: float = 3.0) -> list:
        """The live label, read every 100 ms for a while (one instant can be a
        frame in between two pictures)."""
        seen, deadline = [], time.monotonic() + seconds
        while time.monotonic() < deadline:
            seen.append(self.page.evaluate("window.studioState.label"))
            time.sleep(0.1)
        return seen

    def download(self, button: str, target: Path) -> Path:
        with self.page.expect_download() as waiting:
            self.page.get_by_role("button", name=button).click()
        waiting.value.save_as(target)
        return target


def phone_site(tmp_path_factory) -> Path:
    """A phone studio written by ``pocketvision web`` (what a user puts on a host)."""
    from pocketvision.exports.web_app import write_new_web_app

    root = tmp_path_factory.mktemp("phone") / "site"
    write_new_web_app(root, "efficientnet_lite0")
    return root
