"""Regression tests for what a new user and an attacker found in the local
servers (issue 10): DNS rebinding, concurrent exports, uploads, bad project items,
bad request bodies. The Schemathesis run over the whole studio API is in
test_fuzz.py."""

from __future__ import annotations

import io
import os
import stat
import threading
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

pytest.importorskip("fastapi")
from fastapi.testclient import TestClient  # noqa: E402

LOCAL = "http://127.0.0.1:8765"


def studio(project: Path, base_url: str = LOCAL, host: str = "127.0.0.1") -> TestClient:
    from pocketvision.live.studio import studio_app

    return TestClient(studio_app(project, host), base_url=base_url)


def jpeg_of(path: Path) -> bytes:
    out = io.BytesIO()
    Image.open(path).convert("RGB").save(out, "JPEG")
    return out.getvalue()


# ---- 1. DNS rebinding ------------------------------------------------------------------

def test_a_rebound_name_is_refused_before_any_handler(tmp_path):
    project = tmp_path / "project"
    local = studio(project)
    assert local.post("/api/classes", json={"name": "keep"}).status_code == 200
    evil = studio(project, base_url="http://evil.example:8765")
    rebound = {"origin": "http://evil.example:8765"}
    assert evil.post("/api/classes", json={"name": "x"}, headers=rebound).status_code == 421
    assert evil.delete("/api/classes/keep", headers=rebound).status_code == 421
    assert evil.get("/api/project").status_code == 421
    assert evil.get("/model.onnx").status_code == 421
    assert (project / "samples" / "keep").is_dir() and not (project / "samples" / "x").exists()


@pytest.mark.parametrize("host_header", ["127.0.0.1:8765", "localhost:8765", "[::1]:8765"])
def test_loopback_names_are_served(tmp_path, host_header):
    answer = studio(tmp_path / "p").get("/api/project", headers={"host": host_header})
    assert answer.status_code == 200
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["cross-origin-resource-policy"] == "same-origin"


def test_listening_on_every_interface_serves_ip_addresses_not_names(tmp_path):
    client = studio(tmp_path / "p", host="0.0.0.0")
    assert client.get("/api/project", headers={"host": "192.168.1.20:8765"}).status_code == 200
    assert client.get("/api/project", headers={"host": "evil.example:8765"}).status_code == 421


def test_other_sites_can_link_to_the_page_but_not_load_from_it(tmp_path):
    client = studio(tmp_path / "p")
    embedded = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors"}
    assert client.get("/model.onnx", headers=embedded).status_code == 403  # would start an export
    link = {"sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate"}
    assert client.get("/", headers=link).status_code == 200


def test_play_config_is_not_readable_under_another_name(trained):
    from pocketvision.live.server import game_app

    app = game_app(trained.bundle, ["sneaker=jump", "trouser=duck"])
    assert TestClient(app, base_url=LOCAL).get("/play/config.json").status_code == 200
    assert TestClient(app, base_url="http://evil.example:8765").get("/play/config.json").status_code == 421
    assert TestClient(app, base_url="http://evil.example:8765").get("/play/model.pvb").status_code == 421


# ---- 3. exports take turns ------------------------------------------------------------

def test_studio_export_and_live_model_at_once_both_work(trained, tmp_path):
    import shutil

    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    shutil.copy(trained.bundle, project / "models" / "model.pvb")
    client = studio(project)
    answers = {}

    def fetch(key):
        answers[key] = client.get("/model.onnx").status_code

    started = client.post("/api/export", json={"formats": ["onnx"]})
    assert started.status_code == 200
    threads = [threading.Thread(target=fetch, args=(k,)) for k in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert answers == {0: 200, 1: 200, 2: 200}
    for _ in range(600):
        job = client.get("/api/job").json()
        if job["state"] != "running":
            break
        threading.Event().wait(0.5)
    assert job["state"] == "done", job
    assert "\x1b[" not in str(job)


# ---- 4. uploads -----------------------------------------------------------------------

def test_uploads_are_decoded_with_a_pixel_limit_and_reencoded(fashion3, tmp_path):
    project = tmp_path / "project"
    client = studio(project)
    client.post("/api/classes", json={"name": "up"})
    huge = io.BytesIO()
    Image.new("L", (8000, 6000)).save(huge, "PNG")  # 48 megapixels, a small file
    answer = client.post("/api/classes/up/upload", files={"files": ("huge.png", huge.getvalue(), "image/png")})
    assert answer.status_code == 400 and "megapixels" in answer.json()["error"]

    gif = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 10, 10)).save(gif, "GIF")
    polyglot = gif.getvalue() + b"<html><script>alert(1)</script></html>"
    saved = client.post("/api/classes/up/frames?session=20261122T070000-abcd&index=0", content=polyglot)
    assert saved.status_code == 200
    served = client.get(f"/samples/up/{saved.json()['saved']}")
    assert served.content[:2] == b"\xff\xd8" and b"<script>" not in served.content
    assert served.headers["x-content-type-options"] == "nosniff"


