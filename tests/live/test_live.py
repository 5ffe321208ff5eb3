"""Live use without a camera: project folder rules, collect from a video file,
control in dry-run on recorded clips, and the local server's guards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from live_helpers import camera_frame, write_video

cv2 = pytest.importorskip("cv2")


def images_of(fashion3: Path, label: str, count: int) -> list[Path]:
    return sorted((fashion3 / "val" / label).iterdir())[:count]


# ---- the project folder -----------------------------------------------------

def test_project_refuses_names_that_escape_and_renames_without_loss(tmp_path):
    from pocketvision.errors import PocketVisionError
    from pocketvision.live.project import Project

    project = Project(tmp_path / "p").create()
    for bad in ("../outside", "a/b", ".hidden", "", "x" * 65, "..", "up\\down"):
        with pytest.raises(PocketVisionError):
            project.add_class(bad)
    project.save_sample("up", b"jpeg-bytes", "20261122T070000-abcd", 0)
    project.save_sample("up", b"jpeg-bytes", "20261122T070000-abcd", 1)
    project.rename_class("up", "hand up")
    assert [p.name for p in project.sample_files("hand up")] == [
        "20261122T070000-abcd-0000.jpg", "20261122T070000-abcd-0001.jpg"]
    assert project.classes() == ["hand up"]
    with pytest.raises(PocketVisionError):
        project.sample_path("hand up", "../../etc/passwd")
    assert not list(tmp_path.glob("outside*"))


# ---- collect -------------------------------------------------------------------

def test_collect_from_a_video_names_one_burst(fashion3, tmp_path):
    from pocketvision.data.grouping import session_of

    clip = write_video(tmp_path / "clip.avi",
                       [camera_frame(p) for p in images_of(fashion3, "sneaker", 10)])
    result = run_cli("collect", tmp_path / "proj", "--class", "up", "--video", clip, "--every", "2",
                 "--json")
    assert result.returncode == 0, result.stderr
    saved = [Path(p) for p in json.loads(result.stdout)["saved"]]
    assert len(saved) == 5 and all(p.parent == tmp_path / "proj" / "samples" / "up" for p in saved)
    sessions = {session_of(p.stem) for p in saved}
    assert len(sessions) == 1 and None not in sessions  # one burst, as the split expects
    assert cv2.imread(str(saved[0])).shape == (480, 640, 3)


def test_collect_bad_inputs_exit_2(tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    for args in (["--video", broken], ["--video", tmp_path / "missing.mp4"]):
        result = run_cli("collect", tmp_path / "proj", "--class", "up", *args)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    result = run_cli("collect", tmp_path / "proj", "--class", "../escape", "--video", broken)
    assert result.returncode == 2 and "not allowed" in result.stderr
    assert not list((tmp_path / "proj" / "samples").rglob("*.jpg"))


# ---- control ---------------------------------------------------------------------

def dry_run_events(model, clip, *maps):
    args = ["control", model, "--source", clip, "--dry-run", "--json"]
    for entry in maps:
        args += ["--map", entry]
    result = run_cli(*args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def test_control_taps_once_per_gesture_and_holds(trained, fashion3, tmp_path):
    quiet = [camera_frame(p) for p in images_of(fashion3, "t-shirt", 6)]
    jump = [camera_frame(p) for p in images_of(fashion3, "sneaker", 8)]
    duck = [camera_frame(p) for p in images_of(fashion3, "trouser", 8)]
    clip = write_video(tmp_path / "gestures.avi", quiet + jump + quiet + duck + quiet)
    events = dry_run_events(trained.bundle, clip, "sneaker=space", "trouser=Down:hold")
    summary = [(e["label"], e["action"], e["key"]) for e in events]
    assert summary == [("sneaker", "tap", "space"), ("trouser", "down", "Down"),
                       ("trouser", "up", "Down")], events
    tap, down, up = events
    assert 6 + 3 <= tap["frame"] <= 6 + 5  # fires on the 4th confident frame (a misread one allows one more)
    assert abs(tap["t"] - tap["frame"] / 15) < 1e-6  # video time
    assert down["frame"] < up["frame"]
    assert set(tap) == {"t", "frame", "label", "action", "key"}


def test_control_fires_nothing_on_the_no_action_class(trained, fashion3, tmp_path):
    quiet = [camera_frame(p) for p in images_of(fashion3, "t-shirt", 15)] * 2
    clip = write_video(tmp_path / "quiet.avi", quiet)
    assert dry_run_events(trained.bundle, clip, "sneaker=space", "trouser=Down:hold") == []


def test_control_rejects_a_map_the_model_cannot_fire(trained, tmp_path):
    result = run_cli("control", trained.bundle, "--map", "jump=space", "--dry-run",
                 "--source", tmp_path / "none.mp4")
    assert result.returncode == 2 and "has no label 'jump'" in result.stderr


# ---- the local server ------------------------------------------------------------

LOCAL = "http://127.0.0.1:8765"  # the servers answer only the names they were started for


def test_server_refuses_cross_origin_changes():
    from fastapi.testclient import TestClient

    from pocketvision.live.server import base_app

    app = base_app("test")

    @app.post("/change")
    def change():
        return {"changed": True}

    client = TestClient(app, base_url=LOCAL)
    assert client.post("/change", headers={"origin": "http://evil.example"}).status_code == 403
    assert client.post("/change", headers={"origin": LOCAL}).json() == {"changed": True}
    assert client.get("/web/vendor/onnxruntime-web/ort.wasm.min.mjs").status_code == 200


def test_game_maps_up_down_by_default_and_checks_maps():
    from pocketvision.errors import PocketVisionError
    from pocketvision.exports.web_app import game_actions

    assert game_actions(["down", "none", "up"], []) == {
        "up": {"key": "jump", "mode": "tap"}, "down": {"key": "duck", "mode": "hold"}}
    assert game_actions(["cat", "dog"], []) == {}  # the page lets the player pick
    with pytest.raises(PocketVisionError, match="jump and duck"):
        game_actions(["cat", "dog"], ["cat=fly"])


def test_https_certificate_is_made_once_and_loads(tmp_path, monkeypatch):
    """--https: a self-signed certificate Python's ssl (and so uvicorn) accepts."""
    import ssl

    from pocketvision.live.server import self_signed_certificate

    monkeypatch.setenv("POCKETVISION_CACHE_DIR", str(tmp_path))
    cert, key = self_signed_certificate()
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    assert self_signed_certificate() == (cert, key)
    assert Path(cert).read_bytes() == Path(self_signed_certificate()[0]).read_bytes()


