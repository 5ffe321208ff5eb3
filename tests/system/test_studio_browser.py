"""The studio in headless Chromium with a fake camera, end to end: create classes,
hold to record a burst (files appear on disk under one session), upload images,
train with progress, watch the live preview follow the camera, export and download,
and no request leaves 127.0.0.1."""

from __future__ import annotations

import pytest
from browser import browser_available, chromium_page
from live_helpers import camera_frame, running, studio_project, write_y4m

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (tests/install.sh installs both)")
pytest.importorskip("fastapi")


def test_collect_train_preview_export(fashion3, tmp_path, artifacts):
    from pocketvision.data.grouping import session_of
    from pocketvision.live.studio import studio_app

    sneakers = sorted((fashion3 / "val" / "sneaker").iterdir())[:5]
    trousers = sorted((fashion3 / "val" / "trouser").iterdir())[:5]
    # 3 s of sneakers, then 3 s of trousers, looped by Chromium's fake camera
    frames = [camera_frame(p) for p in sneakers for _ in range(9)]
    frames += [camera_frame(p) for p in trousers for _ in range(9)]
    camera = write_y4m(tmp_path / "camera.y4m", frames)
    project = tmp_path / "project"
    with running(studio_app(project)) as url, \
            chromium_page([f"--use-file-for-fake-video-capture={camera}"]) as page:
        page.on("dialog", lambda dialog: dialog.accept())
        page.goto(url)
        for name in ("up", "down", "scratch"):
            page.fill("#new-class", name)
            page.click("#add-class button")
            page.wait_for_selector(f'.class-card[data-class="{name}"]')
        assert sorted(p.name for p in (project / "samples").iterdir()) == ["down", "scratch", "up"]

        # hold to record: press, wait, release
        page.wait_for_function("document.getElementById('camera').videoWidth > 0")
        record = page.locator('button.record[data-class="scratch"]')
        record.dispatch_event("pointerdown")
        page.wait_for_timeout(1200)
        record.dispatch_event("pointerup")
        page.wait_for_function("window.studio.recorded >= 5")
        recorded = sorted((project / "samples" / "scratch").glob("*.jpg"))
        assert len(recorded) >= 5
        assert len({session_of(p.stem) for p in recorded}) == 1 and session_of(recorded[0].stem)

        # delete the scratch class through the page; the others get uploads
        page.locator('.class-card[data-class="scratch"] header button').click()
        page.wait_for_selector('.class-card[data-class="scratch"]', state="detached")
        assert not (project / "samples" / "scratch").exists()
        for name, label in (("up", "sneaker"), ("down", "trouser")):
            files = [str(p) for p in sorted((fashion3 / "train" / label).iterdir())[:20]]
            page.locator(f'.class-card[data-class="{name}"] input[type=file]').set_input_files(files)
            page.wait_for_function(
                f"document.querySelector('.class-card[data-class=\"{name}\"] .count').textContent.startsWith('20 ')")

        # a bad upload: a clear message, nothing saved
        bad = tmp_path / "notes.png"
        bad.write_text("not an image")
        page.locator('.class-card[data-class="up"] input[type=file]').set_input_files(str(bad))
        page.wait_for_selector("#notice:not([hidden])")
        assert "not an image" in page.inner_text("#notice")
        assert len(list((project / "samples" / "up").glob("*.jpg"))) == 20

        # the backbone to train on: the default chosen, the accurate pair offered
        assert page.locator("#backbone").input_value() == "efficientnet_lite0"
        offered = page.locator("#backbone option").evaluate_all("o => o.map(x => x.value)")
        assert "efficientnet_lite0_lite2" in offered

        page.click("#train")
        page.wait_for_selector("#preview-card:not([hidden])", timeout=180_000)
        assert (project / "models" / "model.pvb").exists()
        assert "validation accuracy" in page.inner_text("#train-status")

        # the live preview follows the fake camera from sneakers (up) to trousers (down)
        page.wait_for_function("window.studio.previewLabel === 'up'", timeout=30_000)
        page.wait_for_function("window.studio.previewLabel === 'down'", timeout=30_000)
        # hidden means not on screen (the panel's CSS display once beat the attribute);
        # set and read in one turn of the page: the preview may show the panel again at
        # its next unsure frame (under load it did, between two calls from here)
        shown = page.evaluate("(() => { const panel = document.getElementById('unsure'); "
                              "panel.hidden = true; return getComputedStyle(panel).display; })()")
        assert shown == "none"
        page.screenshot(path=str(artifacts / "studio.png"), full_page=True)

        # ten more pictures, Train again: only their features are computed, and the
        # page swaps in the new model without reloading (its own marker survives)
        page.evaluate("window.notReloaded = true")
        first_version = page.evaluate("document.getElementById('live-time').textContent")
        more = [str(p) for p in sorted((fashion3 / "train" / "sneaker").iterdir())[20:30]]
        page.locator('.class-card[data-class="up"] input[type=file]').set_input_files(more)
        page.wait_for_function(
            "document.querySelector('.class-card[data-class=\"up\"] .count').textContent.startsWith('30 ')")
        page.click("#train")
        page.wait_for_function(f"document.getElementById('live-time').textContent !== {first_version!r}",
                               timeout=60_000)
        job = page.evaluate("fetch('/api/job').then((r) => r.json())")
        assert job["result"]["features_computed"] == 10, job["result"]
        assert job["result"]["features_cached"] == 40  # the other 20 + 20 pictures
        assert page.evaluate("window.notReloaded") is True
        assert "live in" in page.inner_text("#live-time")
        page.wait_for_function("window.studio.previewLabel === 'up'", timeout=30_000)

        page.click("#export")
        page.wait_for_selector("#report a", timeout=180_000)
        link = page.locator("#report a").first
        assert link.inner_text() == "model.onnx"
        with page.expect_download() as download:
            link.click()
        assert download.value.suggested_filename == "model.onnx"
        page.screenshot(path=str(artifacts / "studio-exported.png"), full_page=True)
        assert page.outside_requests == []
    assert (project / "models" / "exports" / "report.json").exists()


