"""Bad input stays bad input in every engine (tests/engines.py): a reload in the middle
of training leaves the project and the model as they were; a damaged model file, or
one of another backbone's weights, is refused with a sentence, and a good one from a
laptop opens and plays; a class name with HTML
in it is shown as text; two tabs on one project stay consistent.

A full storage quota is tested in Chromium only (test_phone_safety.py): neither
WebKitGTK's WebDriver nor Firefox's BiDi can set an origin's quota, and filling a
real disk is not something a test should do."""

from __future__ import annotations

import base64
import json

import phone_drive as drive
import pytest
from conftest import sample_dir
from engines import ENGINES, engine_missing, open_engine
from phone import phone_site, static_site


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    return phone_site(tmp_path_factory)


@pytest.fixture(params=ENGINES)
def engine(request, site, tmp_path):
    missing = engine_missing(request.param)
    if missing:  # tests/install.sh installs all three: without one, the suite's install failed
        pytest.fail(missing)
    with static_site(site) as (url, _), open_engine(request.param, tmp_path / "profile") as engine:
        engine.url, engine.site = url, site
        engine.goto(url)
        drive.settled(engine)
        yield engine


def test_a_reload_during_training_leaves_the_project_as_it_was(engine):
    for name in ("camera", "other"):
        drive.add_class(engine, name)
        drive.record(engine, name, 4)
    first = drive.train(engine)
    assert first["training"]["status"] == "done", first["training"]
    engine.click('nav.tabs button[data-view="collect"]')
    drive.record(engine, "other", 40)  # new pictures: the next Train has features to compute
    drive.start_training(engine)
    engine.reload()  # mid-training
    state = engine.until("s.modelReady && s.cameraReady", 120)
    assert state["model"] == first["model"]  # the model before this Train, whole
    again = drive.train(engine)  # and training again works, on the same pictures
    assert again["training"]["status"] == "done" and again["model"]["created"]


def test_damaged_or_foreign_models_are_refused_with_a_sentence(engine, trained, tmp_path):
    from pocketvision.model.bundle import read_meta, read_tensors, write_bundle

    meta = read_meta(trained.bundle)
    foreign = write_bundle(tmp_path / "foreign.pvb", {
        k: v for k, v in read_tensors(trained.bundle).items() if not k.startswith("backbone.")},
        meta.replace(backbone=meta.backbone.__class__("mobilenet_v3_large", "a" * 64, 1280)))
    damaged = tmp_path / "damaged.pvb"
    damaged.write_bytes(trained.bundle.read_bytes()[: 5000])
    for path, expected in ((damaged, "damaged"), (foreign, "trained on mobilenet_v3_large")):
        drive.open_model(engine, path)
        engine.until(f"document.getElementById('notice').textContent.includes({json.dumps(path.name + ' cannot be used')})", 30)
        assert expected in engine.text("#notice")
    assert not engine.evaluate("window.studioState.modelReady")  # nothing replaced


def test_a_model_trained_on_a_laptop_opens_and_plays(engine, trained):
    drive.open_model(engine, trained.bundle)
    state = engine.until("s.modelReady", 60)
    assert state["model"]["labels"] == trained.classes
    assert "opened from model.pvb" in state["model"]["source"]
    engine.click(drive.PLAY)
    engine.until("s.fps > 0 && s.label !== null", 60)  # it classifies the camera's frames


def share_to_the_app(engine, name: str, data: bytes) -> None:
    """What a phone's share sheet does with a file for the installed app (the
    manifest's share_target): a form POST of the file, as a navigation."""
    engine.evaluate(f"""(() => {{
      const bytes = Uint8Array.from(atob({json.dumps(base64.b64encode(data).decode())}), (c) => c.charCodeAt(0));
      const chosen = new DataTransfer();
      chosen.items.add(new File([bytes], {json.dumps(name)}, {{ type: "application/octet-stream" }}));
      const form = Object.assign(document.createElement("form"), {{ method: "POST", action: "share-target", enctype: "multipart/form-data" }});
      const input = Object.assign(document.createElement("input"), {{ type: "file", name: "model" }});
      input.files = chosen.files;
      form.append(input);
      document.body.append(form);
      setTimeout(() => form.submit(), 0);
      return true;
    }})()""")


def test_a_model_shared_to_the_app_is_checked_as_open_model_checks_it(engine, trained):
    manifest = json.loads((engine.site / "manifest.webmanifest").read_text())
    assert manifest["share_target"]["params"]["files"][0]["name"] == "model"
    assert manifest["file_handlers"][0]["accept"] == {"application/octet-stream": [".pvb"]}
    share_to_the_app(engine, "damaged.pvb", trained.bundle.read_bytes()[:5000])
    engine.until("document.getElementById('notice').textContent.includes('damaged.pvb cannot be used')", 60)
    assert not engine.evaluate("window.studioState.modelReady")  # nothing replaced
    share_to_the_app(engine, "shared.pvb", trained.bundle.read_bytes())
    state = engine.until("s.modelReady && document.getElementById('notice').textContent.includes('Opened shared.pvb')", 90)
    assert state["model"]["labels"] == trained.classes and "opened from shared.pvb" in state["model"]["source"]
    assert "shared-model" not in engine.evaluate("location.href")  # a reload does not open it again


def test_class_names_with_html_are_shown_as_text(engine):
    name = '<img src=x onerror="window.hacked=1">b'
    drive.add_class(engine, name)
    assert engine.text(".class-card h3") == name
    assert engine.evaluate("document.querySelectorAll('.class-card img[src=x]').length") == 0
    assert engine.evaluate("window.hacked ?? null") is None
    answer = drive.refused(engine, "../evil")
    assert "is not allowed" in answer and "slash" in answer


def test_two_tabs_on_one_project_stay_consistent(engine):
    engine.open_tab(engine.url)  # tab 1, on the same project
    engine.until("s.backboneReady", 90)
    engine.switch_tab(0)  # photos, not the camera: WebKit gives the camera to the newest tab only
    drive.add_class(engine, "shoe")
    drive.add_photos(engine, "shoe", sorted((sample_dir() / "sneaker").iterdir())[:3])
    engine.switch_tab(1)
    engine.until("s.classes.length === 1 && s.classes[0].name === 'shoe' && s.classes[0].pictures >= 3", 30)
    assert "already a class" in drive.refused(engine, "shoe")  # the other tab's name is taken
    assert [c["name"] for c in engine.evaluate("window.studioState.classes")] == ["shoe"]
