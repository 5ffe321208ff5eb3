"""``export --format web`` as a phone would use it: the phone studio around the
bundle, served by a plain ``python -m http.server``; Chromium emulates a phone
(small viewport, touch, a fake camera); the service worker takes over, the page is
cross-origin isolated (threads) and opens with the bundle's model; the player picks
the jump class and the choice survives a reload; the touch button jumps; with the
server gone and the browser offline a reload still plays. No request leaves
127.0.0.1."""

from __future__ import annotations

import json

import pytest
from browser import browser_available
from conftest import sample_dir
from phone import Phone, camera_file, static_site

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (tests/install.sh installs both)")


def test_the_web_app_opens_with_the_bundle_plays_and_works_offline(trained, fashion3, tmp_path,
                                                                    artifacts):
    from playwright.sync_api import sync_playwright

    from pocketvision.exports.job import export

    report = export(trained.bundle, tmp_path / "out", ["web"])  # no --map: the player chooses
    [entry] = report.exports
    assert entry.format == "web" and entry.ran and "phone studio" in entry.notes[0]
    assert entry.top1_agreement == 1.0 and entry.max_prob_diff < 1e-4  # what the page runs
    site = tmp_path / "out" / "web"
    manifest = json.loads((site / "manifest.webmanifest").read_text())
    assert manifest["display"] == "standalone" and len(manifest["icons"]) == 2
    camera = camera_file(tmp_path, "sneakers", sorted((fashion3 / "val" / "sneaker").iterdir())[:6])
    outside = []
    with static_site(site) as (url, server), sync_playwright() as playwright:
        phone = Phone(playwright, tmp_path / "profile", outside)
        page = phone.open(url, camera)
        state = phone.until("s.modelReady && s.cameraReady && s.backboneReady")
        phone.until("s.threads >= 2")  # the service worker's headers allow wasm threads
        assert state["model"]["source"] == "came with this web app"
        assert state["model"]["labels"] == trained.classes
        assert state["view"] == "play"  # a site with a model opens on its game (item 29)
        page.wait_for_function("document.getElementById('steer').textContent.includes("
                               "'No class steers the game yet')")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone

        phone.play("sneaker")  # the camera shows sneakers
        page.wait_for_function("document.getElementById('steer').textContent.startsWith("
                               "'“sneaker” jumps')")
        phone.until("s.jumps >= 1 && s.label === 'sneaker'", 60)
        shown = page.inner_text("#game-model")  # what the game runs, told to the player
        assert shown == "Game model: the trained model itself, at its 224 px input"
        smaller = page.evaluate("import('./web/recipe/page-model.js').then((m) => "
                                "m.agreementNote(224, 160, {top1: 0.973, images: 150}))")
        assert smaller == ("160 px: the trained model's answer on 97 % of 150 check pictures "
                           "(it takes 224 px)")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(artifacts / "web-app-phone.png"))
        page.reload()
        phone.until("s.modelReady")
        page.get_by_role("tab", name="Play").click()
        assert page.eval_on_selector("#jump-class", "e => e.value") == "sneaker"  # remembered
        before = phone.state()["jumps"]
        page.get_by_role("button", name="Jump", exact=True).tap()
        assert phone.state()["jumps"] > before

        server.terminate()
        server.wait(timeout=10)
        phone.context.set_offline(True)
        page.reload()
        phone.until("s.modelReady && s.cameraReady && s.backboneReady")
        page.get_by_role("tab", name="Play").click()
        seen = phone.labels_seen()
        assert set(seen) - {None} <= set(trained.classes) | {"unknown"} and "sneaker" in seen
        phone.close()
    assert outside == []


