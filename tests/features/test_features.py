"""Feature extraction and its on-disk cache."""

from __future__ import annotations

import shutil
import sqlite3

import numpy as np
import pytest
import torch

from pocketvision.backbones import create_backbone, get_spec, list_backbones
from pocketvision.data.dataset import scan_folder
from pocketvision.data.preprocessing import load_tensor
from pocketvision.features.extraction import FeatureCache, FeatureStats, Item, extract_features
from pocketvision.features.graph import (
    EagerExtractor,
    OnnxExtractor,
    backbone_extractor,
    bundle_extractor,
    pretrained_extractor,
)

SPEC = get_spec("efficientnet_lite0").preprocessing


@pytest.fixture(scope="module")
def backbone():
    return create_backbone("efficientnet_lite0")


@pytest.fixture(scope="module")
def extractor(tmp_path_factory):
    return pretrained_extractor("efficientnet_lite0", None, tmp_path_factory.mktemp("graphs"))


@pytest.fixture()
def images(fashion3, tmp_path):
    folder = tmp_path / "images"
    shutil.copytree(fashion3 / "train" / "sneaker", folder / "sneaker")
    return folder


def items_of(folder):
    return [Item(s.path, s.sha256) for s in scan_folder(folder).samples]


def test_features_equal_a_direct_forward(backbone, extractor, images, tmp_path):
    assert isinstance(extractor, OnnxExtractor)
    items = items_of(images)[:3]
    features = extract_features(extractor, SPEC, items, FeatureCache(extractor, SPEC, tmp_path))
    batch = torch.stack([load_tensor(i.path, backbone.preprocessing) for i in items])
    with torch.inference_mode():
        expected = backbone(batch).numpy()
    # onnxruntime folds batch norm into convolutions: float rounding differs
    np.testing.assert_allclose(features, expected, atol=1e-4)


def test_cache_is_reused_and_only_new_images_are_computed(extractor, images, tmp_path):
    cache = FeatureCache(extractor, SPEC, tmp_path)
    first = FeatureStats()
    before = extract_features(extractor, SPEC, items_of(images), cache, first)
    assert (first.computed, first.cached) == (35, 0)
    (images / "sneaker" / "zz-new.png").write_bytes(_another_png())  # sorts last
    second = FeatureStats()
    after = extract_features(extractor, SPEC, items_of(images), cache, second)
    assert (second.computed, second.cached) == (1, 35)
    np.testing.assert_array_equal(after[:35], before)


def _another_png() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.eye(28, dtype=np.uint8) * 255).save(buffer, "PNG")
    return buffer.getvalue()


def test_changed_file_content_invalidates_its_entry(extractor, images, tmp_path):
    cache = FeatureCache(extractor, SPEC, tmp_path)
    extract_features(extractor, SPEC, items_of(images), cache)
    victim = sorted((images / "sneaker").iterdir())[5]
    victim.write_bytes(_another_png())
    stats = FeatureStats()
    extract_features(extractor, SPEC, items_of(images), cache, stats)
    assert (stats.computed, stats.cached) == (1, 34)


def test_new_weights_or_preprocessing_use_a_new_cache(extractor, tmp_path):
    other = create_backbone("efficientnet_lite0")
    same = backbone_extractor(other, tmp_path)
    assert FeatureCache(same, SPEC, tmp_path).key == FeatureCache(extractor, SPEC, tmp_path).key
    assert FeatureCache(same, SPEC.with_crop_fraction(1.0), tmp_path).key != \
        FeatureCache(same, SPEC, tmp_path).key
    with torch.no_grad():
        other.body.conv_head.weight.mul_(1.01)
    tuned = backbone_extractor(other, tmp_path)
    assert FeatureCache(tuned, SPEC, tmp_path).key != FeatureCache(extractor, SPEC, tmp_path).key


