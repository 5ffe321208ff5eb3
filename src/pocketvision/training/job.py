"""Train a classifier from a folder of images: the library's main job.

data folder -> split (no leaks) -> cached backbone features -> linear head
(-> optional fine-tuning) -> validation metrics -> bundle.

Without fine-tuning this runs no PyTorch once the backbone's graph is cached
(:mod:`pocketvision.features.graph`): features come from onnxruntime, the head
from NumPy, and the bundle is written with safetensors' NumPy API.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvision.backbones import get_spec
from pocketvision.config import TrainConfig
from pocketvision.data.dataset import Split, label_indices, load_split, single_burst_classes
from pocketvision.data.preprocessing import Preprocessing
from pocketvision.evaluation.metrics import summarize
from pocketvision.features.extraction import (
    FeatureCache,
    FeatureStats,
    Item,
    extract_features,
    sample_features,
)
from pocketvision.features.graph import FeatureExtractor, backbone_extractor, pretrained_extractor
from pocketvision.model.bundle import BODY_PREFIX, check_bundle_target, write_bundle
from pocketvision.model.bundle_meta import BackboneInfo, BundleMeta, ImageRecord
from pocketvision.model.head import LinearHead, fit_linear_head
from pocketvision.model.novelty import BANK_TENSOR, fit_novelty, out_of_fold, rejected_share


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
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"bundle": str(self.bundle), "classes": self.classes,
                "train_images": self.train_images, "val_images": self.val_images,
                "val_accuracy": self.val_accuracy, "skipped": self.skipped,
                "seconds": round(self.seconds, 3),
                "features_computed": self.features.computed,
                "features_cached": self.features.cached, "warnings": self.warnings}


def train(data: Path | str, out: Path | str, config: TrainConfig = TrainConfig(),
          cache_dir: Path | None = None, engine=None) -> TrainResult:
    """Train on ``data`` (``<class>/`` folders, or ``train/`` + ``val/``) and write
    the bundle to ``out``. The previous file at ``out`` survives any failure.
    ``engine``: where features the cache lacks are computed (None: here; a
    :class:`~pocketvision.inference.ray_engine.RayEngine`: on a Ray cluster)."""
    started = time.perf_counter()
    check_bundle_target(Path(out))  # fail before the work, not after it

    # the pictures, split by capture burst (a burst never lands on both sides)
    split = load_split(Path(data), config.val_fraction, config.seed, cache_dir)
    labels = split.classes

    # the frozen backbone, as its cached ONNX graph, and the training images' features
    preprocessing = get_spec(config.backbone).preprocessing.with_crop_fraction(config.crop_fraction)
    extractor = pretrained_extractor(config.backbone, config.weights, cache_dir)
    stats = FeatureStats()
    cache = FeatureCache(extractor, preprocessing, cache_dir)
    x_train, y_train = _training_features(extractor, preprocessing, split.train, labels,
                                          config, cache, stats, engine)

    # the head and unknown detection, fitted on those features (seconds, no torch)
    head = fit_linear_head(x_train, y_train, len(labels), config.weight_decay,
                           config.max_iterations, config.std_floor)
    novelty = _novelty(x_train, y_train, split, labels, config)
    if config.fine_tune:  # optional, slow: PyTorch trains the last blocks too
        extractor, head = _fine_tuned(extractor, head, preprocessing, split, labels, config,
                                      cache_dir)

    # validation: images of bursts the head never saw
    x_val = sample_features(extractor, preprocessing, split.val, cache_dir, stats,
                            "Features of validation images", engine)
    val_probabilities = head.probabilities(x_val)
    metrics = summarize(label_indices(split.val, labels), val_probabilities, labels)
    if novelty is not None and len(split.val):  # known images called unknown
        metrics["novelty_rejected"] = rejected_share(novelty.score(x_val, val_probabilities))

    # the bundle: one file, written atomically, describing itself
    tensors = {**{BODY_PREFIX + k: v for k, v in extractor.body_tensors().items()},
               **head.tensors()}
    meta = _describe(extractor, preprocessing, labels, split, config, metrics)
    if novelty is not None:  # fine-tuning changes the features: no bank for those
        tensors[BANK_TENSOR] = novelty.bank
        meta = meta.replace(novelty=novelty.to_meta())
    path = write_bundle(Path(out), tensors, meta)
    return TrainResult(bundle=path, classes=labels, train_images=len(split.train),
                       val_images=len(split.val), val_accuracy=metrics["accuracy"],
                       skipped=split.skipped, seconds=time.perf_counter() - started,
                       metrics=metrics, features=stats, split=split, warnings=_warnings(split))


def _warnings(split: Split) -> list[str]:
    """What the user should know about the split (the model is still written)."""
    return [f"class {name!r} is one capture burst: none of it could be kept for validation "
            "without leaking, so its accuracy is not measured; record a second burst "
            "(another Record press, ideally elsewhere) or add photos"
            for name in single_burst_classes(split)]


def _training_features(extractor, preprocessing, samples, labels, config, cache, stats, engine):
    """Features of every training image, plus ``config.augment`` views of each."""
    views = range(config.augment + 1)
    items = [Item(s.path, s.sha256, view) for view in views for s in samples]
    features = extract_features(extractor, preprocessing, items, cache, stats,
                                "Features of training images", engine)
    targets = np.tile(label_indices(samples, labels), len(views))
    return features, targets


def _novelty(x_train, y_train, split: Split, labels, config: TrainConfig):
    """The novelty model (None when fine-tuning), fitted on the out-of-fold
    judgement of every training image (view 0; augmented views belong with their image)."""
    if config.fine_tune:
        return None
    count = len(split.train)
    features, targets = x_train[:count], y_train[:count]

    def fit(x, y):
        return fit_linear_head(x, y, len(labels), config.weight_decay, config.max_iterations,
                               config.std_floor)

    held_out = out_of_fold(features, targets, [s.group or s.sha256 for s in split.train],
                           len(labels), fit)
    return fit_novelty(features, held_out)


def _fine_tuned(extractor: FeatureExtractor, head: LinearHead, preprocessing: Preprocessing,
                split: Split, labels: list[str], config: TrainConfig, cache_dir: Path | None):
    """Fine-tune in PyTorch (the one training path that needs it); return the
    extractor of the new backbone weights (a new graph) and the new head."""
    from pocketvision.backbones.network import create_backbone
    from pocketvision.model.classifier import Classifier
    from pocketvision.training.finetune import fine_tune

    backbone = create_backbone(config.backbone, pretrained=False, preprocessing=preprocessing)
    backbone.load_body(extractor.body_tensors())
    model = Classifier(backbone, head.to_torch())
    fine_tune(model, split.train, labels, config)
    return backbone_extractor(model.backbone, cache_dir), LinearHead.from_torch(model.head)


def _describe(extractor: FeatureExtractor, preprocessing: Preprocessing, labels: list[str],
              split: Split, config: TrainConfig, metrics: dict) -> BundleMeta:
    info = extractor.info
    return BundleMeta(
        labels=labels, preprocessing=preprocessing,
        backbone=BackboneInfo(info.name, info.weights_hash, info.feature_dim),
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
