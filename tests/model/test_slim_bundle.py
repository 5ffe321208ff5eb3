"""Both kinds of bundle, everywhere a bundle is read: the whole one ``train`` writes
(backbone tensors inside) and the slim one the phone studio writes (the head only;
the backbone named by its weights hash and taken from this machine's pretrained
weights). Every reader gives the same answers for both, and a slim bundle that
names other weights is refused in one line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import user_error
from PIL import Image

from pocketvision.evaluation import evaluate
from pocketvision.exports.job import export
from pocketvision.inference import load_predictor, predict, predict_to_file
from pocketvision.live.classify import load_frame_classifier
from pocketvision.model.bundle import (
    BODY_PREFIX,
    load_bundle,
    read_meta,
    read_tensors,
    write_bundle,
    write_slim_bundle,
)

KINDS = ("whole", "slim")


@pytest.fixture(scope="module")
def bundles(trained, tmp_path_factory) -> dict:
    slim = write_slim_bundle(trained.bundle, tmp_path_factory.mktemp("slim") / "slim.pvb")
    return {"whole": trained.bundle, "slim": slim}


@pytest.fixture(scope="module")
def val_images(fashion3) -> list:
    return sorted((fashion3 / "val").rglob("*.png"))[::3]


def test_a_slim_bundle_is_the_head_and_the_name_of_its_backbone(bundles):
    whole, slim = (read_tensors(bundles[k]) for k in KINDS)
    assert not any(name.startswith(BODY_PREFIX) for name in slim)
    assert set(slim) == {n for n in whole if not n.startswith(BODY_PREFIX)}
    assert bundles["slim"].stat().st_size < bundles["whole"].stat().st_size / 20
    assert read_meta(bundles["slim"]).backbone == read_meta(bundles["whole"]).backbone


@pytest.mark.parametrize("kind", KINDS)
def test_every_reader_gives_the_same_answers(kind, bundles, val_images, fashion3, tmp_path):
    path, reference = bundles[kind], predict(bundles["whole"], val_images)
    assert predict(path, val_images) == reference
    assert evaluate(path, fashion3 / "val").metrics["accuracy"] == \
        evaluate(bundles["whole"], fashion3 / "val").metrics["accuracy"]
    result = predict_to_file(path, [str(fashion3 / "val")], tmp_path / "labels.csv")
    assert result.written == 45 and result.errors == 0
    classify, labels = load_frame_classifier(path)
    frame = np.asarray(Image.open(val_images[0]).convert("RGB"))
    probabilities = classify(frame)
    assert max(probabilities, key=probabilities.get) == reference[0]["label"]
    assert load_predictor(path).extractor.info == load_predictor(bundles["whole"]).extractor.info


@pytest.mark.parametrize("kind", KINDS)
def test_both_kinds_export_and_pass_their_verification(kind, bundles, tmp_path):
    report = export(bundles[kind], tmp_path / "exports", ["onnx"])
    [entry] = report.exports
    assert entry.ran and entry.top1_agreement == 1.0 and entry.max_prob_diff < 1e-4
    whole = load_bundle(bundles["whole"]).model.state_dict()
    for name, tensor in load_bundle(bundles[kind]).model.state_dict().items():
        assert np.array_equal(tensor.numpy(), whole[name].numpy()), name


def test_a_slim_bundle_naming_other_weights_is_refused(bundles, val_images, tmp_path):
    meta, tensors = read_meta(bundles["slim"]), read_tensors(bundles["slim"])
    other = meta.replace(backbone=meta.backbone.__class__(meta.backbone.name, "0" * 64,
                                                          meta.backbone.feature_dim))
    forged = write_bundle(tmp_path / "other.pvb", tensors, other)
    line = user_error("predict", forged, val_images[0])
    assert "another version" in line and "train it again" in line
    header = json.loads(json.dumps(other.to_json()))
    header["backbone"]["weights_hash"] = None
    nameless = write_bundle(tmp_path / "nameless.pvb", tensors, other.__class__.from_json(
        header, "test"))
    assert "names no backbone weights" in user_error("predict", nameless, val_images[0])