def test_a_corrupt_cache_entry_is_recomputed(extractor, images, tmp_path):
    cache = FeatureCache(extractor, SPEC, tmp_path)
    items = items_of(images)[:2]
    good = extract_features(extractor, SPEC, items, cache)
    with sqlite3.connect(cache.table.path) as db:
        assert db.execute("UPDATE entries SET value = ?", (b"half-written",)).rowcount == 2
    stats = FeatureStats()
    again = extract_features(extractor, SPEC, items, cache, stats)
    assert stats.computed == 2
    np.testing.assert_allclose(again, good, atol=1e-6)


def test_augmented_views_differ_but_are_reproducible(extractor, images, tmp_path):
    item = items_of(images)[0]
    views = [Item(item.path, item.sha256, view) for view in (0, 1, 2)]
    first = extract_features(extractor, SPEC, views)
    second = extract_features(extractor, SPEC, views)
    np.testing.assert_allclose(first, second, atol=1e-6)
    assert not np.allclose(first[0], first[1]) and not np.allclose(first[1], first[2])


@pytest.mark.parametrize("name", [spec.name for spec in list_backbones()])
def test_backbone_graph_matches_eager_and_is_reused(name, tmp_path):
    """Every registered backbone exports to a cached ONNX graph whose features
    equal eager PyTorch's, at a batch size the export never saw; a second lookup
    (as a bundle holding those tensors) loads it without building anything."""
    from pocketvision.backbones import weights_status

    torch.manual_seed(0)
    pretrained, _ = weights_status(get_spec(name))  # offline: only some have weights here
    backbone = create_backbone(name, pretrained=pretrained)
    size = backbone.preprocessing.crop
    if not pretrained:  # random init: give batch norm realistic statistics
        backbone.train()
        with torch.no_grad():
            backbone(torch.randn(8, 3, size, size))
        backbone.eval()
    images = torch.randn(3, 3, size, size)
    extractor = backbone_extractor(backbone, tmp_path)
    assert isinstance(extractor, OnnxExtractor), "the export fell back to eager"
    with torch.inference_mode():
        expected = backbone(images).numpy()
    features = extractor(images.numpy())
    np.testing.assert_allclose(features, expected, atol=1e-3 * float(np.abs(expected).max()))
    again = bundle_extractor(name, extractor.body_tensors(), tmp_path)
    assert again.folder == extractor.folder
    np.testing.assert_allclose(again(images.numpy()), features, atol=1e-6)


def test_a_network_no_exporter_takes_runs_eagerly(tmp_path, monkeypatch):
    import pocketvision.features.graph as graph

    backbone = create_backbone("efficientnet_lite0")
    with torch.no_grad():  # other weights than the graph pocketvision ships
        backbone.body.conv_head.weight.mul_(1.01)
    monkeypatch.setattr(graph, "_export_graph", lambda backbone: None)
    extractor = backbone_extractor(backbone, tmp_path)
    assert isinstance(extractor, EagerExtractor)
    images = np.random.default_rng(0).normal(size=(2, 3, 224, 224)).astype(np.float32)
    with torch.inference_mode():
        np.testing.assert_allclose(extractor(images), backbone(torch.from_numpy(images)).numpy())


def test_float16_backbone_tensors_build_their_graph_once(tmp_path, monkeypatch):
    """Hardening 3, item 20: a bundle whose backbone tensors are float16 rebuilt its
    graph with torch on every command (10-12 s each): the graph was cached under the
    float32 tensors' hash and looked up under the float16 ones'."""
    from pocketvision.features import graph

    torch.manual_seed(0)
    backbone = create_backbone("efficientnet_lite0", pretrained=False)
    half = {k: v.numpy().astype(np.float16) if v.is_floating_point() else v.numpy()
            for k, v in backbone.body.state_dict().items()}
    first = bundle_extractor("efficientnet_lite0", half, tmp_path)
    monkeypatch.setattr(graph, "_build", lambda *a: pytest.fail("built the graph a second time"))
    again = bundle_extractor("efficientnet_lite0", half, tmp_path)
    assert again.folder == first.folder
