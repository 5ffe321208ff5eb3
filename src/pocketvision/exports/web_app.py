"""``export --format web``: the runner game and live preview as a static web app.

``DIR/web/`` is a self-contained site (index.html at its root) that any static
server can serve (``python -m http.server --directory DIR/web``), or ``play
--https`` for a phone on the same network. The model runs on the page
(onnxruntime-web shipped inside, no CDN). A web app manifest and a service worker
make it installable to a phone's home screen and working offline after one visit.

The service worker precaches every file of the site (the list and a version hash
are written into it here) and answers from that cache, adding the
cross-origin-isolation headers a plain static server does not send, so that
onnxruntime-web can run on several threads.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from importlib.resources import files
from pathlib import Path

from pocketvision.actions import parse_mapping
from pocketvision.cache import write_atomically
from pocketvision.errors import LiveError

# The page's files: what `play` serves and what the web app copies (web/ in the package).
WEB = Path(str(files("pocketvision") / "web"))
GAME_ACTIONS = ("jump", "duck")

# The page's own files, from the package's web folder, kept at the same relative
# paths as under `pocketvision play` (the page's URLs are relative).
PAGE_FILES = ("game.js", "pocketvision-onnx.js", "smoothing.js", "ui.js", "style.css",
              "vendor/onnxruntime-web/ort.wasm.min.js",
              "vendor/onnxruntime-web/ort-wasm-simd-threaded.mjs",
              "vendor/onnxruntime-web/ort-wasm-simd-threaded.wasm",
              "vendor/onnxruntime-web/NOTICE")
ICON_SIZES = (192, 512)
ACCENT = (59, 91, 219)  # --accent in style.css


def write_web_app(labels: list[str], actions: dict, site: Path) -> Path:
    """Write the site around ``site/model.onnx`` (exported there by the caller, at
    the web app's own input size) and return ``site``."""
    for name in PAGE_FILES:
        target = site / "web" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(WEB / name, target)
    _write_json(site / "config.json", game_config(labels, actions))
    for size in ICON_SIZES:
        _icon(size).save(site / f"icon-{size}.png")
    _write_json(site / "manifest.webmanifest", _manifest(labels))
    page = (WEB / "game.html").read_text().replace("<!--pwa-->", INSTALL_TAGS)
    write_atomically(site / "index.html", page.encode())
    files = sorted(str(p.relative_to(site)) for p in site.rglob("*") if p.is_file())
    write_atomically(site / "sw.js", _service_worker(site, ["./", *files]).encode())
    return site


INSTALL_TAGS = """<link rel="manifest" href="manifest.webmanifest">
<link rel="icon" href="icon-192.png">
<link rel="apple-touch-icon" href="icon-192.png">
<script>
  // Installable and offline: the service worker caches the whole site. On the first
  // visit, reload once it is in charge, so the page is cross-origin isolated and the
  // model can use threads.
  if ("serviceWorker" in navigator) {
    const first = !navigator.serviceWorker.controller;
    navigator.serviceWorker.register("sw.js").then(() => {
      if (first) navigator.serviceWorker.addEventListener("controllerchange",
        () => location.reload(), { once: true });
    });
  }
</script>"""


def _manifest(labels: list[str]) -> dict:
    return {"name": "pocketvision runner", "short_name": "runner",
            "description": f"A runner game steered by your own classifier ({', '.join(labels)}).",
            "start_url": ".", "scope": ".", "display": "standalone", "orientation": "any",
            "background_color": "#f5f7fb", "theme_color": "#3b5bdb",
            "icons": [{"src": f"icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png",
                       "purpose": "any maskable"} for size in ICON_SIZES]}


def _service_worker(site: Path, files: list[str]) -> str:
    digest = hashlib.sha256()
    for name in files[1:]:
        digest.update(name.encode() + (site / name).read_bytes())
    template = (WEB / "sw-template.js").read_text()
    return (template.replace("__VERSION__", digest.hexdigest()[:16])
            .replace("__FILES__", json.dumps(files)))


def game_actions(labels: list[str], mappings: list[str]) -> dict[str, dict]:
    """label -> {key: jump|duck, mode}: from --map, else classes named up/down, else
    nothing (the page then lets the player pick, and remembers the choice)."""
    if not mappings:
        mappings = [m for m in ("up=jump", "down=duck") if m.split("=")[0] in labels]
    if not mappings:
        return {}
    chosen = {}
    for label, action in parse_mapping(mappings, labels).items():  # `control`'s --map rules
        if action.key not in GAME_ACTIONS:
            raise LiveError(f"--map {label}={action.key}: the game's actions are jump and duck")
        chosen[label] = {"key": action.key, "mode": "tap" if action.key == "jump" else "hold"}
    return chosen


def game_config(labels: list[str], actions: dict) -> dict:
    """What the game page reads from config.json (URLs relative to the page)."""
    return {"labels": labels, "actions": actions, "model": "model.onnx"}


def _icon(size: int):
    """A round-cornered accent square with a white runner's head: our own drawing."""
    from PIL import Image, ImageDraw

    icon = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(icon)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 5, fill=ACCENT)
    body = (size * 0.32, size * 0.28, size * 0.68, size * 0.72)
    draw.rounded_rectangle(body, radius=size // 10, fill="white")
    eye = (size * 0.54, size * 0.36, size * 0.62, size * 0.44)
    draw.ellipse(eye, fill=ACCENT)
    return icon


def _write_json(path: Path, document: dict) -> None:
    write_atomically(path, json.dumps(document, indent=2, ensure_ascii=False).encode())
