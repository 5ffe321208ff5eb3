"""The desktop studio is the phone's app over a project folder, in headless Chromium
with a fake camera, end to end: create classes, hold to record a burst (files appear
on disk under one session), add photos, train with the CLI's recipe on the server,
watch the live label follow the camera, export and download, and no request leaves
127.0.0.1."""

from __future__ import annotations

import time

import pytest
from browser import browser_available, chromium_page
from live_helpers import camera_frame, running, studio_project, write_y4m

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (tests/install.sh installs both)")
pytest.importorskip("fastapi")


def until(page, condition: str, timeout: float = 90) -> dict:
    """Read window.studioState (as ``s``) until ``condition`` holds."""
    deadline, seen = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        seen = page.evaluate(f"(() => {{ const s = window.studioState; return s && ({condition}) ? s : null; }})()")
        if seen:
            return seen
        time.sleep(0.2)
    raise AssertionError(f"never: {condition}; last seen: {page.evaluate('window.studioState')}")


def add_class(page, name: str) -> None:
    page.fill("#new-class", name)
    page.get_by_role("button", name="Add class").click()
    page.wait_for_selector(f'.class-card[data-class="{name}"]')


def hold_record(page, name: str, pictures: int, finger: bool = False) -> None:
    """Choose the class, hold Record (with the mouse, or a finger on a touch screen)
    until ``pictures`` more are kept, let go."""
    page.get_by_role("radio", name=name, exact=True).click()
    before = page.evaluate("window.studioState.recorded")
    box = page.locator("#record").bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    touch = page.context.new_cdp_session(page) if finger else None
    if touch:
        touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]})
    else:
        page.mouse.move(x, y)
        page.mouse.down()
    try:
        until(page, f"s.recorded >= {before + pictures}", 60)
    finally:
        if touch:
            touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        else:
            page.mouse.up()
    until(page, "s.recording === null", 20)


def train(page) -> dict:
    """Tap Train; the state once this training (not an earlier one) has ended."""
    page.get_by_role("tab", name="Train").click()
    before = page.evaluate("window.studioState.training.clickedAt ?? -1")
    page.get_by_role("button", name="Train", exact=True).click()
    return until(page, f"s.training.clickedAt > {before} && "
                       "(s.training.status === 'done' || s.training.status === 'failed')", 180)


def count_is(page, name: str, pictures: int) -> None:
    page.wait_for_function(f"document.querySelector('.class-card[data-class=\"{name}\"] .count')"
                           f".textContent.startsWith('{pictures} ')")


