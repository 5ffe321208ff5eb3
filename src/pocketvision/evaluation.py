"""Evaluate a bundle on labelled images: metrics, and pictures if asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvision.data.dataset import Sample, label_indices, labelled_images
from pocketvision.errors import PocketVisionError
from pocketvision.features import classify_samples
from pocketvision.inference import Predictor, as_predictor
from pocketvision.metrics import summarize


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

    def to_json(self) -> dict:
        keys = ("accuracy", "per_class", "confusion", "classes", "ece", "count")
        document = {k: self.metrics[k] for k in keys}
        document["skipped"] = self.skipped
        document["seen_in_training"] = self.seen_in_training
        if self.report:
            document["report"] = {k: str(v) for k, v in self.report.items()}
        return document


def evaluate(bundle, data: Path | str, report_dir: Path | None = None,
             cache_dir: Path | None = None) -> Evaluation:
    """Classify every image under ``data/<class>/`` and compare with the folder names.

    ``bundle``: a bundle file, a :class:`Predictor` or a loaded ``Bundle``. A folder
    with ``train/`` and ``val/`` is evaluated on ``val/``.
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
    if report_dir is not None:
        from pocketvision.report import write_report

        evaluation.report = write_report(evaluation, Path(report_dir))
    return evaluation


def evaluate_samples(bundle, samples: list[Sample], cache_dir: Path | None = None) -> Evaluation:
    """Evaluate on samples already scanned (e.g. the validation side of a split)."""
    bundle = as_predictor(bundle, cache_dir)
    probabilities = classify_samples(bundle.extractor, bundle.head, bundle.preprocessing,
                                     samples, cache_dir)
    y_true = label_indices(samples, bundle.labels)
    return Evaluation(metrics=summarize(y_true, probabilities, bundle.labels),
                      paths=[s.path for s in samples], y_true=y_true,
                      probabilities=probabilities)
