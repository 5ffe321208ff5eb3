"""The phone app in every engine phones have: Chromium, WebKit (every iPhone browser)
and Firefox, each in a normal and a private session, driven by the one description of
what a person does (tests/phone_drive.py) from a site ``pocketvision web`` wrote:

one class recorded with the engine's fake camera (two bursts held on Record), two
from gallery photos; Train; the game jumps on the camera's class; the downloaded model
gives the page's answers under ``pocketvision predict`` (the same class, probabilities
within 0.02); the downloaded pictures are the project's; offline, a reload keeps the
project and the model."""

from __future__ import annotations

import json

import phone_drive as drive
import pytest
from conftest import run_cli, sample_dir
from engines import ENGINES, engine_missing, open_engine
from phone import phone_site, static_site

CAMERA_CLASS = "what the camera shows"  # each engine's fake camera: its own test pattern
GALLERY = {"sneaker": slice(0, 14), "trouser": slice(0, 14)}
BURST = 12


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return phone_site(tmp_path_factory)


@pytest.mark.parametrize("private", [False, True], ids=["normal", "private"])
@pytest.mark.parametrize("name", ENGINES)
def test_the_phone_drive_in_every_engine(name, private, site, tmp_path, artifacts):
    missing = engine_missing(name)
    if missing:  # tests/install.sh installs all three: without one, the suite's install failed
        pytest.fail(missing)
    session = "private" if private else "normal"
    with static_site(site) as (url, server), open_engine(name, tmp_path / "profile", private) as engine:
        engine.goto(url)
        drive.settled(engine)
        if private:  # the app says, once, that this session's storage may not last
            engine.until("s.storageMayNotLast && !document.getElementById('storage-note').hidden", 20)
        drive.add_class(engine, CAMERA_CLASS)
        for _ in range(2):
            drive.record(engine, CAMERA_CLASS, BURST)
        gallery = {label: sorted((sample_dir() / label).iterdir())[part] for label, part in GALLERY.items()}
        for label, files in gallery.items():
            drive.add_class(engine, label)
            drive.add_photos(engine, label, files)
        engine.screenshot(artifacts / f"engine-{name}-{session}-collect.png")

        state = drive.train(engine)
        assert state["training"]["status"] == "done", state["training"]
        assert state["model"]["labels"] == sorted([CAMERA_CLASS, *GALLERY]), state["model"]
        engine.screenshot(artifacts / f"engine-{name}-{session}-train.png")

        state = drive.play(engine, CAMERA_CLASS)
        assert state["label"] == CAMERA_CLASS, state
        engine.screenshot(artifacts / f"engine-{name}-{session}-play.png")

        model, pictures = drive.downloads(engine)
        answers = engine.evaluate(drive.PAGE_ANSWERS)
        before = engine.evaluate("window.studioState")
        state = drive.go_offline_and_reload(engine, server)
        assert state["classes"] == before["classes"] and state["model"] == before["model"]
        engine.click(drive.PLAY)
        engine.until(f"s.label === {json.dumps(CAMERA_CLASS)}", 60)  # still playing, offline

    assert sorted(pictures) == sorted(answers)  # every picture the project has, downloaded
    folder = tmp_path / "pictures"
    folder.mkdir()
    for file, data in pictures.items():
        (folder / file).write_bytes(data)
    (tmp_path / "model.pvb").write_bytes(model)
    names = sorted(pictures)[::3]
    cli = run_cli("predict", tmp_path / "model.pvb", *[folder / n for n in names], "--json")
    assert cli.returncode == 0, cli.stderr
    for entry in json.loads(cli.stdout):
        page = answers[entry["path"].rsplit("/", 1)[-1]]
        assert entry["label"] == page["label"], (entry, page)
        for label, p in entry["probabilities"].items():
            assert abs(p - page["probabilities"][label]) <= 0.02, (label, p, page)
