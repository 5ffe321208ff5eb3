"""A bundle run without PyTorch: the cached backbone graph + the NumPy head give
the PyTorch model's answers, the jobs that use it import no torch, and the pages'
assembled ONNX model keeps the export contract."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import run_cli

from pocketvision.data.preprocessing import load_array
from pocketvision.inference.predictor import load_predictor
from pocketvision.model.bundle import load_bundle


def val_images(fashion3):
    return sorted((fashion3 / "val").rglob("*.png"))


def test_the_predictor_gives_the_pytorch_models_answers(trained, fashion3):
    import torch

    paths = val_images(fashion3)
    predictor = load_predictor(trained.bundle)
    bundle = load_bundle(trained.bundle)
    batch = np.stack([load_array(p, predictor.preprocessing) for p in paths])
    ours = predictor.probabilities(batch)
    theirs = bundle.predict_tensors(torch.from_numpy(batch))
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
    assert (ours.argmax(1) == theirs.argmax(1)).all()
    # a bundle loaded in PyTorch and handed to predict/evaluate keeps its unknown detection
    from pocketvision.inference.predictor import as_predictor

    novelty = predictor.classify(batch)[1]
    np.testing.assert_allclose(as_predictor(bundle).classify(batch)[1], novelty, atol=1e-4)


def test_training_and_using_a_bundle_import_no_torch(trained, fashion3, tmp_path):
    """Once the backbone's graph is cached (the session's trained bundle built it),
    train, predict, evaluate and control's frame classifier run without torch."""
    out = tmp_path / "again.pvb"
    code = f"""
import json, sys
import numpy as np
from pocketvision.training.job import train
from pocketvision.inference.prediction import predict
from pocketvision.evaluation.job import evaluate
from pocketvision.live.classify import load_frame_classifier
result = train({str(fashion3)!r}, {str(out)!r})
entries = predict({str(out)!r}, [{str(val_images(fashion3)[0])!r}])
evaluation = evaluate({str(out)!r}, {str(fashion3)!r})
classify, labels = load_frame_classifier({str(out)!r})
classify(np.zeros((480, 640, 3), np.uint8))
print(json.dumps({{"accuracy": result.val_accuracy, "label": entries[0]["label"],
                  "evaluated": evaluation.metrics["accuracy"], "torch": "torch" in sys.modules}}))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["torch"] is False
    assert found["accuracy"] == pytest.approx(trained.val_accuracy)
    assert found["evaluated"] == pytest.approx(trained.val_accuracy)


def test_the_pages_assembled_model_keeps_the_export_contract(trained, fashion3):
    """What the studio preview and `play` run: the cached graph + head as one ONNX
    file, with the contract, label output and answers of an ONNX export."""
    import onnxruntime

    from pocketvision.exports.contract import artifact_input, contract
    from pocketvision.exports.onnx_format import composed_onnx
    from pocketvision.model.bundle import read_meta

    predictor = load_predictor(trained.bundle)
    model = composed_onnx(predictor)
    session = onnxruntime.InferenceSession(model, providers=["CPUExecutionProvider"])
    stored = json.loads(session.get_modelmeta().custom_metadata_map["pocketvision.contract"])
    assert stored.pop("novelty") == {"output": "novelty", "threshold": 0.5}
    assert stored == contract(load_bundle(trained.bundle), "onnx")
    assert read_meta(trained.bundle).labels == stored["labels"]
    for path in val_images(fashion3)[::5]:
        image = artifact_input(path, stored)
        probabilities, label, novelty = session.run(["probabilities", "label", "novelty"],
                                                    {"image": image})
        expected, expected_novelty = predictor.classify(load_array(path, predictor.preprocessing)[None])
        np.testing.assert_allclose(probabilities, expected, atol=1e-4)
        np.testing.assert_allclose(novelty, expected_novelty, atol=1e-4)
        assert label[0] == predictor.labels[int(expected.argmax())]


def test_a_bundle_is_recognized_by_its_tensors_not_its_header(trained, tmp_path):
    """Two bundles whose headers name the same weights hash but whose backbone
    tensors differ must not share a cached graph."""
    from pocketvision.model.bundle import BODY_PREFIX, read_meta, read_tensors, write_bundle

    meta = read_meta(trained.bundle)
    tensors = read_tensors(trained.bundle)
    name = next(k for k in tensors if k.startswith(BODY_PREFIX) and k.endswith("conv_head.weight"))
    tensors[name] = tensors[name] * 1.5
    changed = write_bundle(tmp_path / "changed.pvb", tensors, meta)
    original, altered = load_predictor(trained.bundle), load_predictor(changed)
    assert original.extractor.info.weights_hash == meta.backbone.weights_hash
    assert altered.extractor.info.weights_hash != meta.backbone.weights_hash
    image = np.random.default_rng(0).normal(size=(1, 3, 224, 224)).astype(np.float32)
    assert not np.allclose(original.features(image), altered.features(image))


def test_version():
    done = run_cli("--version")
    from pocketvision import __version__

    assert done.returncode == 0 and done.stdout.strip() == f"pocketvision {__version__}"
