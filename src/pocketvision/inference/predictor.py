"""Run a bundle without PyTorch: its backbone as the cached ONNX graph, its head in NumPy.

What ``predict``, ``evaluate``, ``control`` and the studio use. The first time a
bundle's backbone weights are seen, the graph is built from the bundle's own
tensors (PyTorch, about a second) and cached; afterwards loading a bundle takes
milliseconds and the same runtime as its ONNX export runs every frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pocketvision.errors import BundleError
from pocketvision.features.graph import FeatureExtractor, backbone_extractor, bundle_extractor
from pocketvision.model.bundle import body_of, named_extractor, read_meta, read_tensors
from pocketvision.model.bundle_meta import BundleMeta, MetaView
from pocketvision.model.head import LinearHead
from pocketvision.model.novelty import NoveltyModel


@dataclass
class Predictor(MetaView):
    """A bundle ready to classify: extractor + head + what the bundle says."""

    extractor: FeatureExtractor
    head: LinearHead
    meta: BundleMeta
    path: Path | None = None
    novelty: NoveltyModel | None = None  # None for bundles made before unknown detection

    def features(self, images: np.ndarray) -> np.ndarray:
        """Backbone features (B, F) for a preprocessed batch (B, 3, H, W)."""
        return self.extractor(images)

    def probabilities(self, images: np.ndarray) -> np.ndarray:
        """Probabilities (B, classes) for a preprocessed batch (B, 3, H, W)."""
        return self.head.probabilities(self.extractor(images))

    def classify(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(probabilities (B, classes), novelty (B,) in 0..1 or None) for a batch."""
        return self.classify_features(self.extractor(images))

    def classify_features(self, features: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        probabilities = self.head.probabilities(features)
        if self.novelty is None:
            return probabilities, None
        return probabilities, self.novelty.score(features, probabilities)


def load_predictor(path: Path | str, cache_root: Path | None = None) -> Predictor:
    """Read a bundle file into a :class:`Predictor` (checks what it reads)."""
    path = Path(path)
    meta = read_meta(path)
    tensors = read_tensors(path)  # the file is read once
    body = body_of(tensors)
    weight, bias = tensors.get("head.weight"), tensors.get("head.bias")
    if weight is None or bias is None or weight.dtype != np.float32 or bias.dtype != np.float32 \
            or weight.shape != (len(meta.labels), meta.backbone.feature_dim or weight.shape[1]) \
            or bias.shape != (len(meta.labels),):
        raise BundleError(f"{path}: head tensors do not match {len(meta.labels)} labels; "
                          "train it again")
    if body:
        extractor = bundle_extractor(meta.backbone.name, body, cache_root)
    else:  # a bundle that names its pretrained backbone (from the phone studio)
        extractor = named_extractor(meta, path, cache_root)
    if extractor.info.feature_dim != weight.shape[1]:
        raise BundleError(f"{path}: head expects {weight.shape[1]} features, "
                          f"{meta.backbone.name} gives {extractor.info.feature_dim}")
    novelty = NoveltyModel.from_bundle(meta.novelty, tensors, weight.shape[1], path)
    return Predictor(extractor, LinearHead(weight, bias), meta, path, novelty)


def as_predictor(bundle, cache_root: Path | None = None) -> Predictor:
    """A :class:`Predictor` from a bundle file, or from an in-memory PyTorch
    ``Bundle`` (e.g. an ImageNet one, or one a caller loaded)."""
    if isinstance(bundle, Predictor):
        return bundle
    if isinstance(bundle, (str, Path)):
        return load_predictor(bundle, cache_root)

    return Predictor(backbone_extractor(bundle.model.backbone, cache_root),
                     LinearHead.from_torch(bundle.model.head), bundle.meta, bundle.path,
                     bundle.novelty)  # a loaded bundle keeps its unknown detection
