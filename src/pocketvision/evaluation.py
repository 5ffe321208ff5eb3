"""Evaluate a bundle on labelled images: metrics, and pictures if asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from pocketvision.bundle import Bundle, load_bundle
from pocketvision.data.dataset import Sample, class_folders, scan_folder
from pocketvision.errors import DatasetError
from pocketvision.features import FeatureCache, Item, extract_features
from pocketvision.metrics import summarize
from pocketvision.model import softmax


@dataclass
class Evaluation:
    """Metrics plus what is needed to draw them (paths, truths, probabilities)."""

    metrics: dict
    paths: list[Path]
    y_true: np.ndarray
    probabilities: np.ndarray  # (N, classes)
    skipped: list[dict] = field(default_factory=list)
    report: dict = field(default_factory=dict)  # picture name -> path, when written
    seen_in_training: int = 0  # images the model was trained on: they flatter accuracy

    @property
    def classes(self) -> list[str]:
        return self.metrics["classes"]

    def misclassified(self) -> list[tuple[Path, str, str, float]]:
        """(path, true label, predicted label, predicted probability), most confident first."""
        predicted = self.probabilities.argmax(axis=1)
        wrong = np.flatnonzero(predicted != self.y_true)
        wrong = wrong[np.argsort(-self.probabilities[wrong, predicted[wrong]])]
        return [(self.paths[k], self.classes[self.y_true[k]], self.classes[predicted[k]],
                 float(self.probabilities[k, predicted[k]])) for k in wrong]

    def least_confident_correct(self, limit: int) -> list[tuple[Path, str, str, float]]:
        """The correct answers the model was least sure of, same tuple as misclassified()."""
        predicted = self.probabilities.argmax(axis=1)
        right = np.flatnonzero(predicted == self.y_true)
        right = right[np.argsort(self.probabilities[right, predicted[right]])][:limit]
        return [(self.paths[k], self.classes[self.y_true[k]], self.classes[predicted[k]],
                 float(self.probabilities[k, predicted[k]])) for k in right]

    def to_json(self) -> dict:
        keys = ("accuracy", "per_class", "confusion", "classes", "ece", "count")
        document = {k: self.metrics[k] for k in keys}
        document["skipped"] = self.skipped
        document["seen_in_training"] = self.seen_in_training
        if self.report:
            document["report"] = {k: str(v) for k, v in self.report.items()}
        return document


def evaluate(bundle: Bundle | Path | str, data: Path | str, report_dir: Path | None = None,
             cache_dir: Path | None = None) -> Evaluation:
    """Classify every image under ``data/<class>/`` and compare with the folder names.

    A folder with ``train/`` and ``val/`` is evaluated on ``val/``.
    """
    if not isinstance(bundle, Bundle):
        bundle = load_bundle(bundle)
    samples, skipped = _labelled_images(Path(data), bundle.labels, cache_dir)
    evaluation = evaluate_samples(bundle, samples, cache_dir)
    evaluation.skipped = skipped
    trained_on = set(bundle.meta.get("training_images_sha256", []))
    evaluation.seen_in_training = sum(s.sha256 in trained_on for s in samples)
    if report_dir is not None:
        from pocketvision.report import write_report

        evaluation.report = write_report(evaluation, Path(report_dir))
    return evaluation


def evaluate_samples(bundle: Bundle, samples: list[Sample], cache_dir: Path | None = None) -> Evaluation:
    """Evaluate on samples already scanned (e.g. the validation side of a split)."""
    backbone = bundle.model.backbone
    items = [Item(s.path, s.sha256) for s in samples]
    features = extract_features(backbone, items, FeatureCache(backbone, cache_dir))  # (N, F)
    with torch.inference_mode():
        probabilities = softmax(bundle.model.head(torch.from_numpy(features))).numpy()
    index = {name: k for k, name in enumerate(bundle.labels)}
    y_true = np.array([index[s.label] for s in samples], dtype=np.int64)
    return Evaluation(metrics=summarize(y_true, probabilities, bundle.labels),
                      paths=[s.path for s in samples], y_true=y_true,
                      probabilities=probabilities)


def _labelled_images(root: Path, labels: list[str], cache_dir: Path | None) -> tuple[list[Sample], list[dict]]:
    if {"train", "val"} <= {f.name for f in class_folders(root)}:
        root = root / "val"
    scan = scan_folder(root, cache_dir)
    unknown = sorted(set(scan.classes) - set(labels))
    if unknown:
        raise DatasetError(
            f"{root} has class folder(s) the model does not know: {', '.join(unknown)}; "
            f"the model's classes are: {', '.join(labels)}"
        )
    if not scan.samples:
        raise DatasetError(f"no usable images under {root}/<class>/; nothing to evaluate")
    return scan.samples, scan.skipped