def test_problem_folders_and_a_damaged_model_are_shown_and_fixable(fashion3, tmp_path, artifacts):
    """A folder that cannot be a class and a damaged model do not break the page:
    both are shown with what to do, and 'Set aside' moves the folder out of the way."""
    from pocketvision.live.studio import studio_app

    project = tmp_path / "project"
    for label in ("up", "down"):
        folder = project / "samples" / label
        folder.mkdir(parents=True)
        for source in sorted((fashion3 / "val" / "sneaker").iterdir())[:4]:
            (folder / f"upload-{source.stem}.jpg").write_bytes(source.read_bytes())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (project / "samples" / "holiday photos").symlink_to(elsewhere, target_is_directory=True)
    (project / "models").mkdir()
    (project / "models" / "model.pvb").write_bytes(b"not a bundle")
    with running(studio_app(project)) as url, chromium_page() as page:
        page.goto(url)
        page.wait_for_selector(".class-card.problem")
        assert "not used" in page.inner_text(".class-card.problem")
        assert "cannot be read" in page.inner_text("#train-status")
        assert page.locator('.class-card[data-class="up"]').count() == 1
        page.screenshot(path=str(artifacts / "studio-problems.png"), full_page=True)
        page.click(".class-card.problem button")
        page.wait_for_selector(".class-card.problem", state="detached")
        assert page.outside_requests == []
    assert not (project / "samples" / "holiday photos").exists() and elsewhere.is_dir()


