"""The phone studio as a person uses it, on an emulated phone (Chromium, a phone's
screen and touch, a fake camera playing real pictures), from a site written by
``pocketvision web`` and served by a plain ``python -m http.server``:

record three classes with the camera, train, and the game jumps on the chosen
class; offline, a reload keeps the project and the model, and it still plays; the
downloaded model gives the page's answers under ``pocketvision predict`` and passes
``export``'s verification in every runtime; the downloaded pictures train the same
model with ``pocketvision train``; a model trained on a laptop opens and plays.
Nothing leaves 127.0.0.1."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest
from browser import browser_available
from conftest import SAMPLE_CLASSES, run_cli, sample_dir
from phone import Phone, camera_file, phone_site, static_site
from phone_drive import PAGE_ANSWERS

pytestmark = pytest.mark.skipif(not browser_available(),
                                reason="needs Debian's chromium and playwright (tests/install.sh installs both)")

BURST = 15  # pictures a Record hold keeps; two bursts per class


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return phone_site(tmp_path_factory)


@pytest.fixture(scope="module")
def cameras(tmp_path_factory) -> dict:
    """One camera file per class, of pictures none of the tests train on elsewhere."""
    folder = tmp_path_factory.mktemp("cameras")
    return {label: camera_file(folder, label, sorted((sample_dir() / label).iterdir())[20:50])
            for label in SAMPLE_CLASSES}


@pytest.fixture(scope="module")
def phone(site, cameras, tmp_path_factory):
    """One phone that records the three classes and trains; the tests below go on
    from there, in order."""
    from playwright.sync_api import sync_playwright

    outside = []
    with static_site(site) as (url, server), sync_playwright() as playwright:
        phone = Phone(playwright, tmp_path_factory.mktemp("profile"), outside)
        phone.url, phone.server, phone.cameras = url, server, cameras
        yield phone
        phone.close()
    assert outside == []


def test_record_three_classes_train_and_the_game_jumps(phone, cameras, artifacts):
    for label in SAMPLE_CLASSES:
        page = phone.open(phone.url, cameras[label])
        phone.until("s.cameraReady && s.backboneReady")
        phone.add_class(label)
        for _ in range(2):
            phone.record(label, BURST)
    page.screenshot(path=str(artifacts / "phone-collect.png"))
    assert [c["name"] for c in phone.state()["classes"]] == SAMPLE_CLASSES
    assert min(c["pictures"] for c in phone.state()["classes"]) >= 2 * BURST

    state = phone.train()
    assert state["training"]["status"] == "done", state["training"]
    assert state["model"]["labels"] == SAMPLE_CLASSES and state["valAccuracy"] >= 0.9
    assert state["training"]["computed"] == sum(c["pictures"] for c in state["classes"])
    page.screenshot(path=str(artifacts / "phone-train.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits the phone

    page = phone.open(phone.url, cameras["sneaker"])
    phone.until("s.modelReady && s.cameraReady")
    phone.play("sneaker")
    phone.until("s.jumps >= 1", 60)
    seen = phone.labels_seen()
    assert seen.count("sneaker") >= 0.8 * len(seen), seen
    page.screenshot(path=str(artifacts / "phone-play.png"))


def test_offline_a_reload_keeps_the_project_and_the_model_and_it_plays(phone, cameras):
    before = phone.state()
    phone.page.reload()  # the service worker is in charge now
    phone.until("s.modelReady && s.cameraReady")
    phone.context.set_offline(True)
    try:
        phone.page.reload()
        state = phone.until("s.modelReady && s.cameraReady && s.backboneReady")
        assert state["classes"] == before["classes"] and state["model"] == before["model"]
        phone.play("sneaker")
        phone.until("s.label === 'sneaker'", 30)
    finally:
        phone.context.set_offline(False)


def test_the_downloaded_model_works_on_a_computer(phone, tmp_path):
    """``pocketvision predict`` gives the page's answers on the project's pictures,
    and ``export`` verifies it in every runtime on this machine."""
    phone.page.get_by_role("tab", name="Train").click()
    model = phone.download("Download model", tmp_path / "model.pvb")
    pictures = phone.download("Download pictures", tmp_path / "pictures.zip")
    with zipfile.ZipFile(pictures) as packed:
        packed.extractall(tmp_path)
    folder = tmp_path / "pocketvision-pictures"
    files = sorted(folder.rglob("*.jpg"))
    assert sorted(p.name for p in folder.iterdir()) == SAMPLE_CLASSES and len(files) >= 6 * BURST

    page_answers = phone.page.evaluate(PAGE_ANSWERS)
    cli = run_cli("predict", model, *files[::4], "--json")
    assert cli.returncode == 0, cli.stderr
    ours = {entry["path"]: entry for entry in json.loads(cli.stdout)}
    for path in files[::4]:
        theirs, entry = page_answers[path.name], ours[str(path)]
        assert entry["label"] == theirs["label"]
        for label, p in entry["probabilities"].items():
            assert abs(p - theirs["probabilities"][label]) <= 0.02

    report = run_cli("export", model, "--out", tmp_path / "exports", "--format", "all", "--json",
                     cwd=tmp_path)  # its validation pictures, where the zip unpacked them
    assert report.returncode == 0, report.stderr
    document = json.loads(report.stdout)
    assert "validation images recorded in the bundle" in document["image_source"]
    ran = [e for e in document["exports"] if e["ran"]]
    assert {e["format"] for e in ran} >= {"onnx", "pte", "ptl", "tflite"}
    for entry in ran:
        assert entry["top1_agreement"] == 1.0 and entry["max_prob_diff"] < 1e-3, entry


def test_the_downloaded_pictures_train_the_same_model_on_a_computer(phone, tmp_path):
    model = phone.download("Download model", tmp_path / "page.pvb")
    pictures = phone.download("Download pictures", tmp_path / "pictures.zip")
    with zipfile.ZipFile(pictures) as packed:
        packed.extractall(tmp_path)
    from pocketvision.inference import load_predictor
    from pocketvision.model.bundle import read_meta
    from pocketvision.training import train

    result = train(tmp_path / "pocketvision-pictures", tmp_path / "cli.pvb")
    page_meta = read_meta(model)
    assert sorted(r.sha256 for r in page_meta.validation_images) == \
        sorted(s.sha256 for s in result.split.val)  # the same split
    page, cli = load_predictor(model), load_predictor(result.bundle)
    images = np.stack([_prepared(s.path, cli.preprocessing) for s in result.split.val])
    ours, theirs = page.probabilities(images), cli.probabilities(images)
    assert (ours.argmax(1) == theirs.argmax(1)).mean() >= 0.98
    assert np.abs(ours - theirs).max() <= 0.02
    assert page_meta.metrics["accuracy"] == result.metrics["accuracy"]


def test_a_model_trained_on_a_laptop_opens_and_plays(phone, trained, cameras, tmp_path):
    outside = []
    other = Phone(phone.playwright, tmp_path / "profile", outside)  # another phone, same site
    try:
        page = other.open(phone.url, cameras["sneaker"])
        other.until("s.cameraReady && s.backboneReady && !s.modelReady")
        other.page.get_by_role("tab", name="Train").click()
        with page.expect_file_chooser() as chooser:
            page.get_by_role("button", name="Open model").click()
        chooser.value.set_files(str(trained.bundle))
        state = other.until("s.modelReady")
        assert state["model"]["labels"] == trained.classes
        assert "opened from model.pvb" in state["model"]["source"]
        other.play("sneaker")
        other.until("s.jumps >= 1", 60)
    finally:
        other.close()
    assert outside == []


def _prepared(path, spec):
    from pocketvision.data.preprocessing import load_array

    return load_array(path, spec)