def test_collect_train_preview_export(fashion3, tmp_path, artifacts, monkeypatch):
    from pocketvision.data.grouping import session_of
    from pocketvision.live.studio import studio_app

    # a cache of its own: whether Train computes 10 features, not 0, must not depend on
    # which other test stored the same pictures first
    monkeypatch.setenv("POCKETVISION_CACHE_DIR", str(tmp_path / "cache"))

    sneakers = sorted((fashion3 / "val" / "sneaker").iterdir())[:5]
    trousers = sorted((fashion3 / "val" / "trouser").iterdir())[:5]
    # 3 s of sneakers, then 3 s of trousers, looped by Chromium's fake camera
    frames = [camera_frame(p) for p in sneakers for _ in range(9)]
    frames += [camera_frame(p) for p in trousers for _ in range(9)]
    camera = write_y4m(tmp_path / "camera.y4m", frames)
    project = tmp_path / "project"
    with running(studio_app(project)) as url, \
            chromium_page([f"--use-file-for-fake-video-capture={camera}"]) as page:
        page.on("dialog", lambda dialog: dialog.accept())  # "Delete class scratch and its ...?"
        page.goto(url)
        until(page, "s.cameraReady")
        for name in ("up", "down", "scratch"):
            add_class(page, name)
        assert sorted(p.name for p in (project / "samples").iterdir()) == ["down", "scratch", "up"]

        hold_record(page, "scratch", 5)  # hold to record: press, wait, release
        recorded = sorted((project / "samples" / "scratch").glob("*.jpg"))
        assert len(recorded) >= 5
        assert len({session_of(p.stem) for p in recorded}) == 1 and session_of(recorded[0].stem)

        # delete the scratch class through the page (into the project's trash); the
        # others get photos
        page.get_by_role("button", name="Delete class scratch").click()
        page.wait_for_selector('.class-card[data-class="scratch"]', state="detached")
        assert not (project / "samples" / "scratch").exists()
        assert list((project / "samples" / ".trash").rglob("*.jpg"))
        page.locator(".toast").get_by_role("button", name="Undo").click()  # it all comes back
        back = page.wait_for_function("document.querySelector('.class-card[data-class=\"scratch\"]') ? 'back' "
                                      ": document.querySelector('.toast')?.textContent.includes('Could not') "
                                      "&& document.querySelector('.toast').textContent").json_value()
        assert back == "back", back  # else the sentence saying why it could not be undone
        assert sorted(p.name for p in (project / "samples" / "scratch").iterdir()) == [p.name for p in recorded]
        page.get_by_role("button", name="Delete class scratch").click()
        page.wait_for_selector('.class-card[data-class="scratch"]', state="detached")
        for name, label in (("up", "sneaker"), ("down", "trouser")):
            files = [str(p) for p in sorted((fashion3 / "train" / label).iterdir())[:20]]
            page.locator(f'.class-card[data-class="{name}"] input[type=file]').set_input_files(files)
            count_is(page, name, 20)

        # a bad photo: a clear message, nothing saved
        bad = tmp_path / "notes.png"
        bad.write_text("not an image")
        page.locator('.class-card[data-class="up"] input[type=file]').set_input_files(str(bad))
        page.wait_for_selector("#notice:not([hidden])")
        assert "not an image" in page.inner_text("#notice")
        assert len(list((project / "samples" / "up").glob("*.jpg"))) == 20

        # the backbone to train on: the default chosen, the accurate pair offered
        page.get_by_role("tab", name="Train").click()
        assert page.locator("#backbone").input_value() == "efficientnet_lite0"
        offered = page.locator("#backbone option").evaluate_all("o => o.map(x => x.value)")
        assert "efficientnet_lite0_lite2" in offered

        state = train(page)
        assert state["training"]["status"] == "done", state["training"]
        assert (project / "models" / "model.pvb").exists()
        page.wait_for_selector("#model-card:not([hidden])")
        assert "bursts it never saw" in page.inner_text("#model-card")  # the validation accuracy
        assert state["model"]["labels"] == ["down", "up"]

        # the live label follows the fake camera from sneakers (up) to trousers (down)
        page.get_by_role("tab", name="Play").click()
        until(page, "s.label === 'up'", 30)
        until(page, "s.label === 'down'", 30)
        # hidden means not on screen (the panel's CSS display once beat the attribute)
        shown = page.evaluate("(() => { const panel = document.getElementById('unsure'); "
                              "panel.hidden = true; return getComputedStyle(panel).display; })()")
        assert shown == "none"
        page.screenshot(path=str(artifacts / "studio.png"), full_page=True)

        # ten more pictures, Train again: only their features are computed, and the
        # page swaps in the new model without reloading (its own marker survives)
        page.evaluate("window.notReloaded = true")
        page.get_by_role("tab", name="Collect").click()
        more = [str(p) for p in sorted((fashion3 / "train" / "sneaker").iterdir())[20:30]]
        page.locator('.class-card[data-class="up"] input[type=file]').set_input_files(more)
        count_is(page, "up", 30)
        assert train(page)["training"]["computed"] == 10
        job = page.evaluate("fetch('/api/job').then((r) => r.json())")
        assert job["result"]["features_computed"] == 10, job["result"]
        assert job["result"]["features_cached"] == 40  # the other 20 + 20 pictures
        assert page.evaluate("window.notReloaded") is True
        page.get_by_role("tab", name="Play").click()
        until(page, "s.label === 'up'", 30)

        page.get_by_role("tab", name="Train").click()
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
        # the class cards and the problem cards come from two reads of the project: wait for both
        page.wait_for_function("document.querySelectorAll('.class-card[data-class=\"up\"]').length === 1")
        assert page.locator('.class-card[data-class="up"]').count() == 1
        page.screenshot(path=str(artifacts / "studio-problems.png"), full_page=True)
        page.click(".class-card.problem button")
        page.wait_for_selector(".class-card.problem", state="detached")
        assert page.outside_requests == []
    assert not (project / "samples" / "holiday photos").exists() and elsewhere.is_dir()