# ---- the studio's API (the browser test drives the page) ----------------------------

def test_studio_api_guards_uploads_and_paths(fashion3, tmp_path):
    from fastapi.testclient import TestClient

    from pocketvision.data.grouping import session_of
    from pocketvision.live.studio import studio_app

    project = tmp_path / "project"
    client = TestClient(studio_app(project), base_url=LOCAL)
    assert client.post("/api/classes", json={"name": "up"}).status_code == 200
    assert client.post("/api/classes", json={"name": "../up"}).status_code == 400
    samples = project / "samples" / "up"

    broken = {"files": ("clip.mp4", b"definitely not a video", "video/mp4")}
    answer = client.post("/api/classes/up/upload", files=broken)
    assert answer.status_code == 400 and "not a video" in answer.json()["error"]
    mixed = [("files", ("a.png", (fashion3 / "train" / "sneaker").iterdir().__next__().read_bytes(),
                        "image/png")), ("files", ("b.png", b"not an image", "image/png"))]
    answer = client.post("/api/classes/up/upload", files=mixed)
    assert answer.status_code == 400 and "b.png is not an image" in answer.json()["error"]
    assert not list(samples.glob("*.jpg"))  # nothing saved when any file is bad

    clip = write_video(tmp_path / "clip.avi", [camera_frame(p) for p in images_of(fashion3, "sneaker", 10)])
    answer = client.post("/api/classes/up/upload",
                         files={"files": ("clip.avi", clip.read_bytes(), "video/x-msvideo")})
    assert answer.status_code == 200
    saved = answer.json()["saved"]
    assert len(saved) == 2 and len({session_of(Path(n).stem) for n in saved}) == 1  # every 5th frame

    jpeg = (samples / saved[0]).read_bytes()
    assert client.post("/api/classes/up/frames?session=../../x&index=0", content=jpeg).status_code == 400
    assert client.post("/api/classes/up/frames?session=20261122T070000-abcd&index=0",
                       content=b"garbage").status_code == 400
    ok = client.post("/api/classes/up/frames?session=20261122T070000-abcd&index=0", content=jpeg)
    assert ok.json()["saved"] == "20261122T070000-abcd-0000.jpg"
    assert client.get("/samples/up/..%2F..%2Fmodels%2Fmodel.pvb").status_code in (400, 404)
    icon = client.get("/favicon.ico")  # hardening 3, item 31: browsers ask for it
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/png"
    assert client.post("/api/classes/up/rename", json={"name": "up"}).status_code == 400
    assert client.post("/api/train", headers={"origin": "http://elsewhere.example"}).status_code == 403


