"""Exports: each format written by its exporter, verified in its real runtime, with
the input prepared from the contract read back from the file itself."""

from __future__ import annotations

import dataclasses
import json
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli, user_error
from paths import ROOT

from pocketvision.errors import RuntimeUnavailable
from pocketvision.exports import export_artifact, list_formats
from pocketvision.exports.verification import verification_set, verify_artifact
from pocketvision.model.bundle import load_bundle

FORMATS = [spec.name for spec in list_formats()]
INT8 = [spec.name for spec in list_formats() if "int8" in spec.precisions]


@pytest.fixture(scope="module")
def bundle(trained):
    return load_bundle(trained.bundle)


@pytest.fixture(scope="module")
def calibration(bundle):
    from pocketvision.exports.verification import calibration_inputs

    inputs, source = calibration_inputs(bundle, verification_set(bundle))
    assert "training images recorded in the bundle" in source  # never the validation images
    return inputs


@pytest.fixture(scope="module")
def exported(bundle, calibration, tmp_path_factory):
    """{(format, precision): path}: every format in fp32, and in int8 where it has one."""
    folder = tmp_path_factory.mktemp("exports")
    made = {}
    for spec in list_formats():
        for precision in ("fp32", "int8"):
            if precision in spec.precisions:
                made[spec.name, precision] = export_artifact(spec, bundle, folder, precision,
                                                             calibration)
    return made


def runs_here(name: str) -> bool:
    return not (name == "coreml" and platform.system() != "Darwin")


@pytest.mark.parametrize("name", FORMATS)
def test_export_gives_the_bundles_answers(bundle, exported, name):
    images = verification_set(bundle)
    assert len(images.paths) == 45 and "validation images recorded" in images.source
    entry = verify_artifact(bundle, exported[name, "fp32"], images).to_json()
    assert entry["runtime"] and entry["bytes"] > 1_000_000
    if not runs_here(name):
        assert entry["ran"] is False and "only on macOS/iOS" in entry["why_not_ran"]
        return
    assert entry["ran"]
    assert entry["top1_agreement"] >= 0.99
    assert entry["max_prob_diff"] <= 1e-3
    assert entry["accuracy"] == entry["reference_accuracy"]


@pytest.mark.parametrize("name", INT8)
def test_int8_export_is_small_and_keeps_the_answers(bundle, exported, name):
    images = verification_set(bundle)
    fp32 = verify_artifact(bundle, exported[name, "fp32"], images).to_json()
    int8 = verify_artifact(bundle, exported[name, "int8"], images).to_json()
    assert int8["precision"] == "int8"
    # the whole file, novelty's bank of training features included (kept in int8)
    assert int8["bytes"] <= 0.30 * fp32["bytes"], int8["bytes"] / fp32["bytes"]
    if runs_here(name):
        assert int8["top1_agreement"] >= 0.9
        assert int8["accuracy"] >= fp32["accuracy"] - 0.05


@pytest.mark.parametrize("name", FORMATS)
def test_file_carries_labels_and_input_contract(bundle, exported, name):
    from pocketvision.exports import get_format

    for precision in ("fp32", "int8"):
        if (name, precision) not in exported:
            continue
        found = get_format(name).inspect(exported[name, precision])
        assert found["labels"] == bundle.labels and found["precision"] == precision
        layout = found["input"]["layout"]
        assert found["input"]["shape"] == ([1, 3, 224, 224] if layout == "NCHW" else [1, 224, 224, 3])
        assert found["input"]["range"] in ([0, 1], [0, 255])
        assert found["preprocessing"]["crop"] == 224 and found["preprocessing"]["resize"] == 224
        assert found["preprocessing"]["mean"] is None  # normalization is inside every graph


