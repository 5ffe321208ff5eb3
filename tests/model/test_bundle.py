"""The bundle: self-describing, round-trips exactly, written atomically."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest
import safetensors.torch
from safetensors import safe_open

from pocketvision.errors import BundleError
from pocketvision.model.bundle import load_bundle, read_meta, save_bundle
from pocketvision.model.bundle_meta import FORMAT_VERSION


def test_bundle_describes_itself(trained):
    meta = read_meta(trained.bundle)
    assert meta.labels == ["sneaker", "t-shirt", "trouser"]
    assert meta.backbone.name == "efficientnet_lite0"
    assert len(meta.backbone.weights_hash) == 64
    assert meta.preprocessing.crop == 224 and len(meta.preprocessing.mean) == 3
    assert meta.training["seed"] == 0
    assert meta.metrics["accuracy"] == trained.val_accuracy
    assert len(meta.dataset["manifest_sha256"]) == 64
    assert {"torch", "timm", "pocketvision"} <= set(meta.versions)
    assert len(meta.validation_images) == 45
    with safe_open(str(trained.bundle), framework="pt") as f:  # any safetensors reader
        assert "head.weight" in f.keys()
        header = json.loads(f.metadata()["pocketvision"])  # plain JSON for any reader
    assert header["labels"] == meta.labels and header["format"] == "pocketvision-bundle"
    assert header["preprocessing"]["crop"] == 224


def test_reloaded_bundle_predicts_identically(trained, fashion3):
    paths = sorted((fashion3 / "val" / "sneaker").iterdir())[:6]
    first = load_bundle(trained.bundle).predict_images(paths)
    second = load_bundle(trained.bundle).predict_images(paths)
    np.testing.assert_array_equal(first, second)
    assert np.allclose(first.sum(axis=1), 1.0, atol=1e-5)


def test_resaved_bundle_gives_the_same_answers(trained, fashion3, tmp_path):
    original = load_bundle(trained.bundle)
    copy = save_bundle(tmp_path / "copy.pvb", original.model, original.meta)
    paths = sorted((fashion3 / "val" / "t-shirt").iterdir())[:4]
    np.testing.assert_array_equal(original.predict_images(paths),
                                  load_bundle(copy).predict_images(paths))


def test_a_resaved_bundle_keeps_its_unknown_detection_or_says_it_has_none(trained, fashion3,
                                                                          tmp_path):
    from pocketvision.inference.prediction import predict

    original = load_bundle(trained.bundle)
    assert original.novelty is not None
    paths = sorted((fashion3 / "val" / "t-shirt").iterdir())[:4]
    kept = save_bundle(tmp_path / "kept.pvb", original.model, original.meta, original.novelty)
    dropped = save_bundle(tmp_path / "dropped.pvb", original.model, original.meta)
    expected = predict(trained.bundle, paths)
    assert [e["novelty"] for e in predict(kept, paths)] == [e["novelty"] for e in expected]
    assert read_meta(dropped).novelty is None and load_bundle(dropped).novelty is None
    assert [e["probabilities"] for e in predict(dropped, paths)] == \
        [e["probabilities"] for e in expected]


def test_a_failed_write_keeps_the_previous_bundle(trained, tmp_path, monkeypatch):
    target = tmp_path / "model.pvb"
    shutil.copy(trained.bundle, target)
    before = target.read_bytes()
    loaded = load_bundle(target)

    def crash_before_the_swap(source, destination):  # the temporary is fully written
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash_before_the_swap)
    with pytest.raises(OSError, match="disk full"):
        save_bundle(target, loaded.model, loaded.meta)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.pvb"]  # no temporary left


@pytest.mark.parametrize("content, message", [
    (b"", "not a pocketvision bundle"),
    (b"PK\x03\x04 a zip file", "not a pocketvision bundle"),
])
def test_non_bundles_are_refused(tmp_path, content, message):
    path = tmp_path / "model.pvb"
    path.write_bytes(content)
    with pytest.raises(BundleError, match=message):
        load_bundle(path)


def test_a_plain_safetensors_file_is_refused(tmp_path):
    import torch

    path = tmp_path / "weights.safetensors"
    safetensors.torch.save_file({"x": torch.zeros(2)}, str(path))
    with pytest.raises(BundleError, match="safetensors file but not a pocketvision bundle"):
        load_bundle(path)


def test_a_newer_format_version_says_upgrade(trained, tmp_path):
    bundle = load_bundle(trained.bundle)
    path = save_bundle(tmp_path / "future.pvb", bundle.model, bundle.meta)
    tensors = safetensors.torch.load_file(str(path))
    meta = read_meta(path).to_json()
    meta["format_version"] = FORMAT_VERSION + 1
    safetensors.torch.save_file(tensors, str(path), metadata={"pocketvision": json.dumps(meta)})
    with pytest.raises(BundleError, match="newer than this pocketvision reads.*pip install -U"):
        load_bundle(path)