def test_a_video_and_photos_uploaded_together_are_both_kept(fashion3, tmp_path):
    from live_helpers import camera_frame, write_video

    client = studio(tmp_path / "project")
    client.post("/api/classes", json={"name": "up"})
    pictures = sorted((fashion3 / "val" / "sneaker").iterdir())[:10]
    clip = write_video(tmp_path / "clip.avi", [camera_frame(p) for p in pictures])
    files = [("files", ("clip.avi", clip.read_bytes(), "video/x-msvideo")),
             ("files", ("a.png", pictures[0].read_bytes(), "image/png"))]
    saved = client.post("/api/classes/up/upload", files=files).json()["saved"]
    assert sum(name.startswith("upload-") for name in saved) == 1
    assert sum(not name.startswith("upload-") for name in saved) == 2  # every 5th of 10 frames


def test_the_https_key_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    from pocketvision.live.server import self_signed_certificate

    monkeypatch.setenv("POCKETVISION_CACHE_DIR", str(tmp_path))
    _, key = self_signed_certificate()
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600


# ---- 6. one bad item does not break the studio ----------------------------------------

def test_odd_class_folders_and_a_damaged_model_are_shown_as_problems(fashion3, tmp_path):
    project = tmp_path / "project"
    samples = project / "samples"
    picture = jpeg_of(next((fashion3 / "val" / "sneaker").iterdir()))
    nfd = unicodedata.normalize("NFD", "café")
    for name in ("t.shirt (v2)", nfd):
        (samples / name).mkdir(parents=True)
        (samples / name / "a.jpg").write_bytes(picture)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (samples / "linked").symlink_to(elsewhere, target_is_directory=True)
    (project / "models").mkdir()
    (project / "models" / "model.pvb").write_bytes(b"\x00" * 64)

    client = studio(project)
    answer = client.get("/api/project")
    assert answer.status_code == 200, answer.text
    document = answer.json()
    assert [c["name"] for c in document["classes"]] == ["café", "t.shirt (v2)"]  # NFC
    assert [p["folder"] for p in document["problems"]] == ["linked"]
    assert document["model"] is None and "not a pocketvision bundle" in document["model_problem"]

    assert client.post("/api/classes", json={"name": "café"}).status_code == 200  # the same class
    assert sorted(os.listdir(samples)) == sorted(["t.shirt (v2)", nfd, "linked"])
    assert client.get("/samples/café/a.jpg").status_code == 200
    assert client.post("/api/problems/set-aside", json={"folder": "linked"}).status_code == 200
    assert not (samples / "linked").exists() and elsewhere.is_dir()  # the link, not the pictures


def test_train_collect_and_studio_share_one_class_name_rule(fashion3, tmp_path):
    from pocketvision.data.dataset import scan_folder
    from pocketvision.errors import DatasetError, LiveError
    from pocketvision.live.project import Project

    root = tmp_path / "data"
    for name in ("t.shirt (v2)", "bag"):
        (root / name).mkdir(parents=True)
        (root / name / "a.jpg").write_bytes(jpeg_of(next((fashion3 / "val" / "sneaker").iterdir())))
    assert scan_folder(root).classes == ["bag", "t.shirt (v2)"]
    Project(tmp_path / "p").create().add_class("t.shirt (v2)")
    for bad in ("../escape", ".hidden", "a/b", "tab\there"):
        with pytest.raises(LiveError):
            Project(tmp_path / "p").add_class(bad)
    (root / "line\nbreak").mkdir()
    with pytest.raises(DatasetError, match="control character"):
        scan_folder(root)


# ---- 10. bodies, paths and indexes the API must refuse with a 4xx ----------------------

@pytest.mark.parametrize("body", [b"[1,2]", b"{not json", b"", b'{"name": 123}', b'{"name": null}'])
def test_bad_bodies_get_400(tmp_path, body):
    answer = studio(tmp_path / "p").post("/api/classes", content=body,
                                         headers={"content-type": "application/json"})
    assert answer.status_code == 400 and "error" in answer.json()