def test_coreml_spec_is_an_image_classifier_with_labels(bundle, exported):
    """What an iOS app relies on, checked with coremltools (Core ML cannot run here)."""
    from pocketvision.exports.coreml_format import program_labels
    from pocketvision.native_output import quiet_import

    ct = quiet_import("coremltools")
    spec = ct.models.MLModel(str(exported["coreml", "fp32"]), skip_model_load=True).get_spec()
    [image] = spec.description.input
    assert image.name == "image" and image.type.WhichOneof("Type") == "imageType"
    assert (image.type.imageType.width, image.type.imageType.height) == (224, 224)
    assert image.type.imageType.colorSpace == ct.proto.FeatureTypes_pb2.ImageFeatureType.RGB
    assert [o.name for o in spec.description.output] == ["classLabel", "classLabel_probs"]
    assert spec.description.predictedFeatureName == "classLabel"
    assert program_labels(spec) == bundle.labels
    function = spec.mlProgram.functions["main"]
    first = function.block_specializations[function.opset].operations[:2]
    scale = first[0].attributes["val"].immediateValue.tensor
    assert [op.type for op in first] == ["const", "mul"]  # pixels * 1/255 before anything else
    assert list(scale.floats.values) == pytest.approx([1 / 255])


def test_a_wrong_contract_fails_verification(bundle, exported, tmp_path):
    """Shuffled labels in the file's metadata must not pass as 'the same answers'."""
    import onnx

    model = onnx.load(str(exported["onnx", "fp32"]))
    for entry in model.metadata_props:
        if entry.key == "pocketvision.contract":
            contract = json.loads(entry.value)
            contract["labels"] = contract["labels"][::-1]
            entry.value = json.dumps(contract)
    tampered = tmp_path / "tampered.onnx"
    onnx.save(model, str(tampered))
    entry = verify_artifact(bundle, tampered, verification_set(bundle))
    assert entry.top1_agreement < 0.9


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_mediapipe_image_classifier_loads_the_tflite_file_with_default_options(
        bundle, exported, precision):
    """Google's own client, as a mobile developer uses it: no options but the file.
    It needs the standard metadata (RGB image, normalization, label file)."""
    import numpy as np
    from mediapipe import Image as MediaPipeImage
    from mediapipe import ImageFormat
    from mediapipe.tasks.python.core.base_options import BaseOptions
    from mediapipe.tasks.python.vision import ImageClassifier, ImageClassifierOptions

    from pocketvision.data.images import load_rgb
    from pocketvision.data.preprocessing import load_array, resize_and_crop
    from pocketvision.inference.predictor import load_predictor

    images = verification_set(bundle)
    options = ImageClassifierOptions(base_options=BaseOptions(
        model_asset_path=str(exported["tflite", precision])))
    agree, novelty = 0, []
    with ImageClassifier.create_from_options(options) as classifier:
        for path, reference in zip(images.paths, images.references(bundle)):
            # the same resize and crop as ours; MediaPipe then divides by 255 as the metadata says
            picture = np.asarray(resize_and_crop(load_rgb(path, at_least=bundle.preprocessing.resize),
                                                 bundle.preprocessing))
            found = classifier.classify(MediaPipeImage(image_format=ImageFormat.SRGB, data=picture))
            best = found.classifications[0].categories[0]
            assert best.category_name in bundle.labels  # names from the packed label file
            agree += best.category_name == bundle.labels[int(reference.argmax())]
            # unknown detection: a second head of one score, named by the metadata
            assert found.classifications[1].head_name == "novelty"
            novelty.append(found.classifications[1].categories[0].score)
    assert agree / len(images.paths) >= (0.99 if precision == "fp32" else 0.97), agree
    predictor = load_predictor(bundle.path)
    ours = predictor.classify(np.stack([load_array(p, predictor.preprocessing)
                                        for p in images.paths]))[1]
    assert np.abs(np.array(novelty) - ours).max() <= (1e-4 if precision == "fp32" else 0.3)


TASK_LIBRARY_PYTHON = ROOT / ".venv-tasklib" / "bin" / "python"
TASK_LIBRARY_SCRIPT = """
import json, sys
from tflite_support.task import core, vision
options = vision.ImageClassifierOptions(base_options=core.BaseOptions(file_name=sys.argv[1]))
classifier = vision.ImageClassifier.create_from_options(options)
print(json.dumps([classifier.classify(vision.TensorImage.create_from_file(path))
                  .classifications[0].categories[0].category_name for path in sys.argv[2:]]))
"""


@pytest.mark.skipif(not TASK_LIBRARY_PYTHON.exists(),
                    reason="the TFLite Task Library needs protobuf<4: tests/install.sh installs it in .venv-tasklib")
