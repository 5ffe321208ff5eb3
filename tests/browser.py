"""Headless Chromium for tests: Debian's /usr/bin/chromium driven by Playwright,
pages served from 127.0.0.1, and every request to anywhere else refused and
recorded (the pages must work offline)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import shutil
import threading
from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]


def browser_available() -> bool:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists()


@contextlib.contextmanager
def static_server(folder: Path):
    """Serve ``folder`` on 127.0.0.1 (a free port); yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".mjs": "text/javascript",
                      ".js": "text/javascript"}

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def chromium_page(extra_flags: list[str] = ()):
    """A page in headless Chromium; ``page.outside_requests`` lists refused URLs."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=FLAGS + list(extra_flags))
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.outside_requests = []

        def only_local(route):
            url = route.request.url
            if url.startswith(("http://127.0.0.1", "https://127.0.0.1", "data:", "blob:")):
                return route.continue_()
            page.outside_requests.append(url)
            return route.abort()

        page.route("**/*", only_local)
        try:
            yield page
        finally:
            browser.close()


def web_assets(target: Path) -> None:
    """Copy the package's browser files (module + vendored onnxruntime-web) to ``target``."""
    from importlib.resources import files

    source = Path(str(files("pocketvision") / "web"))
    shutil.copytree(source, target, dirs_exist_ok=True)
