"""Train a classifier from a folder of images: the library's main job.

data folder -> split (no leaks) -> cached backbone features -> linear head
(-> optional fine-tuning) -> validation metrics -> bundle.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvision.backbones import create_backbone, get_spec
from pocketvision.bundle import check_bundle_target, save_bundle
from pocketvision.bundle_meta import BackboneInfo, BundleMeta, ImageRecord
from pocketvision.config import TrainConfig
from pocketvision.data.dataset import Split, label_indices, load_split
from pocketvision.features import (
    FeatureCache, FeatureStats, Item, classify_samples, extract_features,
)
from pocketvision.head import fit_linear_head
from pocketvision.metrics import summarize
from pocketvision.model import Classifier


@dataclass
class TrainResult:
    """What ``train`` did; ``to_json`` is the CLI's ``--json`` document."""

    bundle: Path
    classes: list[str]
    train_images: int
    val_images: int
    val_accuracy: float | None
    skipped: list[dict]
    seconds: float
    metrics: dict = field(default_factory=dict)
    features: FeatureStats = field(default_factory=FeatureStats)
    split: Split | None = field(default=None, repr=False)

    def to_json(self) -> dict:
        return {"bundle": str(self.bundle), "classes": self.classes,
                "train_images": self.train_images, "val_images": self.val_images,
                "val_accuracy": self.val_accuracy, "skipped": self.skipped,
                "seconds": round(self.seconds, 3),
                "features_computed": self.features.computed,
                "features_cached": self.features.cached}


def train(data: Path | str, out: Path | str, config: TrainConfig = TrainConfig(),
          cache_dir: Path | None = None) -> TrainResult:
    """Train on ``data`` (``<class>/`` folders, or ``train/`` + ``val/``) and write
    the bundle to ``out``. The previous file at ``out`` survives any failure."""
    started = time.perf_counter()
    check_bundle_target(Path(out))  # fail before the work, not after it
    split = load_split(Path(data), config.val_fraction, config.seed, cache_dir)
    preprocessing = get_spec(config.backbone).preprocessing.with_crop_fraction(config.crop_fraction)
    backbone = create_backbone(config.backbone, config.weights, preprocessing=preprocessing)
    stats = FeatureStats()
    cache = FeatureCache(backbone, cache_dir)
    labels = split.classes
    x_train, y_train = _training_features(backbone, split.train, labels, config, cache, stats)
    head = fit_linear_head(x_train, y_train, len(labels), config.weight_decay,
                           config.max_iterations, config.std_floor)
    model = Classifier(backbone, head)
    if config.fine_tune:
        from pocketvision.finetune import fine_tune

        fine_tune(model, split.train, labels, config)
    val_probabilities = classify_samples(model, split.val, cache.root, stats,
                                         "Features of validation images")
    metrics = summarize(label_indices(split.val, labels), val_probabilities, labels)
    path = save_bundle(Path(out), model, _describe(model, labels, split, config, metrics))
    return TrainResult(bundle=path, classes=labels, train_images=len(split.train),
                       val_images=len(split.val), val_accuracy=metrics["accuracy"],
                       skipped=split.skipped, seconds=time.perf_counter() - started,
                       metrics=metrics, features=stats, split=split)


def _training_features(backbone, samples, labels, config, cache, stats):
    """Features of every training image, plus ``config.augment`` views of each."""
    views = range(config.augment + 1)
    items = [Item(s.path, s.sha256, view) for view in views for s in samples]
    features = extract_features(backbone, items, cache, stats, "Features of training images")
    targets = np.tile(label_indices(samples, labels), len(views))
    return features, targets


def _describe(model: Classifier, labels: list[str], split: Split, config: TrainConfig,
              metrics: dict) -> BundleMeta:
    backbone = model.backbone
    return BundleMeta(
        labels=labels, preprocessing=backbone.preprocessing,
        backbone=BackboneInfo(backbone.spec.name, backbone.weights_hash(), backbone.spec.feature_dim),
        training=config.to_dict(),
        metrics={k: v for k, v in metrics.items() if k != "calibration_bins"},
        dataset={"manifest_sha256": split.manifest_hash(), "explicit_split": split.explicit,
                 "train_images": len(split.train), "val_images": len(split.val),
                 "skipped": len(split.skipped)},
        validation_images=_records(split.val),
        # so `evaluate` can warn when it is shown images the model learned from
        training_images_sha256=sorted({s.sha256 for s in split.train}),
        # so `export --quantize int8` calibrates on training images, not on the
        # validation images that then measure the int8 model
        training_images=_records(split.train),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))


def _records(samples) -> list[ImageRecord]:
    return [ImageRecord(str(s.path.resolve()), s.label, s.sha256) for s in samples]