@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_the_tflite_task_library_loads_the_file_with_default_options(bundle, exported, precision,
                                                                      tmp_path):
    from pocketvision.data.images import load_rgb
    from pocketvision.data.preprocessing import resize_and_crop

    images = verification_set(bundle)
    pictures = []
    for k, path in enumerate(images.paths):
        picture = tmp_path / f"{k}.png"
        resize_and_crop(load_rgb(path, at_least=bundle.preprocessing.resize),
                        bundle.preprocessing).save(picture)
        pictures.append(str(picture))
    result = subprocess.run([str(TASK_LIBRARY_PYTHON), "-c", TASK_LIBRARY_SCRIPT,
                             str(exported["tflite", precision]), *pictures],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout.strip().splitlines()[-1])
    expected = [bundle.labels[int(r.argmax())] for r in images.references(bundle)]
    agree = sum(a == b for a, b in zip(found, expected)) / len(expected)
    assert agree >= (0.99 if precision == "fp32" else 0.97), (found, expected)


def test_the_ptl_file_says_plainly_whether_it_was_optimized(exported):
    import torch

    from pocketvision.exports import get_format

    notes = get_format("ptl").inspect(exported["ptl", "fp32"])["notes"]
    if torch._C._is_xnnpack_enabled():
        assert notes == []
    else:  # the CUDA wheels: one sentence in our words, not a cut assertion message
        [note] = notes
        assert "no XNNPACK" in note and "ExecuTorch" in note and "INTERNAL ASSERT" not in note


def test_the_tflite_contract_names_the_real_tensors(exported):
    from ai_edge_litert.interpreter import Interpreter

    from pocketvision.exports import get_format

    found = get_format("tflite").inspect(exported["tflite", "fp32"])
    interpreter = Interpreter(model_path=str(exported["tflite", "fp32"]))
    assert interpreter.get_input_details()[0]["name"] == found["input"]["name"] == "image"
    assert interpreter.get_output_details()[0]["name"] == found["output"]["name"] == "probabilities"


