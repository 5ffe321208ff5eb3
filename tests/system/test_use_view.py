"""The Use view at work, on an emulated phone (Chromium, a phone's screen and touch)
whose fake camera plays real pictures in known segments: a sneaker, something the
model never saw (scikit-image's photos), a t-shirt, a trouser, in a loop.

Three classes are trained from gallery photos; then Start: each class is said once
per segment (speechSynthesis.speak is spied on before the page starts) and logged
once, the unseen segment says "not sure" and lands in Review, nothing is said twice
in a row. The exported CSV reads in pandas with the issue's columns; a Review tap
adds the picture to a class; Undo last and Clear log's Undo work; offline, a reload
keeps the log; a full storage stops logging with a sentence and loses nothing."""

from __future__ import annotations

import io
import json
import re

import pandas as pd
import phone_drive as drive
import pytest
from conftest import SAMPLE_CLASSES, sample_dir
from engines import Chromium, engine_missing
from live_helpers import segment_clip
from phone import phone_site, static_site
from PIL import Image

from pocketvision.inference.sinks import restored

SEGMENT_FRAMES = 45  # 3 s at 15 frames a second
USE = drive.USE
SESSION = "=line <b>3</b>"  # a formula a spreadsheet would run, and HTML

# Every word the page hands to the speech engine, with the time, instead of saying it.
SPEECH_SPY = """
window.__spoken = [];
if (self.speechSynthesis) {
  speechSynthesis.speak = (utterance) => { window.__spoken.push({ text: utterance.text, at: performance.now() }); };
}
"""


def segment_clip_of(path, photos):
    """sneaker, unseen (scikit-image's photos), t-shirt, trouser: pictures the classes
    are not trained on, 3 s each."""
    unseen = [path.parent / f"{name}.png" for name in photos]
    for name, array in photos.items():
        Image.fromarray(array).convert("RGB").save(path.parent / f"{name}.png")
    held = {label: sorted((sample_dir() / label).iterdir())[30:39] for label in SAMPLE_CLASSES}
    return segment_clip(path, [held["sneaker"], unseen, held["t-shirt"], held["trouser"]], SEGMENT_FRAMES)


@pytest.fixture(scope="module")
def phone(tmp_path_factory, photos):
    if engine_missing("chromium"):
        pytest.fail(engine_missing("chromium"))
    site = phone_site(tmp_path_factory)
    clip = segment_clip_of(tmp_path_factory.mktemp("clip") / "segments.y4m", photos)
    with static_site(site) as (url, server):
        engine = Chromium(tmp_path_factory.mktemp("profile"), private=False, init_script=SPEECH_SPY, camera=clip)
        try:
            engine.url, engine.server = url, server
            engine.goto(url)
            drive.settled(engine)
            for label in SAMPLE_CLASSES:
                drive.add_class(engine, label)
                drive.add_photos(engine, label, sorted((sample_dir() / label).iterdir())[:24])
            assert drive.train(engine)["training"]["status"] == "done"
            engine.click(USE)
            engine.until("s.view === 'use' && s.use && s.modelReady", 30)
            yield engine
        finally:
            engine.close()


def spoken(engine) -> list[str]:
    return engine.evaluate("window.__spoken.map((w) => w.text)")


def log_labels(engine) -> list[str]:
    """The log's labels, oldest first, from its JSON export."""
    exported = json.loads(engine.captured_download("#export-json"))
    assert exported["format"] == "pocketvision-log"
    return [entry["label"] for entry in exported["entries"]]


def test_each_held_segment_is_said_once_and_logged_once(phone, artifacts):
    phone.fill("#use-session", SESSION)
    phone.evaluate("document.getElementById('use-session').dispatchEvent(new Event('change'))")
    phone.click("#use-start")
    # two passes of the clip: at least 7 class words after the first one heard
    phone.until("window.__spoken.filter((w) => w.text !== 'not sure').length >= 7", 120)
    phone.screenshot(artifacts / "use-watching-phone.png", full_page=False)
    phone.click("#use-stop")
    state = phone.until("!s.use.watching", 10)

    words = spoken(phone)
    assert all(a != b for a, b in zip(words, words[1:])), words  # nothing said twice in a row
    assert "not sure" in words, words  # the unseen segment
    classes = [w for w in words if w != "not sure"]
    order = ["sneaker", "t-shirt", "trouser"]
    for before, after in zip(classes, classes[1:]):  # every segment once, in the clip's order
        assert order.index(after) == (order.index(before) + 1) % 3, classes
    assert log_labels(phone) == classes  # each one logged once, the unseen one never
    assert state["use"]["log"] == len(classes)
    assert state["use"]["counters"] == {label: classes.count(label) for label in order}
    assert state["use"]["review"] >= 1  # the unseen segment went to Review