def test_bad_paths_and_indexes_get_4xx(fashion3, tmp_path):
    client = studio(tmp_path / "p")
    client.post("/api/classes", json={"name": "up"})
    jpeg = jpeg_of(next((fashion3 / "val" / "sneaker").iterdir()))
    assert client.post("/api/export", json={"formats": []}).status_code == 400
    assert client.post("/api/export", json={"formats": ["tflight"]}).status_code == 400
    assert client.get("/samples/up/a%00.jpg").status_code in (400, 404)
    for query in ("index=" + "9" * 300, "index=-5"):
        answer = client.post(f"/api/classes/up/frames?session=20261122T070000-abcd&{query}", content=jpeg)
        assert answer.status_code == 400, (query, answer.text)
    answer = client.post("/api/classes/up/frames?session=20261122T070000-abcd%0A&index=0", content=jpeg)
    assert answer.status_code == 400
    assert not list((tmp_path / "p" / "samples" / "up").iterdir())


def test_a_full_disk_is_reported_not_a_500(fashion3, tmp_path, monkeypatch):
    import errno

    import pocketvision.cache as cache

    client = studio(tmp_path / "p")
    client.post("/api/classes", json={"name": "up"})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cache.os, "replace", full)
    jpeg = jpeg_of(next((fashion3 / "val" / "sneaker").iterdir()))
    answer = client.post("/api/classes/up/frames?session=20261122T070000-abcd&index=0", content=jpeg)
    assert answer.status_code == 507 and "disk is full" in answer.json()["error"]


def test_an_mlpackage_download_leaves_links_out_and_nothing_in_tmp(tmp_path):
    import tempfile
    import zipfile

    project = tmp_path / "p"
    package = project / "models" / "exports" / "model.mlpackage"
    (package / "Data").mkdir(parents=True)
    (package / "Data" / "weights.bin").write_bytes(b"weights")
    secret = tmp_path / "secret.txt"
    secret.write_text("not yours")
    (package / "Data" / "leak.txt").symlink_to(secret)
    before = set(os.listdir(tempfile.gettempdir()))
    answer = studio(project).get("/exports/model.mlpackage")
    assert answer.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(answer.content)).namelist()
    assert names == ["model.mlpackage/Data/weights.bin"]
    assert set(os.listdir(tempfile.gettempdir())) - before == set()


# ---- hardening 2: deleting keeps things; the doctor acts on what it shows ---------------

def _project_with(fashion3, tmp_path) -> Path:
    from live_helpers import studio_project

    return studio_project(tmp_path / "project", fashion3, per_class=6)


def test_deleted_pictures_and_classes_can_be_undone(fashion3, tmp_path):
    project = _project_with(fashion3, tmp_path)
    client = studio(project)
    picture = sorted((project / "samples" / "up").iterdir())[0]
    content = picture.read_bytes()
    gone = client.delete(f"/samples/up/{picture.name}").json()
    assert not picture.exists() and gone["undo"]
    assert client.post(f"/api/trash/{gone['undo']}/restore").json() == {"restored": ["up"]}
    assert picture.read_bytes() == content
    whole = client.delete("/api/classes/down").json()
    assert "down" not in [c["name"] for c in client.get("/api/project").json()["classes"]]
    client.post(f"/api/trash/{whole['undo']}/restore")
    assert len(list((project / "samples" / "down").iterdir())) == 6
    assert client.delete("/samples/up/nothing-here.png").status_code == 404
    assert client.delete("/api/classes/nothing").status_code == 404
    assert client.post("/api/trash/20260101T000000-abcdef/restore").status_code == 404


def test_deleting_a_linked_picture_removes_the_link_not_the_picture(fashion3, tmp_path):
    project = _project_with(fashion3, tmp_path)
    real = sorted((project / "samples" / "down").iterdir())[0]
    link = project / "samples" / "up" / "linked.png"
    link.symlink_to(real)
    client = studio(project)
    findings = client.get("/api/doctor").json()["findings"]
    named = {f["file"] for finding in findings for f in finding["files"]}
    assert real.name not in named or "linked.png" in named  # the link's own name is shown
    assert client.delete("/samples/up/linked.png").status_code == 200
    assert real.is_file() and not link.is_symlink()


def test_the_doctor_answers_with_a_linked_class_folder_and_a_nested_picture(fashion3, tmp_path):
    project = _project_with(fashion3, tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    for source in sorted((fashion3 / "train" / "t-shirt").iterdir())[:4]:
        (outside / source.name).write_bytes(source.read_bytes())
    (project / "samples" / "linked").symlink_to(outside)
    nested = project / "samples" / "up" / "sub"
    nested.mkdir()
    (nested / "deep.png").write_bytes(sorted((fashion3 / "train" / "sneaker").iterdir())[10].read_bytes())
    answer = studio(project).get("/api/doctor")
    assert answer.status_code == 200, answer.text
    assert "linked" not in answer.json()["classes"]
