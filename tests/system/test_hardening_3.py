"""Regression tests for hardening round 3 (issue 27): what a new user and an attacker
found. Each test names the item it covers; each failed before its fix."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import run_cli, user_error

# ---- 1, 2, 18. export touches only what it wrote -------------------------------------------


def export_onnx(trained, out: Path):
    return run_cli("export", trained.bundle, "--out", out, "--format", "onnx")


def test_export_never_removes_what_a_manifest_names_outside_its_folder(trained, tmp_path):
    """Item 1: a manifest naming ../victim.txt or an absolute folder deletes nothing."""
    out = tmp_path / "exports"
    victim_file = tmp_path / "victim.txt"
    victim_file.write_text("mine")
    victim_folder = tmp_path / "shared"
    (victim_folder / "inside").mkdir(parents=True)
    (victim_folder / "inside" / "keep.txt").write_text("mine too")
    assert export_onnx(trained, out).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["files"] |= {"../victim.txt": "x", str(victim_folder): "y", "..": "z", "": "w"}
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert export_onnx(trained, out).returncode == 0
    assert victim_file.read_text() == "mine"
    assert (victim_folder / "inside" / "keep.txt").read_text() == "mine too"


def test_export_keeps_a_users_files_with_export_like_names(trained, tmp_path):
    """Item 2: with no manifest, model_from_colab.tflite and models_old.onnx are not
    'the previous export's' and stay."""
    out = tmp_path / "exports"
    out.mkdir()
    theirs = {"model_from_colab.tflite": b"colab", "models_old.onnx": b"old", "notes.md": b"n"}
    for name, data in theirs.items():
        (out / name).write_bytes(data)
    assert export_onnx(trained, out).returncode == 0
    for name, data in theirs.items():
        assert (out / name).read_bytes() == data
    assert export_onnx(trained, out).returncode == 0  # and again, over its own export
    for name, data in theirs.items():
        assert (out / name).read_bytes() == data


@pytest.mark.parametrize("theirs", ["report.md", "golden.json", "model.onnx", "manifest.json"])
def test_export_refuses_to_replace_a_file_it_did_not_write(trained, tmp_path, theirs):
    """Item 2: a report.md (or model.onnx, manifest.json...) of the user's in the way
    stops the export before anything moves, naming it."""
    out = tmp_path / "exports"
    out.mkdir()
    (out / theirs).write_text("the user's own")
    message = user_error("export", trained.bundle, "--out", out, "--format", "onnx")
    assert theirs in message and "did not write" in message
    assert (out / theirs).read_text() == "the user's own"
    assert sorted(p.name for p in out.iterdir()) == [theirs]  # nothing else arrived


def test_export_refuses_to_replace_its_own_file_once_changed(trained, tmp_path):
    """Item 2: a file the last export wrote, edited since, is the user's now."""
    out = tmp_path / "exports"
    assert export_onnx(trained, out).returncode == 0
    (out / "report.md").write_text("my notes on this model")
    assert "report.md" in user_error("export", trained.bundle, "--out", out, "--format", "onnx")
    assert (out / "report.md").read_text() == "my notes on this model"


def test_export_over_its_own_web_folder_replaces_it_and_refuses_a_users(trained, tmp_path):
    """Items 2 and 18: OUT/web of the last export is replaced; a web/ of the user's, a
    link or a file there, stops the export before anything moves."""
    out = tmp_path / "exports"
    assert run_cli("export", trained.bundle, "--out", out, "--format", "onnx,web").returncode == 0
    assert run_cli("export", trained.bundle, "--out", out, "--format", "onnx,web").returncode == 0
    assert (out / "web" / "index.html").is_file()
    for k, make_in_the_way in enumerate((
            lambda web: web.write_text("a file"),
            lambda web: web.symlink_to(tmp_path / "elsewhere", target_is_directory=True),
            lambda web: (web.mkdir(), (web / "mine.txt").write_text("mine")))):
        other = tmp_path / f"other-{k}"  # the export above, its web/ gone since
        shutil.copytree(out, other, symlinks=True)
        shutil.rmtree(other / "web")
        before = {p.name: p.read_bytes() for p in other.iterdir() if p.is_file()}
        make_in_the_way(other / "web")
        assert "web" in user_error("export", trained.bundle, "--out", other, "--format", "onnx,web")
        after = {p.name: p.read_bytes() for p in other.iterdir() if p.is_file()}
        assert {k: v for k, v in after.items() if k != "web"} == before  # the old export, whole
        assert not (other / ".pocketvision-publishing").exists()
    assert export_onnx(trained, other).returncode == 0  # and later exports still work


# ---- 3, 8, 19. pocketvision web SITE --------------------------------------------------------


@pytest.fixture(scope="module")
def first_site(tmp_path_factory) -> Path:
    site = tmp_path_factory.mktemp("pages") / "site"
    assert run_cli("web", site).returncode == 0
    return site


