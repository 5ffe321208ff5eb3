"""The three browser engines phones have, behind one small interface, so that a drive
written once runs in each: Chromium (Playwright), WebKit (WebKitGTK's MiniBrowser
through Selenium's WebKitGTK driver, on a virtual display) and Firefox (puppeteer-core
over WebDriver BiDi, through tests/npm-clients/firefox-driver.mjs).

Each engine is a phone-sized window with the engine's own fake camera, in a normal or
a private session. Elements are named by CSS selector; ``evaluate`` takes a JavaScript
expression (a promise is awaited) and returns its JSON value."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from browser import CHROMIUM, FLAGS

ENGINES = ("chromium", "webkit", "firefox")
WIDTH, HEIGHT = 390, 844
MINIBROWSER = "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser"
WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
FIREFOX = "/usr/bin/firefox-esr"
FIREFOX_DRIVER = Path(__file__).parent / "npm-clients" / "firefox-driver.mjs"


def engine_missing(name: str) -> str | None:
    """Why ``name`` cannot run here (None when it can): what to install."""
    needs = {"chromium": [CHROMIUM], "webkit": [MINIBROWSER, WEBKIT_DRIVER],
             "firefox": [FIREFOX, FIREFOX_DRIVER.parent / "node_modules" / "puppeteer-core"]}[name]
    modules = {"chromium": "playwright", "webkit": "selenium", "firefox": None}[name]
    absent = [str(p) for p in needs if not Path(p).exists()]
    if modules:
        try:
            __import__(modules)
        except ImportError:
            absent.append(f"the Python package {modules}")
    if name == "webkit" and not shutil.which("Xvfb"):
        absent.append("Xvfb")
    return f"{name} needs {', '.join(absent)} (tests/install.sh installs them)" if absent else None


@contextlib.contextmanager
def open_engine(name: str, profile: Path, private: bool = False):
    """A phone-sized window of engine ``name`` keeping its storage in ``profile``
    (unless ``private``); closed on leaving."""
    if name == "webkit-sab":  # benchmarks: WebKitGTK with SharedArrayBuffer, as Safari has it
        engine = WebKit(profile, private, shared_memory=True)
    else:
        engine = {"chromium": Chromium, "webkit": WebKit, "firefox": Firefox}[name](profile, private)
    try:
        yield engine
    finally:
        engine.close()


class Engine:
    """What every engine can do; the drivers below fill in the verbs: goto, reload,
    evaluate, click, fill, hold/release, upload, screenshot, open_tab/switch_tab
    (tabs in the order opened, 0 the first), close."""

    name = ""

    def until(self, condition: str, timeout: float = 90) -> dict:
        """Poll window.studioState (as ``s``) until ``condition`` holds (the page may
        reload itself, when its service worker takes over)."""
        deadline, seen = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            try:
                answer = self.evaluate(
                    f"(() => {{ const s = window.studioState; return {{ held: Boolean(s && ({condition})), s: s ?? 'no page yet' }}; }})()")
                if answer["held"]:
                    return answer["s"]
                seen = answer["s"]
            except Exception as error:  # the page went away in a reload
                seen = str(error)[:300]
            time.sleep(0.25)
        notice = self.text("#notice")
        raise AssertionError(f"{self.name}: never {condition}; notice: {notice!r}; last seen: {seen}; "
                             f"the page's errors: {self.problems()}")

    def problems(self) -> list[str]:
        """The page's console errors and warnings since the last call (where the
        driver reports them)."""
        return []

    def text(self, selector: str) -> str | None:
        try:
            return self.evaluate(f"document.querySelector({json.dumps(selector)})?.textContent ?? null")
        except Exception:
            return None

    def captured_download(self, selector: str) -> bytes:
        """Tap the button ``selector`` and return the file it hands the browser (the
        Blob given to the download link), read back from the page: each engine saves
        downloads its own way, and the test wants the bytes."""
        self.evaluate("""(() => {
          window.__downloads = [];
          HTMLAnchorElement.prototype.click = function () {
            if (!this.download) return HTMLElement.prototype.click.call(this);
            window.__downloads.push(fetch(this.href).then((r) => r.arrayBuffer()));
          };
          return true; })()""")
        self.click(selector)
        deadline = time.monotonic() + 60
        while not self.evaluate("window.__downloads.length"):
            assert time.monotonic() < deadline, f"{self.name}: {selector} gave no file"
            time.sleep(0.2)
        encoded = self.evaluate("""window.__downloads[0].then((buffer) => {
          let text = ""; const bytes = new Uint8Array(buffer);
          for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
          return btoa(text); })""")
        return base64.b64decode(encoded)


class Chromium(Engine):
    """``init_script`` runs in every page before the page's own scripts (to take away
    something an engine may lack, and see the app do without it); ``camera``: a y4m
    file the fake camera plays in a loop (else Chromium's own moving pattern)."""

    name = "chromium"

    def __init__(self, profile: Path, private: bool, init_script: str | None = None,
                 camera: Path | None = None):
        from playwright.sync_api import sync_playwright

        self._playwright = sync_playwright().start()
        phone = {"viewport": {"width": WIDTH, "height": HEIGHT}, "device_scale_factor": 2,
                 "is_mobile": True, "has_touch": True}
        cameras = ["--use-fake-device-for-media-stream=fps=30"]  # a phone's camera rate (the default is 20)
        if camera is not None:
            cameras.append(f"--use-file-for-fake-video-capture={camera}")
        options = {"executable_path": CHROMIUM, "headless": True,
                   "args": [flag for flag in FLAGS if not flag.startswith("--use-fake-device")] + cameras}
        if private:  # a context of its own, kept in memory: Chromium's incognito
            self._browser = self._playwright.chromium.launch(**options)
            self._context = self._browser.new_context(**phone)
        else:
            self._browser = None
            self._context = self._playwright.chromium.launch_persistent_context(str(profile), **options, **phone)
        if init_script:
            self._context.add_init_script(init_script)
        self._problems = []
        self._context.on("console", lambda message: message.type in ("error", "warning")
                         and self._problems.append(f"{message.type}: {message.text}"))
        self._context.on("weberror", lambda error: self._problems.append(f"uncaught: {error.error}"))
        self._page = self._context.pages[0] if self._context.pages else self._context.new_page()
        self._tabs = [self._page]

    def goto(self, url):
        self._page.goto(url)

    def problems(self):
        reported, self._problems = self._problems[-20:], []
        return reported

    def set_location(self, latitude: float, longitude: float):
        """Where the phone says it is, granted to the page (until then, the page is
        refused its location: headless Chromium answers a prompt with no)."""
        # the camera too: granting replaces what the origin was granted, and a camera
        # no longer granted stops sending frames
        self._context.grant_permissions(["geolocation", "camera"], origin=self.evaluate("location.origin"))
        self._context.set_geolocation({"latitude": latitude, "longitude": longitude})

    def set_quota(self, size: int):
        """The bytes the page's origin may keep from now on (a phone whose storage fills up)."""
        origin = self.evaluate("location.origin")
        self._context.new_cdp_session(self._page).send(
            "Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": size})

    def open_tab(self, url):
        self._page = self._context.new_page()
        self._tabs.append(self._page)
        self._page.goto(url)

    def switch_tab(self, index):
        self._page = self._tabs[index]
        self._page.bring_to_front()

    def reload(self):
        self._page.reload()

    def evaluate(self, expression):
        return self._page.evaluate(expression)

    def click(self, selector):
        self._page.locator(selector).click()

    def fill(self, selector, text):
        self._page.locator(selector).fill(text)

    def hold(self, selector):
        box = self._page.locator(selector).bounding_box()
        self._page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        self._page.mouse.down()

    def release(self):
        self._page.mouse.up()

    def upload(self, selector, paths):
        self._page.locator(selector).set_input_files([str(p) for p in paths])

    def screenshot(self, path, full_page=False):
        self._page.screenshot(path=str(path), full_page=full_page)

    def close(self):
        self._context.close()
        if self._browser:
            self._browser.close()
        self._playwright.stop()