def test_the_studio_trains_on_the_backbone_the_user_picks(fashion3, tmp_path):
    import shutil
    import time

    from fastapi.testclient import TestClient

    from pocketvision.live.studio import studio_app
    from pocketvision.model.bundle import read_meta

    project = tmp_path / "project"
    for label in ("sneaker", "trouser"):
        shutil.copytree(fashion3 / "train" / label, project / "samples" / label)
    client = TestClient(studio_app(project), base_url=LOCAL)
    offered = {b["name"] for b in client.get("/api/project").json()["backbones"]}
    assert {"efficientnet_lite0", "efficientnet_lite0_lite2"} <= offered
    wrong = client.post("/api/train", json={"backbone": "vgg"})
    assert wrong.status_code == 400 and "unknown backbone 'vgg'" in wrong.json()["error"]
    assert client.post("/api/train", json={"backbone": "efficientnet_lite0_lite2"}).status_code == 200
    for _ in range(600):
        job = client.get("/api/job").json()
        if job["state"] != "running":
            break
        time.sleep(0.5)
    assert job["state"] == "done", job
    assert read_meta(project / "models" / "model.pvb").backbone.name == "efficientnet_lite0_lite2"
    assert client.get("/api/project").json()["model"]["backbone"] == "efficientnet_lite0_lite2"
    assert client.get("/model.onnx").status_code == 200  # the live preview's model
    assert client.get("/backbone.json").json()["name"] == "efficientnet_lite0_lite2"  # the page plays it


def _finished(client) -> dict:
    import time

    for _ in range(1200):
        job = client.get("/api/job").json()
        if job["state"] != "running":
            return job
        time.sleep(0.25)
    raise AssertionError(f"the job never ended: {job}")


def test_the_studio_fine_tunes_where_asked_and_the_page_gets_that_backbone(fashion3, tmp_path):
    """Fine-tuning from the studio's Train (PyTorch, on the server): the bundle carries
    its own backbone, and the page is given that backbone, not the pretrained one."""
    from fastapi.testclient import TestClient

    from pocketvision.live.studio import studio_app
    from pocketvision.model.bundle import read_meta

    project = tmp_path / "project"
    for label in ("sneaker", "trouser"):
        (project / "samples" / label).mkdir(parents=True)
        for path in sorted((fashion3 / "train" / label).iterdir())[:12]:
            (project / "samples" / label / path.name).write_bytes(path.read_bytes())
    client = TestClient(studio_app(project), base_url=LOCAL)
    pretrained = client.get("/backbone.json").json()
    assert pretrained["pretrained"] is True
    assert client.post("/api/train", json={"fine_tune": 1}).status_code == 200
    job = _finished(client)
    assert job["state"] == "done", job
    meta = read_meta(project / "models" / "model.pvb")
    assert meta.training["fine_tune"] == 1
    page = client.get("/backbone.json").json()
    assert page["pretrained"] is False and page["weights_hash"] == meta.backbone.weights_hash
    assert page["weights_hash"] != pretrained["weights_hash"]
    assert client.get("/backbone.onnx").content[:2] != b""  # the fine-tuned graph, for the page


def test_studio_without_the_live_extra_names_the_install_command(tmp_path):
    code = ("import sys; sys.modules['fastapi'] = None; "
            "from pocketvision.cli import main; sys.argv = ['pocketvision', 'studio', sys.argv[1]]; main()")
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert "pip install 'pocketvision[live]'" in result.stderr and "Traceback" not in result.stderr
