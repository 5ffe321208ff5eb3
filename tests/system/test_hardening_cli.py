"""Regression tests for what a new user found on the command line (issue 10):
outputs onto things that are not files, export folders mixing two models,
tampered bundles, out-of-range values, a hostile environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import safetensors.torch
from conftest import run_cli, subset, user_error

# ---- 2. outputs that exist and are not regular files ------------------------------------

def test_outputs_onto_devices_and_fifos_are_refused(trained, fashion3, tmp_path):
    assert "not a regular file" in user_error("train", fashion3, "--out", "/dev/null")
    assert stat_is_char_device("/dev/null")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert "not a folder" in user_error("export", trained.bundle, "--out", fifo, "--format", "onnx")
    report = tmp_path / "report.txt"
    report.write_text("mine")
    started = time.monotonic()
    assert "not a folder" in user_error("evaluate", trained.bundle, fashion3 / "val", "--report", report)
    assert report.read_text() == "mine" and time.monotonic() - started < 60


def stat_is_char_device(path: str) -> bool:
    import stat

    return stat.S_ISCHR(os.stat(path).st_mode)


# ---- 5. an export folder is one unit --------------------------------------------------

def test_an_export_replaces_the_previous_one_whole(trained, tmp_path):
    from pocketvision.exports.folder import check_member

    out = tmp_path / "exports"
    assert run_cli("export", trained.bundle, "--out", out, "--format", "onnx,ptl").returncode == 0
    assert run_cli("export", trained.bundle, "--out", out, "--format", "onnx").returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"model.onnx", "report.json", "report.md", "golden.png",
                                      "golden.json"}
    assert not (out / "model.ptl").exists()  # left from the export before: removed
    assert sorted(p.name for p in out.iterdir()) == sorted([*manifest["files"], "manifest.json"])
    report = json.loads((out / "report.json").read_text())
    assert Path(report["bundle"]).is_absolute() and report["exports"][0]["path"] == str(out / "model.onnx")
    check_member(out / "model.onnx")
    (out / "model.onnx").write_bytes((out / "model.onnx").read_bytes() + b"x")
    assert "not the file the last export" in user_error("inspect", out / "model.onnx")


def test_a_killed_export_leaves_the_previous_export_whole(trained, tmp_path):
    from pocketvision.exports.folder import STAGING_PREFIX, check_member

    out = tmp_path / "exports"
    assert run_cli("export", trained.bundle, "--out", out, "--format", "onnx").returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    process = subprocess.Popen([sys.executable, "-m", "pocketvision.cli", "export", str(trained.bundle),
                                "--out", str(out), "--format", "ptl,onnx,tflite"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not any(out.glob(f"{STAGING_PREFIX}*/model.*")) and time.monotonic() < deadline:
        time.sleep(0.2)  # until the first new file is written
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    for name in json.loads((out / "manifest.json").read_text())["files"]:
        check_member(out / name)
    assert list(out.glob(f"{STAGING_PREFIX}*"))  # what the killed run left ...
    assert run_cli("export", trained.bundle, "--out", out, "--format", "onnx").returncode == 0
    assert not list(out.glob(f"{STAGING_PREFIX}*"))  # ... the next run removes


def test_a_killed_writer_leaves_no_temporary_for_ever(trained, tmp_path):
    from pocketvision.model.bundle import load_bundle, save_bundle

    stale = tmp_path / ".model.pvb.999999999.tmp"  # no process has this id
    stale.write_bytes(b"half a bundle")
    bundle = load_bundle(trained.bundle)
    save_bundle(tmp_path / "model.pvb", bundle.model, bundle.meta)
    assert not stale.exists() and (tmp_path / "model.pvb").exists()


# ---- 7. tampered bundles -----------------------------------------------------------------

def tampered(trained, tmp_path, change) -> Path:
    tensors = safetensors.torch.load_file(str(trained.bundle))
    with safetensors.safe_open(str(trained.bundle), framework="pt") as f:
        header = f.metadata()["pocketvision"]
    header, tensors = change(json.loads(header), tensors)
    path = tmp_path / "tampered.pvb"
    text = header if isinstance(header, str) else json.dumps(header)
    safetensors.torch.save_file(tensors, str(path), metadata={"pocketvision": text})
    return path


def header_change(function):
    return lambda header, tensors: (function(header), tensors)


TAMPERINGS = {
    "no labels": header_change(lambda h: {k: v for k, v in h.items() if k != "labels"}),
    "no preprocessing": header_change(lambda h: {k: v for k, v in h.items() if k != "preprocessing"}),
    "no backbone": header_change(lambda h: {k: v for k, v in h.items() if k != "backbone"}),
    "not JSON": header_change(lambda h: "{this is not json"),
    "a JSON list": header_change(lambda h: [1, 2]),
    "version abc": header_change(lambda h: dict(h, format_version="abc")),
    "version null": header_change(lambda h: dict(h, format_version=None)),
    "crop 0": header_change(lambda h: dict(h, preprocessing=dict(h["preprocessing"], crop=0))),
    "crop 20000": header_change(lambda h: dict(h, preprocessing=dict(h["preprocessing"], crop=20000,
                                                                     resize=20000))),
    "labels a string": header_change(lambda h: dict(h, labels="bag")),
    "a 1-element mean": header_change(lambda h: dict(h, preprocessing=dict(h["preprocessing"], mean=[0.5]))),
    "std 0": header_change(lambda h: dict(h, preprocessing=dict(h["preprocessing"], std=[0, 0, 0]))),
    "head as int32": lambda h, t: (h, dict(t, **{"head.weight": t["head.weight"].int()})),
    "a missing tensor": lambda h, t: (h, {k: v for k, v in t.items() if k != "head.bias"}),
}


@pytest.mark.parametrize("name", sorted(TAMPERINGS))
def test_tampered_bundles_are_refused_in_one_line(trained, tmp_path, name):
    from pocketvision.errors import BundleError
    from pocketvision.model.bundle import load_bundle

    path = tampered(trained, tmp_path, TAMPERINGS[name])
    with pytest.raises(BundleError):
        load_bundle(path)


def test_a_tampered_bundle_on_the_command_line(trained, tmp_path, fashion3):
    path = tampered(trained, tmp_path, TAMPERINGS["std 0"])
    line = user_error("predict", path, next((fashion3 / "val" / "bag").iterdir())
                      if (fashion3 / "val" / "bag").exists() else next((fashion3 / "val" / "sneaker").iterdir()))
    assert "std" in line and "train it again" in line


# ---- 8. values ------------------------------------------------------------------------------

BAD_VALUES = [
    (["train", "DATA", "--augment", "-1"], "--augment -1"),
    (["train", "DATA", "--max-iterations", "-5"], "--max-iterations -5"),
    (["train", "DATA", "--weight-decay", "-1"], "--weight-decay -1"),
    (["train", "DATA", "--val-fraction", "nan"], "--val-fraction nan"),
    (["predict", "BUNDLE", "IMAGE", "--top", "0"], "--top 0"),
    (["predict", "BUNDLE", "IMAGE", "--top", "-1"], "--top -1"),
    (["predict", "BUNDLE", "IMAGE", "--threshold", "2"], "--threshold 2"),
    (["predict", "BUNDLE", "IMAGE", "--threshold", "nan"], "--threshold nan"),
    (["collect", "PROJECT", "--class", "up", "--video", "IMAGE", "--every", "0"], "--every 0"),
    (["collect", "PROJECT", "--class", "up", "--video", "IMAGE", "--count", "-5"], "--count -5"),
    (["control", "BUNDLE", "--map", "sneaker=NoSuchKey", "--dry-run", "--source", "IMAGE"], "NoSuchKey"),
    (["control", "BUNDLE", "--map", "sneaker=space", "--frames", "0"], "--frames 0"),
    (["control", "BUNDLE", "--map", "sneaker=space", "--release", "0.9"], "--release 0.9"),
    (["control", "BUNDLE", "--map", "sneaker=space", "--cooldown", "-1"], "--cooldown -1"),
    (["export", "BUNDLE", "--format", ""], "empty"),
    (["export", "BUNDLE", "--format", ",", "--out", "OUT"], "--format is empty"),
    (["bench", "OUT", "--runs", "0"], "--runs 0"),
    (["play", "BUNDLE", "--port", "70000"], "--port 70000"),
    (["train", ""], "empty"),
    (["predict", "BUNDLE", ""], "empty"),
    (["collect", "", "--class", "up"], "empty"),
]


@pytest.mark.parametrize("args, expected", BAD_VALUES, ids=[" ".join(a) for a, _ in BAD_VALUES])
def test_bad_values_exit_2_in_one_line(trained, fashion3, tmp_path, args, expected):
    out = tmp_path / "out"
    run_cli("export", trained.bundle, "--out", out, "--format", "onnx") if args[0] == "bench" else None
    image = next((fashion3 / "val" / "sneaker").iterdir())
    names = {"DATA": fashion3, "BUNDLE": trained.bundle, "IMAGE": image, "PROJECT": tmp_path / "p",
             "OUT": out}
    line = user_error(*[names.get(a, a) for a in args])
    assert expected in line, line
    assert not (tmp_path / "p").exists()


# ---- 9. the environment ------------------------------------------------------------------------

def test_an_unwritable_cache_slows_training_but_does_not_stop_it(fashion3, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("the cache folder cannot be made inside a file")
    env = dict(os.environ, POCKETVISION_CACHE_DIR=str(blocker / "cache"))
    small = subset(tmp_path / "data", ["sneaker", "trouser"], 6)
    result = subprocess.run([sys.executable, "-m", "pocketvision.cli", "train", str(small), "--out",
                             str(tmp_path / "m.pvb"), "--json"], capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("warning: cannot write the cache") == 1
    assert json.loads(result.stdout)["train_images"] > 0


def test_names_that_are_not_utf8(fashion3, tmp_path):
    small = subset(tmp_path / "data", ["sneaker", "trouser"], 6)
    odd = os.fsencode(small / "sneaker") + b"/caf\xe9.png"
    with open(odd, "wb") as stream:
        stream.write(next((fashion3 / "val" / "sneaker").iterdir()).read_bytes())
    result = run_cli("train", small, "--out", tmp_path / "m.pvb", "--json")
    assert result.returncode == 0, result.stderr
    [skipped] = json.loads(result.stdout)["skipped"]
    assert "not valid UTF-8" in skipped["reason"] and skipped["path"].endswith("caf\\xe9.png")  # the byte
    os.mkdir(os.fsencode(small) + b"/bad\xffclass")
    assert "not valid UTF-8" in user_error("train", small, "--out", tmp_path / "m.pvb", "--json")


def test_a_full_disk_during_training_is_one_line(fashion3, tmp_path, monkeypatch):
    import errno

    from typer.testing import CliRunner

    import pocketvision.cache as cache
    from pocketvision.cli import app

    real_replace = cache.os.replace

    def full_for_bundles(source, target):
        if str(target).endswith(".pvb"):
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(cache.os, "replace", full_for_bundles)
    small = subset(tmp_path / "data", ["sneaker", "trouser"], 6)
    result = CliRunner().invoke(app, ["train", str(small), "--out", str(tmp_path / "m.pvb")])
    assert result.exit_code == 2
    assert "No space left on device" in result.output and "Traceback" not in result.output
    assert not list(tmp_path.glob(".m.pvb.*"))


def test_control_without_a_display_says_so(trained, fashion3):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    result = subprocess.run([sys.executable, "-m", "pocketvision.cli", "control", str(trained.bundle),
                             "--map", "sneaker=space", "--source", "nothing.mp4"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 2 and "no display" in result.stderr, result.stderr


# ---- 11. smaller ---------------------------------------------------------------------------------

def test_predict_reports_a_missing_file_and_goes_on(trained, fashion3, tmp_path):
    image = next((fashion3 / "val" / "sneaker").iterdir())
    result = run_cli("predict", trained.bundle, tmp_path / "gone.jpg", image, "--json")
    assert result.returncode == 0, result.stderr
    missing, found = json.loads(result.stdout)
    assert missing["label"] is None and missing["error"] == "does not exist"
    assert found["label"] in trained.classes
    assert "could be classified" in user_error("predict", trained.bundle, tmp_path / "gone.jpg")


def test_thousands_of_unreadable_files_are_summarized(tmp_path):
    from pocketvision.cli_text import SKIPPED_SHOWN, console, print_skipped

    skipped = [{"path": f"/data/{k}.jpg", "reason": "truncated"} for k in range(10_000)]
    with console.capture() as captured:
        print_skipped(skipped)
    lines = captured.get().splitlines()
    assert len(lines) <= SKIPPED_SHOWN + 4 and "9990 more: truncated" in captured.get()