def copy_site(site: Path, to: Path) -> Path:
    shutil.copytree(site, to)
    return to


def test_web_over_a_site_keeps_everything_the_user_added(first_site, tmp_path):
    """Item 3: a GitHub Pages checkout keeps .git/, CNAME, README.md, photos/; only the
    site's own files are replaced, and the service worker caches only those."""
    site = copy_site(first_site, tmp_path / "pages")
    theirs = {".git/HEAD": "ref: refs/heads/main\n", "CNAME": "vision.example.org\n",
              "README.md": "# my phone app\n", "photos/cat.jpg": "not really a cat"}
    for name, text in theirs.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    (site / "web" / "app" / "style.css").write_text("an old style")
    assert run_cli("web", site).returncode == 0
    for name, text in theirs.items():
        assert (site / name).read_text() == text
    assert (site / "web" / "app" / "style.css").read_text() != "an old style"
    worker = (site / "sw.js").read_text()
    assert "CNAME" not in worker and "photos/" not in worker and ".git" not in worker
    assert not [p for p in site.iterdir() if p.name.startswith(".pocketvision")]


def test_web_into_the_current_folder(first_site, tmp_path):
    """Item 8: `pocketvision web .` writes the site into the current folder."""
    empty = tmp_path / "here"
    empty.mkdir()
    assert run_cli("web", ".", cwd=empty).returncode == 0
    assert (empty / "index.html").is_file() and (empty / "sw.js").is_file()
    assert run_cli("web", ".", cwd=empty).returncode == 0  # and over itself
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "thesis.tex").write_text("mine")
    assert "not a pocketvision web app" in user_error("web", ".", cwd=tmp_path / "busy")


def test_web_through_a_link_writes_where_it_points(first_site, tmp_path):
    """Item 19: a link stays a link and the site lands in its folder; a dangling link
    is one sentence naming it."""
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    assert run_cli("web", link).returncode == 0
    assert link.is_symlink() and (real / "index.html").is_file()
    assert not [p for p in tmp_path.iterdir() if "-old-" in p.name]
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    message = user_error("web", dangling)
    assert "does not exist" in message and "nowhere" in message and ".tmp" not in message
    assert os.path.islink(dangling)


# ---- 6, 7, 14. hand-made bundles are one sentence in every command ------------------------


@pytest.fixture(scope="module")
def hostile(trained, tmp_path_factory) -> dict[str, Path]:
    from hostile_bundles import hostile_bundles

    from pocketvision.model.bundle import write_slim_bundle

    folder = tmp_path_factory.mktemp("hostile")
    return hostile_bundles(write_slim_bundle(trained.bundle, folder / "slim.pvb"), folder)


@pytest.mark.parametrize("case", ["NaN in the head", "a header nested 100,000 deep",
                                  "a label with an escape sequence", "a label with a newline"])
def test_hostile_bundles_are_one_sentence_in_every_command(hostile, fashion3, tmp_path, case):
    """NaN weights (item 6), a header nested deep (7) and labels that would forge
    output lines or reach the terminal (14): refused in one line, no traceback."""
    picture = next((fashion3 / "val").rglob("*.png"))
    for command in (["predict", hostile[case], picture], ["predict", hostile[case], picture, "--json"],
                    ["evaluate", hostile[case], fashion3 / "val", "--json"],
                    ["export", hostile[case], "--out", tmp_path / "out", "--format", "onnx"]):
        message = user_error(*command)
        assert "damaged" in message and "\x1b" not in message, (command, message)
    assert not (tmp_path / "out" / "golden.json").exists()


# ---- 9. a damaged feature cache is a cache miss --------------------------------------------


def test_a_cache_value_stored_as_text_is_a_missing_row(fashion3, tmp_path):
    """Item 9: one flipped bit that turns a feature's type to TEXT: train recomputes it."""
    import sqlite3

    cache = tmp_path / "cache"
    environment = {"POCKETVISION_CACHE_DIR": str(cache)}
    assert run_cli("train", fashion3, "--out", tmp_path / "a.pvb", env=environment).returncode == 0
    with sqlite3.connect(cache / "features.sqlite") as db:
        key, value = db.execute("SELECT key, value FROM entries LIMIT 1").fetchone()
        db.execute("UPDATE entries SET value = ? WHERE key = ?", ("x" * len(value), key))
    result = run_cli("train", fashion3, "--out", tmp_path / "b.pvb", env=environment)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


# ---- 24. inspect a bundle ------------------------------------------------------------------