def test_export_and_inspect_commands(trained, fashion3, tmp_path):
    out = tmp_path / "exports"
    result = run_cli("export", trained.bundle, "--out", out, "--format", "onnx",
                 "--verify", fashion3 / "val", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    [entry] = report["exports"]
    assert set(entry) >= {"format", "precision", "path", "bytes", "runtime", "ran", "why_not_ran",
                          "top1_agreement", "max_prob_diff", "accuracy", "reference_accuracy",
                          "latency_ms"}
    assert entry["top1_agreement"] >= 0.99
    assert {p.name for p in out.iterdir()} == {"model.onnx", "report.json", "report.md",
                                               "golden.png", "golden.json", "manifest.json"}
    golden = json.loads((out / "golden.json").read_text())
    assert set(golden["probabilities"]) == set(trained.classes)
    found = run_cli("inspect", out / "model.onnx", "--json")
    assert found.returncode == 0, found.stderr
    document = json.loads(found.stdout)
    assert document["labels"] == trained.classes and document["preprocessing"]["mean"] is None


def test_export_bad_input(trained, tmp_path):
    corrupt = tmp_path / "corrupt.pvb"
    corrupt.write_bytes(b"\x00" * 100)
    assert "not a pocketvision bundle" in user_error("export", corrupt, "--out", tmp_path / "a")
    assert "unknown export format 'tflight'" in user_error(
        "export", trained.bundle, "--out", tmp_path / "b", "--format", "tflight")
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    assert "is a file" in user_error("export", trained.bundle, "--out", blocker)
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").iterdir())
    assert not (tmp_path / "b").exists() or not any((tmp_path / "b").iterdir())
    assert "not an export" in user_error("inspect", blocker)  # a .pvb is inspected (item 24)


def test_all_skips_formats_whose_library_is_missing(monkeypatch):
    from pocketvision.errors import MissingExtraError
    from pocketvision.exports import formats as registry
    from pocketvision.exports.job import _choose

    fake = registry.Format(name="fake", suffix=".fake", description="needs a missing library",
                           modules=("no_such_module_here",), extra="fake",
                           export=None, inspect=None, load=None)
    monkeypatch.setitem(registry._REGISTRY, "fake", fake)
    specs, skipped = _choose("all")
    assert "fake" not in [s.name for s in specs]
    [entry] = skipped
    assert entry.ran is False and "pip install 'pocketvision[fake]'" in entry.why_not_ran
    with pytest.raises(MissingExtraError, match=r"pip install 'pocketvision\[fake\]'"):
        _choose(["fake"])


def test_verification_uses_only_unchanged_recorded_images(trained, tmp_path):
    import shutil

    from pocketvision.model.bundle import save_bundle

    original = load_bundle(trained.bundle)
    moved = tmp_path / "val"
    kept = []
    for k, entry in enumerate(original.meta.validation_images[:3]):
        copy = moved / f"{k}.png"
        copy.parent.mkdir(exist_ok=True)
        shutil.copy(entry.path, copy)
        kept.append(dataclasses.replace(entry, path=str(copy)))
    meta = original.meta.replace(validation_images=kept)
    bundle = load_bundle(save_bundle(tmp_path / "m.pvb", original.model, meta))
    (moved / "1.png").write_bytes((moved / "0.png").read_bytes() + b"changed")
    images = verification_set(bundle)
    assert images.paths == [moved / "0.png", moved / "2.png"]
    (moved / "0.png").unlink()
    (moved / "2.png").unlink()
    assert "generated reference images" in verification_set(bundle).source


def test_export_quantize_bench_and_imagenet_commands(trained, tmp_path):
    """export --quantize int8 writes both precisions; bench times them against eager;
    export --backbone writes the pretrained ImageNet classifier."""
    out = tmp_path / "exports"
    result = run_cli("export", trained.bundle, "--out", out, "--format", "onnx,ptl",
                 "--quantize", "int8", "--json")
    assert result.returncode == 0, result.stderr
    entries = {(e["format"], e["precision"]): e for e in json.loads(result.stdout)["exports"]}
    assert set(entries) == {("onnx", "fp32"), ("onnx", "int8"), ("ptl", "fp32"), ("ptl", "int8")}
    assert entries["onnx", "int8"]["ran"] and entries["onnx", "int8"]["size_vs_fp32"] <= 0.30
    assert not entries["ptl", "int8"]["ran"] and "no int8" in entries["ptl", "int8"]["why_not_ran"]
    assert "training images" in json.loads((out / "report.json").read_text())["calibration_source"]

    timed = run_cli("bench", out, "--runs", "3", "--threads", "2", "--json")
    assert timed.returncode == 0, timed.stderr
    assert {r["threads"] for r in json.loads(timed.stdout)} == {2}
    latencies = {(r["format"], r["precision"]): r["latency_ms"] for r in json.loads(timed.stdout)}
    assert set(latencies) == {("torch-eager", "fp32"), ("onnx", "fp32"), ("onnx", "int8"),
                              ("ptl", "fp32")}
    assert all(ms > 0 for ms in latencies.values())

    imagenet = tmp_path / "imagenet"
    result = run_cli("export", "--backbone", "efficientnet_lite0", "--out", imagenet,
                 "--format", "onnx", "--json")
    assert result.returncode == 0, result.stderr
    [entry] = json.loads(result.stdout)["exports"]
    assert entry["top1_agreement"] >= 0.99 and entry["accuracy"] is None
    found = json.loads(run_cli("inspect", imagenet / "model.onnx", "--json").stdout)
    assert len(found["labels"]) == 1000 and "tabby" in found["labels"][281]


NOVELTY_FORMATS = [("onnx", "fp32"), ("onnx", "int8"), ("pte", "fp32"), ("pte", "int8"),
                   ("ptl", "fp32"), ("tflite", "fp32"), ("tflite", "int8")]


@pytest.mark.parametrize("name, precision", NOVELTY_FORMATS)
def test_exports_compute_novelty_as_the_bundle_does(bundle, exported, name, precision, photos,
                                                    tmp_path):
    """A phone gets unknown detection too: run in each format's own runtime, as the
    contract read back from the file says, on known images and on photos of no
    known class. int8 files compute it from int8 features: close, not equal."""
    import numpy as np
    from conftest import save

    from pocketvision.data.preprocessing import load_array
    from pocketvision.exports import load_runner
    from pocketvision.exports.contract import artifact_input
    from pocketvision.inference.predictor import load_predictor

    runner = load_runner(exported[name, precision])
    assert runner.contract["novelty"]["threshold"] == 0.5 and runner.run_with_novelty is not None
    predictor = load_predictor(bundle.path)
    known = [Path(r.path) for r in bundle.meta.validation_images]
    unknown = [save(photos[n], tmp_path / f"{n}.png") for n in ("chelsea", "coffee")]
    theirs = np.array([runner.run_with_novelty(artifact_input(p, runner.contract))[1]
                       for p in known + unknown])
    ours = predictor.classify(np.stack([load_array(p, predictor.preprocessing)
                                        for p in known + unknown]))[1]
    tolerance = 1e-4 if precision == "fp32" else 0.3
    assert np.abs(theirs - ours).max() <= tolerance
    assert (theirs[:len(known)] <= 0.5).mean() >= 0.9 and (theirs[len(known):] > 0.5).all()
    entry = verify_artifact(bundle, exported[name, precision], verification_set(bundle))
    assert entry.max_novelty_diff is not None and entry.max_novelty_diff <= tolerance


def test_onnx_novelty_is_the_third_output_a_stock_session_reads(exported):
    import onnxruntime

    session = onnxruntime.InferenceSession(str(exported["onnx", "fp32"]))
    found = json.loads(session.get_modelmeta().custom_metadata_map["pocketvision.contract"])
    assert [o.name for o in session.get_outputs()] == ["probabilities", "label", "novelty"]
    assert found["novelty"] == {"output": "novelty", "threshold": 0.5}


def test_export_rejects_an_unknown_precision(trained, tmp_path):
    line = user_error("export", trained.bundle, "--out", tmp_path / "q", "--quantize", "int4")
    assert "unknown --quantize 'int4'" in line
    assert not (tmp_path / "q").exists()


SNIPPET = ROOT / "docs" / "snippets" / "classify.py"


@pytest.mark.parametrize("name", ["onnx", "tflite", "pte"])
def test_documented_python_snippet_reads_the_file_and_agrees(bundle, exported, name):
    """docs/snippets/classify.py, run as a user would, with only the runtime."""
    image = bundle.meta.validation_images[0].path
    result = subprocess.run([sys.executable, str(SNIPPET), str(exported[name, "fp32"]), image],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    expected = bundle.labels[int(bundle.predict_images([Path(image)])[0].argmax())]
    assert answer["label"] == expected


@pytest.mark.parametrize("name", FORMATS)
def test_inspect_reads_the_file_without_torch(bundle, exported, name):
    """inspect reads each file directly (no runtime, no torch: it starts in well
    under a second), and finds what the format's own runtime reads."""
    import subprocess
    import sys

    from pocketvision.exports import get_format

    path = exported[name, "fp32"]
    code = ("import json, sys; from pocketvision.exports import get_format; "
            f"found = get_format({name!r}).inspect({str(path)!r}); "
            "print(json.dumps(found)); print('torch' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    document, torch_imported = done.stdout.strip().splitlines()
    assert torch_imported == "False"
    found = json.loads(document)
    assert found["labels"] == bundle.labels
    try:
        runner = get_format(name).load(path, None)
    except RuntimeUnavailable as missing:  # Core ML on Linux: its spec, read by coremltools
        runner = missing
    assert found == runner.contract


def test_the_two_network_backbone_trains_and_exports(fashion3, tmp_path):
    """EfficientNet-Lite0 and -Lite2 side by side: one bundle, and files that phones run
    with both networks inside, agreeing with the bundle in their own runtimes."""
    bundle = tmp_path / "pair.pvb"
    trained = run_cli("train", fashion3, "--backbone", "efficientnet_lite0_lite2",
                      "--out", bundle, "--json")
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["val_accuracy"] >= 0.9
    result = run_cli("export", bundle, "--out", tmp_path / "exports", "--format",
                     "onnx,pte,tflite", "--json")
    assert result.returncode == 0, result.stderr
    entries = json.loads(result.stdout)["exports"]
    assert {entry["format"] for entry in entries} == {"onnx", "pte", "tflite"}
    for entry in entries:
        assert entry["ran"] and entry["top1_agreement"] == 1.0, entry
        assert entry["max_prob_diff"] < 1e-4, entry
    found = json.loads(run_cli("inspect", tmp_path / "exports" / "model.onnx", "--json").stdout)
    assert found["backbone"] == "efficientnet_lite0_lite2" and found["input"]["shape"][-1] == 260


def test_the_web_app_at_another_size_fits_its_own_unknown_threshold(trained, fashion3, tmp_path):
    """--web-input 160: the game feeds the model 160-px frames, whose features sit
    farther from the 224-px training features; the page's threshold is fitted again
    at 160 px by the bundle's rule, so known pictures are not called unknown."""
    import json

    import numpy as np

    from pocketvision.data.dataset import labelled_images
    from pocketvision.exports.job import export
    from pocketvision.exports.web_model import page_spec
    from pocketvision.features import sample_features
    from pocketvision.inference import load_predictor
    from pocketvision.model.novelty import NoveltyModel

    report = export(trained.bundle, tmp_path / "out", ["web"], web_input=160)
    [entry] = report.exports
    assert entry.ran and "160 px" in entry.notes[0] and "fitted again at 160 px" in entry.notes[1]
    play = json.loads((tmp_path / "out" / "web" / "config.json").read_text())["play"]
    assert play["crop"] == 160 and play["resize"] == 160
    # the game page tells the player how often this 160 px model gave the bundle's answer
    assert play["agreement"] == {"top1": entry.top1_agreement, "images": entry.images}
    predictor = load_predictor(trained.bundle)
    spec = page_spec(predictor.preprocessing, 160)
    samples, _ = labelled_images(fashion3 / "val", predictor.labels)
    features = sample_features(predictor.extractor, spec, samples)
    probabilities = predictor.head.probabilities(features)
    refitted = NoveltyModel(predictor.novelty.bank, play["novelty"]["scale"],
                            play["novelty"]["threshold"])
    rejected = lambda model: float((model.score(features, probabilities) > 0.5).mean())  # noqa: E731
    assert rejected(refitted) <= 0.15, (rejected(refitted), rejected(predictor.novelty))
    assert rejected(refitted) <= rejected(predictor.novelty)
    assert np.isfinite(play["novelty"]["threshold"])


@pytest.mark.parametrize("name", ["tflite", "pte", "onnx"])  # .ptl takes any size
def test_a_file_that_loads_but_fails_to_run_is_one_sentence(exported, name):
    """Hardening 3, item 10: mutation fuzzing found .tflite and .pte files that load
    (and pass inspect) but fail in the runtime when run ('Dimension mismatch' from
    TFLite's set_tensor, 'method->execute() failed' from ExecuTorch): a traceback in
    control. Each runtime's own failure on a real run now is an ExportError naming the
    file; here the same failures come from an input of the wrong shape."""
    from pocketvision.errors import ExportError
    from pocketvision.exports import load_runner

    path = exported[name, "fp32"]
    runner = load_runner(path)
    wrong = np.zeros([1, 3, 5, 5] if runner.contract["input"]["layout"] == "NCHW" else [1, 5, 5, 3],
                     np.float32)
    with pytest.raises(ExportError, match="loaded but fails to run") as failed:
        runner.run(wrong)
    assert str(path) in str(failed.value) and "\n" not in str(failed.value)


def test_a_contract_without_an_input_dtype_is_damaged(tmp_path):
    """Item 10: one flipped bit in a Core ML package left its contract's input without
    a dtype, and inspect's printer died on KeyError: the contract check names it."""
    from pocketvision.errors import ExportError
    from pocketvision.exports.contract import checked_contract

    good = {"labels": ["a", "b"], "format": "coreml", "precision": "fp32", "output": {},
            "input": {"name": "image", "layout": "NHWC", "range": [0, 255], "dtype": "uint8"},
            "preprocessing": {"resize": 224, "crop": 224, "mean": None, "std": None}}
    assert checked_contract(json.dumps(good), "model.mlpackage")["input"]["dtype"] == "uint8"
    del good["input"]["dtype"]
    with pytest.raises(ExportError, match="its input has no known dtype"):
        checked_contract(json.dumps(good), "model.mlpackage")


def test_inspect_says_once_who_scales_the_pixels(exported):
    """Item 27: the Core ML file takes 0-255 pixels and scales them inside: inspect no
    longer also tells the app to divide by 255; an ONNX file still says to."""
    coreml = run_cli("inspect", exported["coreml", "fp32"]).stdout
    assert "RGB values [0, 255]" in coreml and "divide by 255" not in coreml
    assert "pass the 0-255 values as they are" in coreml
    assert "divide by 255" in run_cli("inspect", exported["onnx", "fp32"]).stdout
