"""Exports: each format written by its exporter, verified in its real runtime, with
the input prepared from the contract read back from the file itself."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pocketvision.bundle import load_bundle
from pocketvision.exporters import export_artifact, list_exporters
from pocketvision.verify import verification_set, verify_artifact

FORMATS = [spec.name for spec in list_exporters()]


@pytest.fixture(scope="module")
def bundle(trained):
    return load_bundle(trained.bundle)


@pytest.fixture(scope="module")
def exported(bundle, tmp_path_factory):
    folder = tmp_path_factory.mktemp("exports")
    return {spec.name: export_artifact(spec, bundle, folder) for spec in list_exporters()}


@pytest.mark.parametrize("name", FORMATS)
def test_export_gives_the_bundles_answers(bundle, exported, name):
    images = verification_set(bundle)
    assert len(images.paths) == 45 and "validation images recorded" in images.source
    entry = verify_artifact(bundle, name, exported[name], images)
    assert entry["ran"] and entry["runtime"]
    assert entry["top1_agreement"] >= 0.99
    assert entry["max_prob_diff"] <= 1e-3
    assert entry["accuracy"] == entry["reference_accuracy"]


@pytest.mark.parametrize("name", FORMATS)
def test_file_carries_labels_and_input_contract(bundle, exported, name):
    from pocketvision.exporters import get_exporter

    found = get_exporter(name).inspect(exported[name])
    assert found["labels"] == bundle.labels
    assert found["input"]["shape"] == [1, 3, 224, 224]
    assert found["input"]["layout"] in ("NCHW", "NHWC") and found["input"]["range"] == [0, 1]
    assert found["preprocessing"]["crop"] == 224 and found["preprocessing"]["resize"] == 224


def test_a_wrong_contract_fails_verification(bundle, exported, tmp_path):
    """Shuffled labels in the file's metadata must not pass as 'the same answers'."""
    import onnx

    model = onnx.load(str(exported["onnx"]))
    for entry in model.metadata_props:
        if entry.key == "pocketvision.contract":
            contract = json.loads(entry.value)
            contract["labels"] = contract["labels"][::-1]
            entry.value = json.dumps(contract)
    tampered = tmp_path / "tampered.onnx"
    onnx.save(model, str(tampered))
    entry = verify_artifact(bundle, "onnx", tampered, verification_set(bundle))
    assert entry["top1_agreement"] < 0.9


def cli(*args):
    return subprocess.run([sys.executable, "-m", "pocketvision.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def test_export_and_inspect_commands(trained, fashion3, tmp_path):
    out = tmp_path / "exports"
    result = cli("export", trained.bundle, "--out", out, "--format", "onnx",
                 "--verify", fashion3 / "val", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    [entry] = report["exports"]
    assert set(entry) >= {"format", "precision", "path", "bytes", "runtime", "ran", "why_not_ran",
                          "top1_agreement", "max_prob_diff", "accuracy", "reference_accuracy",
                          "latency_ms"}
    assert entry["top1_agreement"] >= 0.99
    assert {p.name for p in out.iterdir()} == {"model.onnx", "report.json", "report.md",
                                               "golden.png", "golden.json"}
    golden = json.loads((out / "golden.json").read_text())
    assert set(golden["probabilities"]) == set(trained.classes)
    found = cli("inspect", out / "model.onnx", "--json")
    assert found.returncode == 0, found.stderr
    document = json.loads(found.stdout)
    assert document["labels"] == trained.classes and document["preprocessing"]["mean"] is None


def one_line_exit_2(result) -> str:
    assert result.returncode == 2, (result.returncode, result.stderr)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    return lines[0]


def test_export_bad_input(trained, tmp_path):
    corrupt = tmp_path / "corrupt.pvb"
    corrupt.write_bytes(b"\x00" * 100)
    assert "not a pocketvision bundle" in one_line_exit_2(cli("export", corrupt, "--out", tmp_path / "a"))
    assert "unknown export format 'tflight'" in one_line_exit_2(
        cli("export", trained.bundle, "--out", tmp_path / "b", "--format", "tflight"))
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    assert "is a file" in one_line_exit_2(cli("export", trained.bundle, "--out", blocker))
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    assert "not an export" in one_line_exit_2(cli("inspect", trained.bundle))


def test_all_skips_formats_whose_library_is_missing(monkeypatch):
    from pocketvision.errors import MissingExtraError
    from pocketvision.exporters import registry
    from pocketvision.exporting import _choose

    fake = registry.ExporterSpec(name="fake", suffix=".fake", description="needs a missing library",
                                 modules=("no_such_module_here",), extra="fake",
                                 export=None, inspect=None)
    monkeypatch.setitem(registry._REGISTRY, "fake", fake)
    specs, skipped = _choose("all")
    assert "fake" not in [s.name for s in specs]
    [entry] = skipped
    assert entry["ran"] is False and "pip install 'pocketvision[fake]'" in entry["why_not_ran"]
    with pytest.raises(MissingExtraError, match=r"pip install 'pocketvision\[fake\]'"):
        _choose(["fake"])


def test_verification_uses_only_unchanged_recorded_images(trained, tmp_path):
    import shutil

    from pocketvision.bundle import save_bundle

    original = load_bundle(trained.bundle)
    moved = tmp_path / "val"
    meta = dict(original.meta)
    meta["validation_images"] = []
    for k, entry in enumerate(original.meta["validation_images"][:3]):
        copy = moved / f"{k}.png"
        copy.parent.mkdir(exist_ok=True)
        shutil.copy(entry["path"], copy)
        meta["validation_images"].append(dict(entry, path=str(copy)))
    bundle = load_bundle(save_bundle(tmp_path / "m.pvb", original.model, original.labels, meta))
    (moved / "1.png").write_bytes((moved / "0.png").read_bytes() + b"changed")
    images = verification_set(bundle)
    assert images.paths == [moved / "0.png", moved / "2.png"]
    (moved / "0.png").unlink()
    (moved / "2.png").unlink()
    assert "generated reference images" in verification_set(bundle).source