def test_inspect_shows_a_bundle_without_torch(trained, tmp_path):
    """Item 24: `inspect model.pvb` (the README and the phone app say a downloaded model
    works with it) shows labels, backbone, preprocessing, metrics and unknown detection,
    for a whole bundle and a slim one, without importing PyTorch."""
    import subprocess
    import sys

    from pocketvision.model.bundle import write_slim_bundle

    slim = write_slim_bundle(trained.bundle, tmp_path / "slim.pvb")
    text = run_cli("inspect", trained.bundle)
    assert text.returncode == 0, text.stderr
    for expected in (", ".join(trained.classes), "efficientnet_lite0", "weights carried",
                     "centre-crop 224", "validation:", "unknown detection:"):
        assert expected in text.stdout, (expected, text.stdout)
    found = json.loads(run_cli("inspect", slim, "--json").stdout)
    assert found["labels"] == trained.classes and found["backbone"]["weights"].startswith("not carried")
    assert found["novelty"]["training_features"] == len(trained.split.train)
    assert found["validation"]["accuracy"] == pytest.approx(trained.metrics["accuracy"])
    probe = ("import sys; sys.argv = ['pocketvision', 'inspect', sys.argv[1]]\n"
             "from pocketvision.cli import main\n"
             "try: main()\n"
             "except SystemExit: pass\n"
             "assert 'torch' not in sys.modules, 'inspect imported torch'")
    result = subprocess.run([sys.executable, "-c", probe, str(slim)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ---- 11. a header's image records are not trusted ----------------------------------------


def test_recorded_images_are_hashed_once_and_only_when_they_are_pictures(tmp_path, monkeypatch):
    """Item 11: a header naming one file 2,000 times hashes it once; /proc/self/mem, a
    FIFO and a folder are skipped without a word; a relative path (a phone's bundle) is
    found beside the bundle, not in the current folder."""
    from pocketvision.cache import file_sha256
    from pocketvision.exports import verification
    from pocketvision.model.bundle_meta import ImageRecord

    picture = tmp_path / "shoes" / "a.jpg"
    picture.parent.mkdir()
    picture.write_bytes(b"\xff\xd8 a picture")
    digest = file_sha256(picture)
    os.mkfifo(tmp_path / "fifo")
    hashed = []
    monkeypatch.setattr(verification, "file_sha256", lambda p: hashed.append(p) or file_sha256(p))
    monkeypatch.chdir(tmp_path / "shoes")  # where a relative path would wrongly be looked for
    records = [ImageRecord(str(picture), "shoes", digest)] * 2000 + [
        ImageRecord("/proc/self/mem", "shoes", digest), ImageRecord(str(tmp_path / "fifo"), "shoes", digest),
        ImageRecord(str(tmp_path), "shoes", digest), ImageRecord("shoes/a.jpg", "shoes", digest)]
    kept = verification.unchanged_records(records, tmp_path / "model.pvb")
    assert len(kept) == 2001 and {r.path for r in kept} == {str(picture)}
    assert hashed == [picture]


# ---- 28. export in a log ----------------------------------------------------------------------


def test_export_says_what_it_is_doing_in_a_log(trained, tmp_path):
    """Item 28: with stderr a pipe (a log, CI), export prints a line per step instead
    of nothing for minutes; a format that cannot run here is a numbered note under
    the table, so the table fits 80 columns."""
    result = run_cli("export", trained.bundle, "--out", tmp_path / "out", "--format", "onnx,coreml",
                     env={"COLUMNS": "80", "POCKETVISION_NO_PROGRESS": ""})
    assert result.returncode == 0, result.stderr
    steps = result.stderr.splitlines()
    assert "Exporting (0/4): writing onnx fp32" in steps
    assert any(line.startswith("Exporting (1/4): verifying onnx fp32 in its runtime") for line in steps)
    assert "Exporting (2/4): writing coreml fp32" in steps
    lines = result.stdout.splitlines()
    table = [line for line in lines if line[:1] in "┏┃┡│└"]
    assert len(table) >= 6 and max(len(line) for line in table) <= 80, result.stdout
    assert any("not run (1)" in line for line in table)
    assert any(line.startswith("(1) coreml fp32: ") for line in lines)


# ---- 26. a broken torch/torchvision pair ----------------------------------------------------


def test_a_torchvision_for_another_torch_is_one_line(trained, tmp_path):
    """Item 26: a torchvision made for another torch (an install that mixed indexes)
    fails inside torchvision while it is imported: one line naming the pair and the
    fix, not 60 lines of traceback. The broken torchvision is a stand-in package that
    fails as the real one does ('operator torchvision::nms does not exist')."""
    fake = tmp_path / "site"
    (fake / "torchvision").mkdir(parents=True)
    (fake / "torchvision" / "__init__.py").write_text(
        "raise RuntimeError('operator torchvision::nms does not exist')\n")
    (fake / "torchvision-0.20.0.dist-info").mkdir()
    (fake / "torchvision-0.20.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: torchvision\nVersion: 0.20.0\n")
    result = run_cli("export", trained.bundle, "--out", tmp_path / "out", "--format", "onnx",
                     env={"PYTHONPATH": str(fake)})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "torchvision 0.20.0 do not work together" in line and "torchvision==0." in line
