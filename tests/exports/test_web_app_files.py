"""The web app's file list is complete: every module the phone studio's page loads,
directly or through another module or a worker it starts, is copied into the site
and precached by its service worker (a missing one works online and breaks offline)."""

from __future__ import annotations

import re

from pocketvision.exports.web_app import PAGE_FILES, WEB

IMPORTED = re.compile(r"""(?:from\s+|import\s*\(\s*|new URL\(\s*)["']\./([\w./-]+)["']""")


def reachable(start: str) -> set[str]:
    found, todo = set(), [start]
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        todo += [n for n in IMPORTED.findall((WEB / name).read_text()) if n.endswith((".js", ".mjs"))]
    return found


def test_every_module_the_page_loads_is_in_the_site():
    loaded = reachable("app.js")
    assert {"model-worker.js", "train-worker.js", "vendor/onnxruntime-web/ort.wasm.min.mjs"} <= loaded
    assert loaded - set(PAGE_FILES) == set()
    assert (WEB / "app.html").read_text().count('src="web/app.js"') == 1


def test_the_site_has_what_its_pages_need(tmp_path):
    from pocketvision.exports.web_app import pretrained_site_backbone, write_web_app

    site = write_web_app(tmp_path / "site", pretrained_site_backbone("efficientnet_lite0"))
    worker = (site / "sw.js").read_text()
    for name in PAGE_FILES:
        assert (site / "web" / name).is_file() and f'"web/{name}"' in worker
    for name in ("backbone.onnx", "backbone.json", "config.json", "index.html", "manifest.webmanifest"):
        assert f'"{name}"' in worker