def test_the_exported_csv_reads_in_pandas(phone):
    phone.fill("#log-list li:first-child input", "<img src=x onerror=alert(1)>, \"quoted\"")
    phone.evaluate("document.querySelector('#log-list li:first-child input').dispatchEvent(new Event('change'))")
    table = pd.read_csv(io.BytesIO(phone.captured_download("#export-log")), keep_default_na=False)
    assert list(table.columns) == ["time", "session", "label", "confidence", "novelty", "latitude", "longitude", "note"]
    state = phone.evaluate("window.studioState.use")
    assert len(table) == state["log"]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", t) for t in table["time"])
    assert pd.to_datetime(table["time"], utc=True, format="ISO8601").is_monotonic_increasing
    assert table["session"].map(restored).eq(SESSION).all()  # escaped as predict --output escapes
    assert table["session"].iloc[0] == "'" + SESSION
    assert table["note"].iloc[-1] == "<img src=x onerror=alert(1)>, \"quoted\""  # the newest entry's note, as text
    assert table["confidence"].between(0.7, 1).all() and set(table["label"]) <= set(SAMPLE_CLASSES)
    assert (table["latitude"] == "").all()  # location is off unless the person turns it on
    assert phone.evaluate("document.querySelectorAll('#log-list img').length") == 0  # the note is text


def test_a_review_tap_adds_the_picture_to_a_class(phone):
    before = phone.evaluate("window.studioState")
    sneakers = next(c["pictures"] for c in before["classes"] if c["name"] == "sneaker")
    phone.click('#review-list li:first-child button[aria-label="Add to sneaker"]')
    state = phone.until(f"s.classes.find((c) => c.name === 'sneaker').pictures === {sneakers + 1}", 20)
    phone.until(f"s.use.review === {before['use']['review'] - 1}", 10)
    assert state["use"]["log"] == before["use"]["log"]


def test_undo_last_and_clear_with_undo(phone):
    before = phone.evaluate("window.studioState.use")
    newest = log_labels(phone)[-1]
    phone.click("#undo-last")
    state = phone.until(f"s.use.log === {before['log'] - 1}", 10)
    assert state["use"]["counters"][newest] == before["counters"][newest] - 1
    phone.click("#clear-log")
    phone.until("s.use.log === 0", 10)
    phone.click(".toast button")  # Undo
    phone.until(f"s.use.log === {before['log'] - 1}", 10)


def test_entries_keep_a_snapshot_when_asked(phone, artifacts):
    before = phone.evaluate("window.studioState.use.log")
    phone.click("#use-snapshot")
    try:
        phone.click("#use-start")
        phone.until(f"s.use.log >= {before + 2}", 60)
        phone.click("#use-stop")
        phone.until("document.querySelector('#log-list li:first-child img.snapshot')?.naturalWidth > 0", 10)
        phone.evaluate("document.getElementById('log-list').scrollIntoView() && true")
        phone.screenshot(artifacts / "use-log-phone.png")
    finally:
        phone.click("#use-snapshot")


def test_entries_carry_the_location_when_asked_and_granted(phone):
    phone.set_location(47.3769, 8.5417)
    phone.click("#use-location")
    try:
        phone.click("#use-start")
        phone.until("!document.getElementById('use-problems').textContent.includes('No location')", 30)
        before = phone.evaluate("window.studioState.use.log")
        phone.until(f"s.use.log >= {before + 2}", 60)
        phone.click("#use-stop")
    finally:
        phone.click("#use-location")
    table = pd.read_csv(io.BytesIO(phone.captured_download("#export-log")))
    located = table.dropna(subset=["latitude"])
    assert len(located) >= 2 and (located["latitude"] == 47.3769).all() and (located["longitude"] == 8.5417).all()
    assert table["latitude"].isna().sum() >= 1  # the entries from before it was turned on


def test_a_full_storage_stops_logging_and_loses_nothing(phone):
    kept = phone.evaluate("window.studioState.use.log")
    usage = phone.evaluate("navigator.storage.estimate().then((e) => e.usage)")
    phone.set_quota(usage + 1024)
    try:
        phone.click("#use-start")
        phone.until("document.getElementById('use-problems').textContent.includes('logging stopped')", 120)
        phone.click("#use-stop")
        now = phone.evaluate("window.studioState.use.log")  # the browser counts space lazily: a few more fit
        assert now >= kept and f"The {now} entries kept are safe" in phone.text("#use-problems")
        assert len(log_labels(phone)) == now  # every entry kept is whole
    finally:
        phone.set_quota(10 * 1024 ** 3)


def test_offline_a_reload_keeps_the_log_and_review(phone):
    before = phone.evaluate("window.studioState.use")
    labels = log_labels(phone)
    drive.go_offline_and_reload(phone, phone.server)
    phone.click(USE)
    state = phone.until(f"s.use && s.use.log === {before['log']}", 30)
    assert state["use"]["review"] == before["review"] and log_labels(phone) == labels


def test_share_model_downloads_where_the_browser_cannot_share_files(phone):
    assert not phone.evaluate("Boolean(navigator.canShare?.({ files: [new File(['x'], 'x.pvb')] }))")
    shared = phone.captured_download("#share-model")
    assert "downloaded instead" in phone.text("#use-status")
    phone.click(drive.TRAIN)
    assert shared == phone.captured_download("#download-model")