class WebKit(Engine):
    """MiniBrowser under Selenium. Its automation sessions keep storage in memory
    (like Safari's private browsing) whether or not ``--private`` is given.
    WebKitGTK leaves SharedArrayBuffer out even on a cross-origin isolated page
    (Safari has it there); ``shared_memory`` turns it on (JavaScriptCore's option),
    to measure what threads would give."""

    name = "webkit"

    def __init__(self, profile: Path, private: bool, shared_memory: bool = False):
        from selenium import webdriver
        from selenium.webdriver.webkitgtk.options import Options
        from selenium.webdriver.webkitgtk.service import Service

        self._display = virtual_display()
        options = Options()
        options.binary_location = MINIBROWSER
        for flag in ["--automation", "--enable-mock-capture-devices=true"] + (["--private"] if private else []):
            options.add_argument(flag)
        env = {**os.environ, "DISPLAY": self._display.name}
        if shared_memory:
            env["JSC_useSharedArrayBuffer"] = "1"
        service = Service(executable_path=WEBKIT_DRIVER, env=env)
        self._driver = webdriver.WebKitGTK(options=options, service=service)
        self._driver.set_window_size(WIDTH, HEIGHT)
        self._driver.set_script_timeout(300)

    def goto(self, url):
        self._driver.get(url)

    def open_tab(self, url):
        self._driver.switch_to.new_window("window")  # a tab of MiniBrowser stays hidden when switched to
        self._driver.get(url)

    def switch_tab(self, index):
        self._driver.switch_to.window(self._driver.window_handles[index])

    def reload(self):
        self._driver.refresh()

    def evaluate(self, expression):
        answer = self._driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            f"Promise.resolve().then(() => ({expression}))"
            ".then((value) => done({ ok: true, value: value === undefined ? null : value }),"
            " (error) => done({ ok: false, error: String(error && error.stack || error) }));")
        if not answer["ok"]:
            raise RuntimeError(answer["error"])
        return answer["value"]

    def _element(self, selector):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        return WebDriverWait(self._driver, 20).until(
            lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, selector) if e.is_displayed()), None))

    def _shown(self, selector):
        """The element, scrolled to the middle of the window: WebDriver scrolls it only
        to the edge, under the app's tab bar, where a tap lands on the bar."""
        element = self._element(selector)
        self._driver.execute_script("arguments[0].scrollIntoView({ block: 'center' });", element)
        return element

    def click(self, selector):
        self._shown(selector).click()

    def fill(self, selector, text):
        field = self._shown(selector)
        field.clear()
        field.send_keys(text)

    def hold(self, selector):
        from selenium.webdriver import ActionChains

        ActionChains(self._driver).move_to_element(self._shown(selector)).click_and_hold().perform()

    def release(self):
        from selenium.webdriver import ActionChains

        ActionChains(self._driver).release().perform()

    def upload(self, selector, paths):
        from selenium.webdriver.common.by import By

        # WebDriver types into a file input only when it is shown; the app hides it
        # behind its "Add photos" button.
        field = self._driver.find_element(By.CSS_SELECTOR, selector)
        self._driver.execute_script("arguments[0].hidden = false;", field)
        field.send_keys("\n".join(str(p) for p in paths))
        self._driver.execute_script("arguments[0].hidden = true;", field)

    def screenshot(self, path, full_page=False):
        self._driver.save_screenshot(str(path))

    def close(self):
        try:
            self._driver.quit()
        finally:
            self._display.stop()


