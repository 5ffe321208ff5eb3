"""Nothing is lost on the phone: a full storage quota says so and keeps what was kept;
a reload in the middle of training leaves the project and model as they were; a
damaged model file, or one of another backbone's weights, is refused with a
sentence; a class name with HTML in it is shown as text; two tabs on one project
stay consistent. Each on an emulated phone, the site served by python -m http.server."""

from __future__ import annotations

import pytest
from browser import browser_available
from conftest import sample_dir
from phone import Phone, camera_file, phone_site, static_site

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (.ci/run installs both)")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return phone_site(tmp_path_factory)


@pytest.fixture(scope="module")
def browser(site, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    camera = camera_file(tmp_path_factory.mktemp("camera"), "sneakers",
                         sorted((sample_dir() / "sneaker").iterdir())[:20])
    outside = []
    with static_site(site) as (url, _), sync_playwright() as playwright:
        yield {"playwright": playwright, "url": url, "camera": camera, "outside": outside}
    assert outside == []


@pytest.fixture
def phone(browser, tmp_path):
    phone = Phone(browser["playwright"], tmp_path / "profile", browser["outside"])
    phone.open(browser["url"], browser["camera"])
    phone.until("s.cameraReady && s.backboneReady")
    yield phone
    phone.close()


def test_a_full_storage_says_so_and_keeps_what_was_kept(browser, site, tmp_path):
    """A phone with room for the site and about twenty pictures: recording on until
    the storage is full stops with a message, and every picture kept before stays."""
    room = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) + 2_000_000
    phone = Phone(browser["playwright"], tmp_path / "profile", browser["outside"])
    try:
        phone.open(browser["url"], browser["camera"], quota=room)
        phone.until("s.cameraReady && s.backboneReady")
        phone.add_class("sneaker")
        phone.page.get_by_role("radio", name="sneaker").click()
        box = phone.page.get_by_role("button", name="Record", exact=True).bounding_box()
        phone.page.mouse.move(box["x"] + 20, box["y"] + 20)
        phone.page.mouse.down()
        phone.page.wait_for_function("document.getElementById('notice').textContent.includes('full')",
                                     timeout=60_000)
        phone.page.mouse.up()
        notice = phone.page.locator("#notice").inner_text()
        assert "storage for this app is full" in notice and "nothing kept before was lost" in notice
        kept = phone.until("s.recording === null")["classes"][0]["pictures"]
        assert kept >= 5
        phone.page.reload()
        state = phone.until("s.cameraReady")
        assert state["classes"][0]["pictures"] == kept  # all of them, none half-written
    finally:
        phone.close()


def test_a_reload_during_training_leaves_the_project_as_it_was(phone):
    for name in ("sneaker", "other"):
        phone.add_class(name)
        phone.record(name, 4)
    first = phone.train()
    assert first["training"]["status"] == "done"
    phone.page.get_by_role("tab", name="Collect").click()
    phone.record("other", 60)  # new pictures: the next Train has features to compute
    phone.page.get_by_role("tab", name="Train").click()
    phone.page.get_by_role("button", name="Train", exact=True).click()
    phone.until("s.training.status === 'running'", 10)
    phone.page.reload()  # mid-training
    state = phone.until("s.modelReady && s.cameraReady")
    assert state["model"] == first["model"]  # the model before this Train, whole
    again = phone.train()  # and training again works, on the same pictures
    assert again["training"]["status"] == "done" and again["model"]["created"]


def test_damaged_or_foreign_models_are_refused_with_a_sentence(phone, trained, tmp_path):
    from pocketvision.model.bundle import read_meta, read_tensors, write_bundle

    meta = read_meta(trained.bundle)
    foreign = write_bundle(tmp_path / "foreign.pvb", {
        k: v for k, v in read_tensors(trained.bundle).items() if not k.startswith("backbone.")},
        meta.replace(backbone=meta.backbone.__class__("mobilenet_v3_large", "a" * 64, 1280)))
    damaged = tmp_path / "damaged.pvb"
    damaged.write_bytes(trained.bundle.read_bytes()[: 5000])
    phone.page.get_by_role("tab", name="Train").click()
    for path, expected in ((damaged, "damaged"), (foreign, "trained on mobilenet_v3_large")):
        with phone.page.expect_file_chooser() as chooser:
            phone.page.get_by_role("button", name="Open model").click()
        chooser.value.set_files(str(path))
        phone.page.wait_for_function("(name) => document.getElementById('notice').textContent"
                                     ".includes(name)", arg=f"{path.name} cannot be used")
        assert expected in phone.page.locator("#notice").inner_text()
    assert not phone.state()["modelReady"]  # nothing replaced


def test_class_names_with_html_are_shown_as_text(phone):
    name = '<img src=x onerror="window.hacked=1">b'
    phone.add_class(name)
    card = phone.page.locator(".class-card").first
    assert card.locator("h3").inner_text() == name
    assert card.locator("img[src=x]").count() == 0
    assert phone.page.evaluate("window.hacked") is None
    assert "is not allowed" in _refused(phone, "../evil") and "slash" in _refused(phone, "../evil")


def test_two_tabs_on_one_project_stay_consistent(phone):
    other = phone.context.new_page()
    other.goto(phone.page.url)
    other.wait_for_function("window.studioState && window.studioState.cameraReady", timeout=60_000)
    phone.add_class("shoe")
    other.wait_for_function("window.studioState.classes.some((c) => c.name === 'shoe')")
    other.on("dialog", lambda dialog: dialog.accept("boot"))
    other.locator('.class-card[data-class="shoe"] h3 button').click()  # rename in the other tab
    phone.until("s.classes.length === 1 && s.classes[0].name === 'boot'", 20)
    phone.record("boot", 3)
    other.wait_for_function("window.studioState.classes[0].pictures >= 3")
    phone.page.fill("#new-class", "boot")  # the same name from the other tab is refused
    phone.page.get_by_role("button", name="Add class").click()
    phone.page.locator("#notice").wait_for(state="visible")
    assert "already a class" in phone.page.locator("#notice").inner_text()
    assert [c["name"] for c in phone.state()["classes"]] == ["boot"]
    other.close()


def _refused(phone, name: str) -> str:
    phone.page.fill("#new-class", name)
    phone.page.get_by_role("button", name="Add class").click()
    phone.page.locator("#notice").wait_for(state="visible")
    return phone.page.locator("#notice").inner_text()
