"""Hardening, round 2: what a new user and an attacker found in the surfaces added
since the first round (bulk output, the studio's doctor, inspect, unknown detection,
the web app). Each test failed before its fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli, user_error

pq = pytest.importorskip("pyarrow.parquet")


@pytest.fixture(scope="module")
def images(fashion3) -> Path:
    return fashion3 / "val" / "sneaker"


# ---- predict --output: only our own files, one writer, one model ----------------------

def test_a_foreign_csv_is_refused_before_it_is_touched(trained, images, tmp_path):
    mine = tmp_path / "mine.csv"
    mine.write_bytes(b"name,amount\nalice,10\nbob,20")
    line = user_error("predict", trained.bundle, images, "--output", mine)
    assert "did not write" in line and "name, amount" in line
    assert mine.read_bytes() == b"name,amount\nalice,10\nbob,20"  # not a byte cut
    sly = tmp_path / "sly.csv"
    sly.write_text("path,sha256,note\nx.png,abc,hello\n")
    assert "did not write" in user_error("predict", trained.bundle, images, "--output", sly)
    assert sly.read_text() == "path,sha256,note\nx.png,abc,hello\n"


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_two_writers_on_one_output_the_second_is_refused(trained, tmp_path, suffix):
    from fashion_mnist import CLASS_NAMES, write_few_shot

    many = write_few_shot(tmp_path / "many", list(CLASS_NAMES)[:4], 60, offset=4000)  # ~4 s of work
    out = tmp_path / f"results.{suffix}"
    first = subprocess.Popen([sys.executable, "-m", "pocketvision.cli", "predict", str(trained.bundle),
                              str(many), "--output", str(out)], stderr=subprocess.PIPE, text=True)
    for _ in range(600):  # the output appears when the first run takes its lock
        if out.exists():
            break
        time.sleep(0.05)
    second = run_cli("predict", trained.bundle, many, "--output", out)
    first.wait(timeout=300)
    assert first.returncode == 0, first.stderr.read()
    assert second.returncode == 2 and "being written by another pocketvision run" in second.stderr
    again = json.loads(run_cli("predict", trained.bundle, many, "--output", out, "--json").stdout)
    assert again["written"] == 0 and again["done_before"] == 240  # every image once


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_rows_of_another_model_are_refused(trained, images, tmp_path, suffix):
    from pocketvision.training import train

    other_data = tmp_path / "other"
    for label in ("sneaker", "trouser"):
        (other_data / label).mkdir(parents=True)
        for source in sorted((images.parent.parent / "train" / label).iterdir())[:10]:
            (other_data / label / source.name).write_bytes(source.read_bytes())
    other = train(other_data, tmp_path / "other.pvb").bundle
    out = tmp_path / f"results.{suffix}"
    assert run_cli("predict", other, images, "--output", out).returncode == 0
    line = user_error("predict", trained.bundle, images, "--output", out)
    assert "rows of another model" in line


def test_a_csv_cut_inside_a_quoted_name_with_a_newline_resumes_cleanly(trained, images, tmp_path):
    odd = tmp_path / "odd"
    odd.mkdir()
    for k, source in enumerate(sorted(images.iterdir())[:6]):
        name = f"line\nbreak {k}.png" if k % 2 else f"plain {k}.png"
        (odd / name).write_bytes(source.read_bytes())
    out = tmp_path / "results.csv"
    assert run_cli("predict", trained.bundle, odd, "--output", out).returncode == 0
    whole = out.read_bytes()
    for cut in range(len(whole) - 300, len(whole) - 1, 37):  # cut at many points of the last rows
        out.write_bytes(whole[:cut])
        done = run_cli("predict", trained.bundle, odd, "--output", out, "--json")
        assert done.returncode == 0, done.stderr
        import csv

        rows = list(csv.DictReader(out.open(newline="", encoding="utf-8")))
        assert sorted(r["path"] for r in rows) == sorted(str(p) for p in odd.iterdir()), cut


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(trained, images, tmp_path):
    import csv

    risky = tmp_path / "risky"
    risky.mkdir()
    names = ("=1+1.png", "+cmd.png", "-2.png", "@sum.png", "'quoted.png", "plain.png")
    for name in names:
        (risky / name).write_bytes(next(images.iterdir()).read_bytes())
    out = tmp_path / "results.csv"
    assert run_cli("predict", trained.bundle, "*.png", "--output", out, cwd=risky).returncode == 0
    cells = sorted(row["path"] for row in csv.DictReader(out.open(newline="", encoding="utf-8")))
    assert cells == sorted(["'=1+1.png", "'+cmd.png", "'-2.png", "'@sum.png", "''quoted.png",
                            "plain.png"])
    again = json.loads(run_cli("predict", trained.bundle, "*.png", "--output", out, "--json",
                               cwd=risky).stdout)
    assert again["written"] == 0 and again["done_before"] == 6  # read back as the real names


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_a_name_that_is_not_utf8_is_written_and_resumed(trained, images, tmp_path, suffix):
    odd = tmp_path / "odd"
    odd.mkdir()
    source = next(images.iterdir()).read_bytes()
    (odd / "fine.png").write_bytes(source)
    with open(os.path.join(os.fsencode(odd), b"bad-\xff.png"), "wb") as stream:
        stream.write(source)
    out = tmp_path / f"results.{suffix}"
    first = run_cli("predict", trained.bundle, odd, "--output", out, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["written"] == 2
    again = json.loads(run_cli("predict", trained.bundle, odd, "--output", out, "--json").stdout)
    assert again["written"] == 0 and again["done_before"] == 2


def test_damaged_or_strangely_named_parquet_parts_are_one_line(trained, images, tmp_path):
    out = tmp_path / "results.parquet"
    assert run_cli("predict", trained.bundle, images, "--output", out).returncode == 0
    (out / "part-abc.parquet").write_bytes(next(out.glob("part-*.parquet")).read_bytes())
    again = json.loads(run_cli("predict", trained.bundle, images, "--output", out, "--json").stdout)
    assert again["written"] == 0  # an unexpected name is one more part, read like the others
    (out / "part-zz-damaged.parquet").write_bytes(b"PAR1 not really")
    line = user_error("predict", trained.bundle, images, "--output", out)
    assert "part-zz-damaged.parquet is damaged" in line and "delete it" in line


def test_glob_sources_do_not_follow_links_round_in_circles(trained, images, tmp_path):
    folder = tmp_path / "photos"
    (folder / "inner").mkdir(parents=True)
    (folder / "inner" / "one.png").write_bytes(next(images.iterdir()).read_bytes())
    (folder / "inner" / "loop").symlink_to(folder)  # a link to its own parent
    (folder / "self").symlink_to(folder)
    listed = run_cli("predict", trained.bundle, str(folder / "**" / "*.png"), "--output",
                     tmp_path / "r.csv", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)["images"] == 1


# ---- inspect: hostile files -------------------------------------------------------------

@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    from pocketvision.exports.job import export

    out = tmp_path_factory.mktemp("exports")
    export(trained.bundle, out, ["onnx", "ptl", "pte", "tflite", "coreml"])
    return out


def _onnx_with(exported, tmp_path, **changes) -> Path:
    import onnx

    model = onnx.load(str(exported / "model.onnx"))
    if "contract" in changes:
        for entry in model.metadata_props:
            if entry.key == "pocketvision.contract":
                entry.value = changes["contract"]
    if changes.get("no_input"):
        del model.graph.input[:]
    path = tmp_path / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


@pytest.mark.parametrize("contract", ["{not json", "[1, 2]", '{"format": "onnx"}',
                                      '{"format": "onnx", "precision": "fp32", "labels": "abc"}'])
def test_inspect_checks_the_contract_of_an_onnx_file(exported, tmp_path, contract):
    line = user_error("inspect", _onnx_with(exported, tmp_path, contract=contract))
    assert "contract is damaged" in line


def test_inspect_an_onnx_file_without_an_input(exported, tmp_path):
    assert "no input" in user_error("inspect", _onnx_with(exported, tmp_path, no_input=True))


def test_inspect_a_tflite_file_whose_labels_are_a_zip_bomb(exported, tmp_path):
    data = (exported / "model.tflite").read_bytes()
    archive = data[data.rfind(b"PK\x03\x04"):]
    bomb = tmp_path / "model.tflite"
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as packed:
        packed.writestr("labels.txt", b"a\n" * (30 * 2**20))
    bomb.write_bytes(data[: len(data) - len(archive)] + (tmp_path / "bomb.zip").read_bytes())
    assert "larger than" in user_error("inspect", bomb)
    truncated = tmp_path / "cut" / "model.tflite"
    truncated.parent.mkdir()
    truncated.write_bytes(data[: len(data) - len(archive) + 20])
    assert "labels.txt" in user_error("inspect", truncated)


def test_inspect_a_ptl_zip_bomb(exported, tmp_path):
    with zipfile.ZipFile(exported / "model.ptl") as source:
        contract = [n for n in source.namelist() if n.endswith("/extra/pocketvision.contract.json")][0]
    bomb = tmp_path / "model.ptl"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as packed:
        packed.writestr(contract, b" " * (100 * 2**20))
    started = time.monotonic()
    assert "larger than" in user_error("inspect", bomb)
    assert time.monotonic() - started < 30


def test_inspect_a_coreml_package_that_points_outside_or_at_a_device(exported, tmp_path):
    import shutil

    package = tmp_path / "model.mlpackage"
    shutil.copytree(exported / "model.mlpackage", package)
    manifest = json.loads((package / "Manifest.json").read_text())
    root = manifest["rootModelIdentifier"]
    for target in ("../../../../etc/hostname", "/dev/zero", "../../../../dev/zero"):
        manifest["itemInfoEntries"][root]["path"] = target
        (package / "Manifest.json").write_text(json.dumps(manifest))
        assert "not a pocketvision export" in user_error("inspect", package)
    link = package / "Data" / "zero"
    link.symlink_to("/dev/zero")
    manifest["itemInfoEntries"][root]["path"] = "zero"
    (package / "Data" / "Manifest.json").write_text("")
    (package / "Manifest.json").write_text(json.dumps(manifest))
    assert "outside the package" in user_error("inspect", package)


def test_the_coreml_varint_reader_refuses_a_run_of_ff_at_once():
    from pocketvision.exports.protobuf import fields

    started = time.monotonic()
    with pytest.raises(ValueError, match="10 bytes"):
        fields(b"\xff" * 2_000_000, 1)
    assert time.monotonic() - started < 1


def test_inspect_refuses_fifos_and_devices(tmp_path):
    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)
    assert "not a regular file" in user_error("inspect", fifo)
    zero = tmp_path / "zero.onnx"
    zero.symlink_to("/dev/zero")
    assert "not a regular file" in user_error("inspect", zero)


def test_bench_on_a_damaged_pte_is_one_line(exported, tmp_path):
    import shutil

    folder = tmp_path / "exports"
    shutil.copytree(exported, folder)
    data = (folder / "model.pte").read_bytes()
    (folder / "model.pte").write_bytes(data[: len(data) // 2] + bytes(len(data) - len(data) // 2))
    manifest = json.loads((folder / "manifest.json").read_text())
    result = run_cli("bench", folder, "--runs", "2", "--json")
    assert "Traceback" not in result.stderr
    entries = {e["format"]: e for e in json.loads(result.stdout)} if result.returncode == 0 else {}
    assert result.returncode == 2 or entries["pte"]["latency_ms"] is None, (result.stderr, manifest)


# ---- unknown detection: tampered banks ----------------------------------------------------

@pytest.mark.parametrize("damage", ["huge", "nan", "inf", "zeros", "unnormalised"])
def test_a_tampered_novelty_bank_is_refused(trained, images, tmp_path, damage):
    from pocketvision.model.bundle import read_meta, read_tensors, write_bundle

    meta, tensors = read_meta(trained.bundle), read_tensors(trained.bundle)
    bank = tensors["novelty.bank"]
    tensors["novelty.bank"] = {
        "huge": np.tile(bank, (5000 // len(bank) + 1, 1))[:5000],
        "nan": np.where(np.arange(bank.size).reshape(bank.shape) == 7, np.nan, bank),
        "inf": np.where(np.arange(bank.size).reshape(bank.shape) == 7, np.inf, bank),
        "zeros": np.zeros_like(bank),
        "unnormalised": bank * 3,
    }[damage].astype(np.float32)
    tampered = write_bundle(tmp_path / "tampered.pvb", tensors, meta)
    line = user_error("predict", tampered, next(images.iterdir()), "--json")
    assert "novelty data damaged" in line


# ---- the doctor ---------------------------------------------------------------------------

def test_the_doctor_flags_nothing_as_mislabeled_in_a_class_that_is_one_burst(tmp_path, fashion3):
    from pocketvision.training import diagnose

    data = tmp_path / "bursts"
    for k, label in enumerate(("sneaker", "trouser", "t-shirt")):
        (data / label).mkdir(parents=True)
        for i, source in enumerate(sorted((fashion3 / "train" / label).iterdir())[:15]):
            (data / label / f"20261201T12000{k}-abc{k}-{i:04d}.png").write_bytes(source.read_bytes())
    found = diagnose(data)
    assert [f for f in found.findings if f.kind == "mislabeled"] == []
    bursts = [f for f in found.findings if f.kind == "single_burst"]
    assert len(bursts) == 3 and "nor checked for wrong labels" in bursts[0].why


def test_classes_named_train_and_val_are_classes(tmp_path, fashion3):
    from pocketvision.data import load_split

    data = tmp_path / "named"
    for label, source in (("train", "sneaker"), ("val", "trouser")):
        (data / label).mkdir(parents=True)
        for picture in sorted((fashion3 / "train" / source).iterdir())[:6]:
            (data / label / picture.name).write_bytes(picture.read_bytes())
    split = load_split(data)
    assert split.classes == ["train", "val"] and not split.explicit
    done = run_cli("doctor", data, "--json")
    assert done.returncode == 0 and json.loads(done.stdout)["images"] == 12


# ---- what a user reads --------------------------------------------------------------------

def test_markup_in_class_and_file_names_is_printed_as_text(tmp_path, fashion3):
    data = tmp_path / "markup"
    for label, source in (("[@x=(]", "sneaker"), ("[bold]b", "trouser")):
        (data / label).mkdir(parents=True)
        for picture in sorted((fashion3 / "train" / source).iterdir())[:6]:
            (data / label / f"[red]{picture.name}").write_bytes(picture.read_bytes())
    trained = run_cli("train", data, "--out", tmp_path / "m.pvb")
    assert trained.returncode == 0, trained.stderr
    assert "[@x=(]" in trained.stdout and "[bold]b" in trained.stdout
    picture = next((data / "[@x=(]").iterdir())
    predicted = run_cli("predict", tmp_path / "m.pvb", picture)
    assert predicted.returncode == 0 and "[red]" in predicted.stdout, predicted.stderr
    doctor = run_cli("doctor", data)
    assert doctor.returncode == 0 and "[@x=(]" in doctor.stdout


def test_a_map_to_a_class_with_an_equals_sign(tmp_path, fashion3):
    from pocketvision.actions import parse_mapping

    actions = parse_mapping(["a=b=space", "c=Down:hold"], ["a=b", "c"])
    assert actions["a=b"].key == "space" and actions["c"].mode == "hold"


def test_commands_print_no_empty_line_on_stderr(trained, images, tmp_path):
    for args in (("train", images.parent, "--out", tmp_path / "m.pvb"),
                 ("predict", trained.bundle, next(images.iterdir()))):
        done = run_cli(*args, env={"POCKETVISION_NO_PROGRESS": ""})
        assert done.returncode == 0 and done.stderr == "", (args, done.stderr)


def test_train_says_when_it_replaces_a_model(fashion3, tmp_path):
    out = tmp_path / "model.pvb"
    assert "replaced" not in run_cli("train", fashion3, "--out", out).stdout
    again = run_cli("train", fashion3, "--out", out)
    assert "replaced the one that was there" in again.stdout


def test_backbones_reads_at_80_columns():
    done = run_cli("backbones", env={"COLUMNS": "80"})
    assert done.returncode == 0 and "┃" not in done.stdout
    assert "efficientnet_lite0  224 px" in done.stdout


def test_the_gallery_tells_99_9_from_100_percent():
    from pocketvision.evaluation.report import _confidence

    assert [_confidence(p) for p in (0.5, 0.999, 0.99996, 1.0)] == ["50%", "99.9%", "99.996%", "100%"]


def test_export_names_every_missing_extra_at_once(trained, tmp_path, monkeypatch):
    from pocketvision.errors import MissingExtraError
    from pocketvision.exports import formats
    from pocketvision.exports.job import export

    monkeypatch.setattr(formats, "missing_modules",
                        lambda spec: [spec.modules[0]] if spec.name in ("onnx", "tflite") else [])
    monkeypatch.setattr("pocketvision.exports.job.missing_modules", formats.missing_modules)
    with pytest.raises(MissingExtraError) as error:
        export(trained.bundle, tmp_path / "out", ["onnx", "tflite"])
    assert "exporting onnx needs" in str(error.value) and "exporting tflite needs" in str(error.value)
    assert "pocketvision[onnx,tflite]" in str(error.value)


def test_a_disk_error_that_is_not_a_full_disk_is_not_called_one(trained, images, tmp_path):
    (tmp_path / "file").write_text("x")
    line = user_error("predict", trained.bundle, next(images.iterdir()), "--output",
                      tmp_path / "file" / "out.csv")
    assert "free some space" not in line


def test_an_image_is_read_once_when_resuming(trained, images, tmp_path, monkeypatch):
    """Done rows are skipped by their hash, before any decoding."""
    from pocketvision.inference import bulk

    out = tmp_path / "r.csv"
    bulk.predict_to_file(trained.bundle, [str(images)], out)
    decoded = []
    original = bulk.load_rgb
    monkeypatch.setattr(bulk, "load_rgb", lambda *a, **k: decoded.append(a) or original(*a, **k))
    again = bulk.predict_to_file(trained.bundle, [str(images)], out)
    assert again.written == 0 and decoded == []