class Firefox(Engine):
    """Firefox ESR driven by puppeteer-core in Node, one JSON line per command."""

    name = "firefox"

    def __init__(self, profile: Path, private: bool):
        profile.mkdir(parents=True, exist_ok=True)
        options = {"executablePath": FIREFOX, "profile": str(profile), "private": private,
                   "width": WIDTH, "height": HEIGHT}
        self._node = subprocess.Popen(["node", str(FIREFOX_DRIVER), json.dumps(options)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                      cwd=FIREFOX_DRIVER.parent)

    def _send(self, op, **args):
        self._node.stdin.write(json.dumps({"op": op, **args}) + "\n")
        self._node.stdin.flush()
        line = self._node.stdout.readline()
        if not line:
            raise RuntimeError(f"the Firefox driver stopped (exit {self._node.wait()})")
        answer = json.loads(line)
        if not answer["ok"]:
            raise RuntimeError(answer["error"])
        return answer["value"]

    def goto(self, url):
        self._send("goto", url=url)

    def problems(self):
        try:
            return self._send("problems")
        except (RuntimeError, OSError):
            return []

    def open_tab(self, url):
        self._send("openTab", url=url)

    def switch_tab(self, index):
        self._send("switchTab", index=index)

    def reload(self):
        self._send("reload")

    def evaluate(self, expression):
        return self._send("evaluate", expression=expression)

    def click(self, selector):
        self._send("click", selector=selector)

    def fill(self, selector, text):
        self._send("fill", selector=selector, text=text)

    def hold(self, selector):
        self._send("hold", selector=selector)

    def release(self):
        self._send("release")

    def upload(self, selector, paths):
        self._send("upload", selector=selector, paths=[str(p) for p in paths])

    def screenshot(self, path, full_page=False):
        self._send("screenshot", path=str(path), fullPage=full_page)

    def close(self):
        if self._node.poll() is None:
            try:
                self._send("close")
            except (RuntimeError, BrokenPipeError, OSError):
                pass
            try:
                self._node.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._node.kill()


class Display:
    """An X display of its own: ``name`` (":N") for DISPLAY, ``stop()`` when done."""

    def __init__(self, process, name):
        self.process, self.name = process, name

    def stop(self):
        self.process.kill()
        self.process.wait()


def virtual_display(screen: str = "1280x1024x24") -> Display:
    """An Xvfb display of its own (WebKitGTK draws into a real window), ready when
    this returns: Xvfb writes the display's number once it accepts clients."""
    read, write = os.pipe()
    process = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", screen, "-nolisten", "tcp"],
                               pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as chosen:
        number = chosen.readline().strip()
    return Display(process, f":{number}")
