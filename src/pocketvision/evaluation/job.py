"""Evaluate a bundle on labelled images: metrics, and pictures if asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvision.data.dataset import Sample, label_indices, labelled_images, scan_files
from pocketvision.errors import PocketVisionError
from pocketvision.evaluation.metrics import auroc, summarize
from pocketvision.evaluation.report import write_report
from pocketvision.features.extraction import sample_features
from pocketvision.inference.predictor import Predictor, as_predictor
from pocketvision.model.novelty import rejected_share


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
    novelty: np.ndarray | None = None  # (N,) 0..1; None for bundles without unknown detection
    unknown: dict | None = None  # with --unknown DIR: how well unknown images are told apart

    @property
    def classes(self) -> list[str]:
        return self.metrics["classes"]

    def misclassified(self) -> list[tuple[Path, str, str, float]]:
        """(path, true label, predicted label, predicted probability), most confident first."""
        wrong = np.flatnonzero(self._predicted() != self.y_true)
        return self._answers(wrong[np.argsort(-self._confidence()[wrong])])

    def least_confident_correct(self, limit: int) -> list[tuple[Path, str, str, float]]:
        """The correct answers the model was least sure of, same tuple as misclassified()."""
        right = np.flatnonzero(self._predicted() == self.y_true)
        return self._answers(right[np.argsort(self._confidence()[right])][:limit])

    def _predicted(self) -> np.ndarray:
        return self.probabilities.argmax(axis=1)

    def _confidence(self) -> np.ndarray:
        return self.probabilities.max(axis=1)

    def _answers(self, indices) -> list[tuple[Path, str, str, float]]:
        predicted, confidence = self._predicted(), self._confidence()
        return [(self.paths[k], self.classes[self.y_true[k]], self.classes[predicted[k]],
                 float(confidence[k])) for k in indices]

    def images(self) -> list[dict]:
        """One entry per image: its file, true and predicted label, confidence, novelty."""
        predicted, confidence = self._predicted(), self._confidence()
        return [{"path": str(path), "label": self.classes[self.y_true[k]],
                 "predicted": self.classes[predicted[k]], "confidence": round(float(confidence[k]), 6),
                 "novelty": None if self.novelty is None else round(float(self.novelty[k]), 6)}
                for k, path in enumerate(self.paths)]

    def to_json(self) -> dict:
        keys = ("accuracy", "per_class", "confusion", "classes", "ece", "count")
        document = {k: self.metrics[k] for k in keys}
        document["skipped"] = self.skipped
        document["seen_in_training"] = self.seen_in_training
        if self.novelty is not None:  # known images the default threshold calls unknown
            document["novelty_rejected"] = rejected_share(self.novelty)
        if self.unknown is not None:
            document["unknown"] = self.unknown
        document["images"] = self.images()
        if self.report:
            document["report"] = {k: str(v) for k, v in self.report.items()}
        return document


def evaluate(bundle, data: Path | str, report_dir: Path | None = None,
             cache_dir: Path | None = None, unknown: Path | None = None) -> Evaluation:
    """Classify every image under ``data/<class>/`` and compare with the folder names.

    ``bundle``: a bundle file, a :class:`Predictor` or a loaded ``Bundle``. A folder
    with ``train/`` and ``val/`` is evaluated on ``val/``. ``unknown``: a folder of
    images of no known class, to measure how well the model tells them apart.
    """
    if report_dir is not None and Path(report_dir).exists() and not Path(report_dir).is_dir():
        raise PocketVisionError(f"--report {report_dir} is not a folder; pass a folder for the "
                                "pictures")  # before the work, not after it
    bundle = as_predictor(bundle, cache_dir)
    samples, skipped = labelled_images(Path(data), bundle.labels, cache_dir)
    evaluation = evaluate_samples(bundle, samples, cache_dir)
    evaluation.skipped = skipped
    trained_on = set(bundle.meta.training_images_sha256)
    evaluation.seen_in_training = sum(s.sha256 in trained_on for s in samples)
    if unknown is not None:
        evaluation.unknown = _unknown_report(bundle, Path(unknown), evaluation, cache_dir)
    if report_dir is not None:
        evaluation.report = write_report(evaluation, Path(report_dir))
    return evaluation


def evaluate_samples(bundle, samples: list[Sample], cache_dir: Path | None = None) -> Evaluation:
    """Evaluate on samples already scanned (e.g. the validation side of a split)."""
    bundle = as_predictor(bundle, cache_dir)
    features = sample_features(bundle.extractor, bundle.preprocessing, samples, cache_dir)
    probabilities, novelty = bundle.classify_features(features)
    y_true = label_indices(samples, bundle.labels)
    return Evaluation(metrics=summarize(y_true, probabilities, bundle.labels),
                      paths=[s.path for s in samples], y_true=y_true,
                      probabilities=probabilities, novelty=novelty)


def _unknown_report(bundle: Predictor, folder: Path, known: Evaluation,
                    cache_dir: Path | None) -> dict:
    """AUROC of novelty (unknown vs the known images evaluated), and how many
    unknown images the default threshold rejects."""

    if not folder.is_dir():
        raise PocketVisionError(f"--unknown {folder} is not a folder of images")
    if bundle.novelty is None:
        raise PocketVisionError("this bundle predates unknown detection; train it again to "
                                "measure --unknown")
    samples = scan_files(folder, cache_dir).samples
    if not samples:
        raise PocketVisionError(f"--unknown {folder} holds no readable images")
    features = sample_features(bundle.extractor, bundle.preprocessing, samples, cache_dir,
                               description="Features of unknown images")
    _, novelty = bundle.classify_features(features)
    return {"images": len(samples), "auroc": auroc(known.novelty, novelty),
            "rejected": rejected_share(novelty), "folder": str(folder)}