def test_collecting_on_a_phone_sized_screen(fashion3, tmp_path, artifacts):
    """The studio's collect page in a phone's viewport with touch: the camera comes
    first, nothing scrolls sideways, and holding Record with a finger saves a burst."""
    from browser import CHROMIUM, FLAGS
    from playwright.sync_api import sync_playwright

    from pocketvision.data.grouping import session_of
    from pocketvision.live.studio import studio_app

    camera = write_y4m(tmp_path / "camera.y4m",
                       [camera_frame(p) for p in sorted((fashion3 / "val" / "sneaker").iterdir())[:5]])
    project = tmp_path / "project"
    with running(studio_app(project)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=FLAGS + [f"--use-file-for-fake-video-capture={camera}"])
        page = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2,
                                   is_mobile=True, has_touch=True).new_page()
        page.goto(url)
        # tap once the page has settled (camera on, project read): a tap aims at where
        # the button is, and the status lines above it still change while loading
        page.wait_for_function("document.getElementById('camera').videoWidth > 0")
        page.wait_for_selector("#backbone option", state="attached")
        page.fill("#new-class", "thumbs up")
        page.tap("#add-class button")
        record = page.locator('button.record[data-class="thumbs up"]')
        record.wait_for()
        camera_top = page.eval_on_selector("#camera", "e => e.getBoundingClientRect().top")
        cards_top = page.eval_on_selector("#classes", "e => e.getBoundingClientRect().top")
        assert camera_top < cards_top  # the camera first
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        record.dispatch_event("pointerdown", {"pointerType": "touch"})
        page.wait_for_timeout(1000)
        record.dispatch_event("pointerup", {"pointerType": "touch"})
        page.wait_for_function("window.studio.recorded >= 4")
        page.wait_for_function("[...document.querySelectorAll('.thumb img')].length >= 4 && "
                               "[...document.images].every((i) => i.complete)")
        page.screenshot(path=str(artifacts / "studio-phone.png"), full_page=True)
        browser.close()
    recorded = sorted((project / "samples" / "thumbs up").glob("*.jpg"))
    assert len(recorded) >= 4 and len({session_of(p.stem) for p in recorded}) == 1


def test_the_doctor_and_unsure_frames_in_the_studio(fashion3, photos, tmp_path, artifacts):
    """'Check my pictures' lists a planted wrong label with a one-click move; a
    camera frame like nothing trained on is offered for adding to a class, and one
    click saves it there."""
    import numpy as np
    from PIL import Image

    from pocketvision.live.studio import studio_app

    project = studio_project(tmp_path / "project", fashion3, per_class=20)
    stray = sorted((fashion3 / "train" / "trouser").iterdir())[25]
    (project / "samples" / "up" / stray.name).write_bytes(stray.read_bytes())  # a wrong label
    from live_helpers import FRAME_SIZE

    cat = np.asarray(Image.fromarray(photos["chelsea"]).convert("RGB").resize(FRAME_SIZE))
    camera = write_y4m(tmp_path / "camera.y4m", [cat] * 30)
    with running(studio_app(project)) as url, \
            chromium_page([f"--use-file-for-fake-video-capture={camera}"]) as page:
        page.goto(url)
        page.click("#train")
        page.wait_for_selector("#preview-card:not([hidden])", timeout=120_000)

        page.click("#doctor-run")
        page.wait_for_selector(".finding.mislabeled", timeout=60_000)
        row = page.locator(".finding.mislabeled").filter(has_text="Move to down").first
        assert row.count() == 1
        page.wait_for_selector("#unsure:not([hidden])", timeout=30_000)
        assert "Like nothing it was trained on" in page.inner_text("#unsure-why")
        page.screenshot(path=str(artifacts / "studio-doctor.png"), full_page=True)
        rows = page.locator(".finding.mislabeled").count()
        row.get_by_text("Move to down").click()
        page.wait_for_function(f"document.querySelectorAll('.finding.mislabeled').length === {rows - 1}")
        assert (project / "samples" / "down" / stray.name).exists()
        assert not (project / "samples" / "up" / stray.name).exists()

        before = len(list((project / "samples" / "up").iterdir()))
        page.locator("#unsure-classes button", has_text="up").click()
        page.wait_for_function("window.studio.addedUnsure === 1")
        assert len(list((project / "samples" / "up").iterdir())) == before + 1
        assert page.outside_requests == []