def test_collecting_on_a_phone_sized_screen(fashion3, tmp_path, artifacts):
    """The studio in a phone's viewport with touch: the camera comes first, nothing
    scrolls sideways, and holding Record with a finger saves a burst."""
    from browser import CHROMIUM, FLAGS
    from phone import PHONE
    from playwright.sync_api import sync_playwright

    from pocketvision.data.grouping import session_of
    from pocketvision.live.studio import studio_app

    camera = write_y4m(tmp_path / "camera.y4m",
                       [camera_frame(p) for p in sorted((fashion3 / "val" / "sneaker").iterdir())[:5]])
    project = tmp_path / "project"
    with running(studio_app(project)) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=FLAGS + [f"--use-file-for-fake-video-capture={camera}"])
        page = browser.new_context(**PHONE).new_page()
        page.goto(url)
        until(page, "s.cameraReady")
        page.fill("#new-class", "thumbs up")
        page.get_by_role("button", name="Add class").tap()
        page.wait_for_selector('.class-card[data-class="thumbs up"]')
        camera_top = page.eval_on_selector(".camera-slot", "e => e.getBoundingClientRect().top")
        cards_top = page.eval_on_selector("#classes", "e => e.getBoundingClientRect().top")
        assert camera_top < cards_top  # the camera first
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        hold_record(page, "thumbs up", 4, finger=True)
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
    from live_helpers import FRAME_SIZE
    from PIL import Image

    from pocketvision.live.studio import studio_app

    project = studio_project(tmp_path / "project", fashion3, per_class=20)
    stray = sorted((fashion3 / "train" / "trouser").iterdir())[25]
    (project / "samples" / "up" / stray.name).write_bytes(stray.read_bytes())  # a wrong label
    cat = np.asarray(Image.fromarray(photos["chelsea"]).convert("RGB").resize(FRAME_SIZE))
    camera = write_y4m(tmp_path / "camera.y4m", [cat] * 30)
    with running(studio_app(project)) as url, \
            chromium_page([f"--use-file-for-fake-video-capture={camera}"]) as page:
        page.goto(url)
        until(page, "s.classes.length === 2")
        assert train(page)["training"]["status"] == "done"

        page.click("#doctor-run")
        page.wait_for_selector(".finding.mislabeled", timeout=60_000)
        row = page.locator(".finding.mislabeled").filter(has_text="Move to down").first
        assert row.count() == 1
        rows = page.locator(".finding.mislabeled").count()
        row.get_by_text("Move to down").click()
        page.wait_for_function(f"document.querySelectorAll('.finding.mislabeled').length === {rows - 1}")
        assert (project / "samples" / "down" / stray.name).exists()
        assert not (project / "samples" / "up" / stray.name).exists()

        page.get_by_role("tab", name="Play").click()
        page.wait_for_selector("#unsure:not([hidden])", timeout=30_000)
        assert "Like nothing it knows" in page.inner_text("#unsure")
        page.screenshot(path=str(artifacts / "studio-doctor.png"), full_page=True)
        before = len(list((project / "samples" / "up").iterdir()))
        page.locator("#unsure button", has_text="up").click()
        page.wait_for_function("document.querySelector('#unsure').textContent.includes('Added to')")
        assert len(list((project / "samples" / "up").iterdir())) == before + 1
        assert page.outside_requests == []


def test_a_video_added_to_a_class_becomes_one_burst(fashion3, tmp_path):
    """The studio offers videos where a phone offers photos: every 5th frame is kept,
    all of one capture session."""
    from live_helpers import write_video

    from pocketvision.data.grouping import session_of
    from pocketvision.live.studio import studio_app

    frames = [camera_frame(p) for p in sorted((fashion3 / "val" / "sneaker").iterdir())[:6] for _ in range(5)]
    clip = write_video(tmp_path / "sneakers.avi", frames)
    project = tmp_path / "project"
    with running(studio_app(project)) as url, chromium_page() as page:
        page.goto(url)
        until(page, "s.backboneReady")
        add_class(page, "up")
        page.locator('.class-card[data-class="up"] input[type=file]').set_input_files(str(clip))
        count_is(page, "up", 6)
        assert page.outside_requests == []
    kept = sorted((project / "samples" / "up").glob("*.jpg"))
    assert len(kept) == 6 and len({session_of(p.stem) for p in kept}) == 1
