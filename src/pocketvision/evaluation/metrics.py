"""Classification metrics from labels and probabilities (no model needed)."""

from __future__ import annotations

import numpy as np

CALIBRATION_BINS = 10


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """(C, C) counts: row = true class, column = predicted class."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def per_class_scores(confusion: np.ndarray, classes: list[str]) -> dict:
    """Precision, recall, F1 and support per class (0.0 where undefined)."""
    scores = {}
    for k, name in enumerate(classes):
        true_positive = float(confusion[k, k])
        predicted, support = confusion[:, k].sum(), confusion[k, :].sum()
        precision = true_positive / predicted if predicted else 0.0
        recall = true_positive / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[name] = {"precision": precision, "recall": recall, "f1": f1,
                        "support": int(support)}
    return scores


def calibration(y_true: np.ndarray, probabilities: np.ndarray, bins: int = CALIBRATION_BINS) -> dict:
    """Expected calibration error and the reliability curve, with equal-width bins
    over the top-class confidence."""
    confidence = probabilities.max(axis=1)
    correct = probabilities.argmax(axis=1) == y_true
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    curve, ece = [], 0.0
    for b in range(bins):
        members = which == b
        if not members.any():
            continue
        accuracy, mean_confidence = correct[members].mean(), confidence[members].mean()
        ece += members.mean() * abs(accuracy - mean_confidence)
        curve.append({"low": float(edges[b]), "high": float(edges[b + 1]),
                      "confidence": float(mean_confidence), "accuracy": float(accuracy),
                      "count": int(members.sum())})
    return {"ece": float(ece), "bins": curve}


def summarize(y_true: np.ndarray, probabilities: np.ndarray, classes: list[str]) -> dict:
    """The evaluation dictionary shared by ``train`` (val metrics) and ``evaluate``."""
    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = probabilities.argmax(axis=1) if len(y_true) else np.zeros(0, np.int64)
    confusion = confusion_matrix(y_true, y_pred, len(classes))
    accuracy = float((y_pred == y_true).mean()) if len(y_true) else None
    result = {"accuracy": accuracy, "per_class": per_class_scores(confusion, classes),
              "confusion": confusion.tolist(), "classes": list(classes), "count": int(len(y_true))}
    calibrated = calibration(y_true, probabilities) if len(y_true) else {"ece": None, "bins": []}
    result["ece"] = calibrated["ece"]
    result["calibration_bins"] = calibrated["bins"]
    return result


def auroc(negatives: np.ndarray, positives: np.ndarray) -> float | None:
    """Area under the ROC curve: the chance that a positive scores above a negative
    (ties count half; the Mann-Whitney U statistic); None when a side is empty."""
    if not len(negatives) or not len(positives):
        return None
    ordered = np.sort(np.asarray(negatives, np.float64))
    positives = np.asarray(positives, np.float64)
    below = np.searchsorted(ordered, positives, "left")  # negatives under each positive
    tied = np.searchsorted(ordered, positives, "right") - below
    return float((below + 0.5 * tied).sum() / (len(positives) * len(negatives)))
