"""The web app's file list is complete: every module the phone studio's page loads,
directly or through another module or a worker it starts, is copied into the site
and precached by its service worker (a missing one works online and breaks offline)."""

from __future__ import annotations

from js_imports import WEB, reachable

from pocketvision.exports.web_app import PAGE_FILES


def test_every_module_the_page_loads_is_in_the_site():
    loaded = reachable("app/app.js")
    assert {"app/model-worker.js", "recipe/train-worker.js",
            "vendor/onnxruntime-web/ort.wasm.min.mjs"} <= loaded
    assert loaded - set(PAGE_FILES) == set()
    assert (WEB / "app" / "app.html").read_text().count('src="web/app/app.js"') == 1
    assert not any(name.startswith("client/") for name in PAGE_FILES)  # for other people's pages


def test_the_site_has_what_its_pages_need(tmp_path):
    from pocketvision.exports.web_app import pretrained_site_backbone, write_web_app

    site = write_web_app(tmp_path / "site", pretrained_site_backbone("efficientnet_lite0"))
    worker = (site / "sw.js").read_text()
    for name in PAGE_FILES:
        assert (site / "web" / name).is_file() and f'"web/{name}"' in worker
    for name in ("backbone.onnx", "backbone.json", "config.json", "index.html", "manifest.webmanifest"):
        assert f'"{name}"' in worker


def test_the_vendored_runtime_is_one_build_and_its_notice_names_every_file():
    vendor = WEB / "vendor" / "onnxruntime-web"
    shipped = sorted(p.name for p in vendor.iterdir() if p.name != "NOTICE")
    notice = (vendor / "NOTICE").read_text()
    assert [name for name in shipped if name not in notice] == []
    assert [name for name in shipped if name.endswith(".js")] == []  # the module build only
