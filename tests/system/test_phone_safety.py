"""Nothing is lost on the phone, in Chromium (what Chromium alone can set up here):
a full storage quota says so and keeps what was kept, and Undo works on a full phone;
deletions are final only when their undo time has passed; a rename in one tab shows
in the other. Each on an emulated phone, the site served by python -m http.server.

A reload during Train, damaged and foreign models, HTML in class names and two tabs
run in every engine: test_every_engine_safety.py."""

from __future__ import annotations

import pytest
from browser import browser_available
from conftest import sample_dir
from phone import Phone, camera_file, phone_site, static_site

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (tests/install.sh installs both)")


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


@pytest.fixture
def full_phone(browser, site, tmp_path):
    """A phone with room for the site and a couple of MB of pictures, recorded into
    class "sneaker" until the storage is full; yields (phone, pictures kept)."""
    room = sum(p.stat().st_size for p in site.rglob("*") if p.is_file()) + 2_000_000
    phone = Phone(browser["playwright"], tmp_path / "profile", browser["outside"])
    try:
        phone.open(browser["url"], browser["camera"], quota=room)
        phone.until("s.cameraReady && s.backboneReady")
        phone.add_class("sneaker")
        yield phone, fill_until_full(phone, "sneaker")
    finally:
        phone.close()


def test_a_full_storage_says_so_and_keeps_what_was_kept(full_phone):
    """Recording on until the storage is full stops with a message, and every
    picture kept before stays."""
    phone, kept = full_phone
    notice = phone.page.locator("#notice").inner_text()
    assert "storage for this app is full" in notice and "nothing kept before was lost" in notice
    assert kept >= 5
    phone.page.reload()
    state = phone.until("s.cameraReady")
    assert state["classes"][0]["pictures"] == kept  # all of them, none half-written


def test_two_tabs_rename_a_class_and_refuse_a_taken_name(phone):
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


def fill_until_full(phone, name: str) -> int:
    """Hold Record into ``name`` until the storage is full; the pictures kept."""
    phone.page.get_by_role("radio", name=name, exact=True).click()
    box = phone.page.locator("#record").bounding_box()
    phone.page.mouse.move(box["x"] + 20, box["y"] + 20)
    phone.page.mouse.down()
    phone.page.wait_for_function("document.getElementById('notice').textContent.includes('full')",
                                 timeout=60_000)
    phone.page.mouse.up()
    return phone.until("s.recording === null")["classes"][0]["pictures"]


def pictures_of(phone, name: str) -> int:
    return next(c["pictures"] for c in phone.state()["classes"] if c["name"] == name)


# True once the project's trash holds no mark (read straight from IndexedDB).
TRASH_IS_EMPTY = """async () => {
  const { name } = (await indexedDB.databases()).find((d) => d.name.startsWith("pocketvision:")); // the project's, not the Use view's
  const db = await new Promise((resolve) => { indexedDB.open(name).onsuccess = (e) => resolve(e.target.result); });
  const marks = await new Promise((resolve) => {
    db.transaction("trash").objectStore("trash").count().onsuccess = (e) => resolve(e.target.result);
  });
  db.close();
  return marks === 0;
}"""


def tap_undo(phone) -> None:
    toast = phone.page.locator(".toast")
    toast.wait_for()
    assert toast.get_by_role("button", name="Undo").count() == 1, toast.inner_text()
    toast.get_by_role("button", name="Undo").click()


def test_undo_on_a_full_phone_brings_back_what_was_deleted(full_phone):
    """Hardening 3, item 4: with the storage full, deleting a picture or a class and
    tapping Undo brings it back (IndexedDB frees space late, so writing the pictures
    back would fail), and it is still there after a reload."""
    phone, kept = full_phone
    phone.page.locator(".thumb button").first.click()
    phone.until(f"s.classes[0].pictures === {kept - 1}")
    tap_undo(phone)
    phone.until(f"s.classes[0].pictures === {kept}")
    phone.page.once("dialog", lambda dialog: dialog.accept())
    phone.page.get_by_role("button", name="Delete class sneaker").click()
    phone.until("s.classes.length === 0")
    tap_undo(phone)
    phone.until(f"s.classes.length === 1 && s.classes[0].pictures === {kept}")
    assert "nothing kept before was lost" not in phone.page.locator("#notice").inner_text()
    phone.page.reload()
    state = phone.until("s.cameraReady")
    assert state["classes"] == [{"name": "sneaker", "pictures": kept}]


def test_a_deletion_is_final_only_when_its_undo_time_has_passed(phone):
    """Item 4: a deleted picture is gone once its Undo has gone; a reload inside the
    undo time offers the Undo again instead of losing it."""
    phone.add_class("sneaker")
    phone.record("sneaker", 4)
    kept = pictures_of(phone, "sneaker")
    phone.page.locator(".thumb button").first.click()
    phone.until(f"s.classes[0].pictures === {kept - 1}")
    phone.page.reload()
    phone.until("s.cameraReady")
    phone.page.locator(".toast").filter(has_text="can still be undone").wait_for()
    tap_undo(phone)
    phone.until(f"s.classes[0].pictures === {kept}")
    phone.page.locator(".thumb button").first.click()
    deleted = phone.page.locator(".toast").filter(has_text="Deleted a picture")
    deleted.wait_for()
    deleted.wait_for(state="detached", timeout=20_000)
    phone.page.wait_for_function(TRASH_IS_EMPTY, timeout=20_000)  # the purge has committed
    phone.page.reload()
    phone.until(f"s.cameraReady && s.classes[0].pictures === {kept - 1}")
    assert phone.page.locator(".toast").count() == 0


def test_undo_of_a_class_whose_name_was_taken_again(phone):
    """Item 5: delete "shoes", make a new "shoes", tap Undo: the deleted class comes
    back with its pictures under a free name, and the page says so."""
    phone.add_class("shoes")
    phone.record("shoes", 3)
    kept = pictures_of(phone, "shoes")
    phone.page.once("dialog", lambda dialog: dialog.accept())
    phone.page.get_by_role("button", name="Delete class shoes").click()
    phone.until("s.classes.length === 0")
    phone.page.fill("#new-class", "shoes")
    phone.page.get_by_role("button", name="Add class").click()
    phone.until("s.classes.length === 1")
    tap_undo(phone)
    state = phone.until("s.classes.length === 2")
    assert sorted((c["name"], c["pictures"]) for c in state["classes"]) == \
        [("shoes", 0), ("shoes (2)", kept)]
    assert "came back as “shoes (2)”" in phone.page.locator("#notice").inner_text()


def test_the_class_card_counts_while_recording(phone):
    """Item 29: while Record is held, the class card's count grows with the pictures
    kept (it said "0 pictures" until release)."""
    phone.add_class("sneaker")
    phone.page.get_by_role("radio", name="sneaker", exact=True).click()
    box = phone.page.locator("#record").bounding_box()
    phone.page.mouse.move(box["x"] + 20, box["y"] + 20)
    phone.page.mouse.down()
    try:
        phone.page.wait_for_function("""() => {
          const count = document.querySelector('.class-card[data-class="sneaker"] .count');
          return window.studioState.recording === "sneaker" && count && parseInt(count.textContent) >= 3;
        }""", timeout=30_000)
    finally:
        phone.page.mouse.up()
    kept = phone.until("s.recording === null")["classes"][0]["pictures"]
    assert phone.page.locator('.class-card[data-class="sneaker"] .count').inner_text() == f"{kept} pictures"