def test_two_web_apps_and_another_app_on_one_origin_keep_their_offline_files(trained, tmp_path):
    """A user's GitHub Pages: every project on one origin. Each pocketvision app's
    service worker keeps to its own caches; another app's cache survives both."""
    from playwright.sync_api import sync_playwright

    from pocketvision.exports.web_app import write_new_web_app

    origin = tmp_path / "origin"
    for name in ("first", "second"):
        write_new_web_app(origin / name, "efficientnet_lite0")
    (origin / "other").mkdir()
    (origin / "other" / "index.html").write_text(
        "<script>caches.open('someone-else').then((c) => c.put('x', new Response('mine')))"
        ".then(() => { window.stored = true; });</script>")
    outside = []
    with static_site(origin) as (url, _), sync_playwright() as playwright:
        phone = Phone(playwright, tmp_path / "profile", outside)
        camera = camera_file(tmp_path, "cam", sorted((sample_dir() / "sneaker").iterdir())[:2])
        page = phone.open(url + "other/", camera, settle=False)
        page.wait_for_function("window.stored === true")
        for name in ("first", "second"):
            page.goto(url + name + "/")
            phone.settled()
        page.goto(url + "other/")
        names = page.evaluate("caches.keys()")
        assert "someone-else" in names
        assert sum(n.startswith("pocketvision ") and n.split(" ")[1].endswith("/first/") for n in names) == 1
        assert sum(n.startswith("pocketvision ") and n.split(" ")[1].endswith("/second/") for n in names) == 1
        assert page.evaluate("caches.open('someone-else').then((c) => c.match('x')).then((r) => r.text())") == "mine"
        phone.close()
    assert outside == []


def test_a_new_export_over_the_site_replaces_the_model_that_came_with_it(trained, fashion3,
                                                                          tmp_path):
    """Hardening 3, item 17: the phone kept the model of the site's first export; the
    site is exported again with another model; once the new site reaches the phone, the
    page plays the new model (a model trained or opened on the phone would stay)."""
    import shutil
    import time

    from playwright.sync_api import sync_playwright

    from pocketvision.exports.job import export
    from pocketvision.training.job import train

    two = tmp_path / "two"
    for label in trained.classes[:2]:
        shutil.copytree(fashion3 / "train" / label, two / label)
    other = train(two, tmp_path / "other.pvb")
    out = tmp_path / "out"
    export(trained.bundle, out, ["web"])
    camera = camera_file(tmp_path, "sneakers", sorted((fashion3 / "val" / "sneaker").iterdir())[:6])
    with static_site(out / "web") as (url, _), sync_playwright() as playwright:
        phone = Phone(playwright, tmp_path / "profile", [])
        page = phone.open(url, camera)
        assert phone.until("s.modelReady")["model"]["labels"] == trained.classes
        export(other.bundle, out, ["web"])
        deadline = time.monotonic() + 240  # a busy machine: caching the new site takes a while
        while phone.state()["labels"] != other.classes and time.monotonic() < deadline:
            # as a visit does: look for a new service worker; once it has cached the new
            # site and taken over, the page opened again plays the new model
            page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
            page.reload()
            phone.until("s.modelReady")
        assert phone.state()["labels"] == other.classes
        assert phone.state()["model"]["source"] == "came with this web app"
        phone.close()


def test_a_model_trained_on_a_fine_tuned_site_works_with_the_cli(fashion3, tmp_path):
    """Hardening 3, item 16: a web app exported from a fine-tuned bundle runs that
    bundle's own backbone weights; a model trained on it named them by hash without
    carrying them, so predict refused it ('another version' of the weights). It now
    carries them, and predict gives its answers on this machine."""
    import shutil

    from conftest import run_cli, subset
    from playwright.sync_api import sync_playwright

    from pocketvision.config import TrainConfig
    from pocketvision.exports.job import export
    from pocketvision.training.job import train

    tuned = train(subset(tmp_path / "data", ["t-shirt", "trouser"], 8), tmp_path / "tuned.pvb",
                  TrainConfig(fine_tune=1, fine_tune_epochs=1, fine_tune_lr=1e-3, val_fraction=0.25))
    export(tuned.bundle, tmp_path / "out", ["web"])
    camera = camera_file(tmp_path, "shirts", sorted((fashion3 / "val" / "t-shirt").iterdir())[:6])
    with static_site(tmp_path / "out" / "web") as (url, _), sync_playwright() as playwright:
        phone = Phone(playwright, tmp_path / "profile", [])
        page = phone.open(url, camera)
        phone.until("s.cameraReady && s.backboneReady")
        page.get_by_role("tab", name="Collect").click()
        for name in ("shirt", "other"):
            phone.add_class(name)
            phone.record(name, 4)
        assert phone.train()["training"]["status"] == "done"
        model = phone.download("Download model", tmp_path / "phone.pvb")
        phone.close()
    shutil.rmtree(tmp_path / "out")  # nothing of the site is needed: the model carries it all
    answer = run_cli("predict", model, next((fashion3 / "val" / "t-shirt").iterdir()), "--json")
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)[0]["label"] in ("shirt", "other")
