"""How unlike the training images a new image is: the novelty score, 0..1.

Two signals, measured against five alternatives on three splits
(benchmarks/bench_novelty.py, RESULTS.md section 9):

* neighbours: 1 - the mean cosine similarity of the image's features to its 5
  nearest training images' features (the training features travel in the
  bundle as ``novelty.bank``), divided by its own 95th percentile on known images;
* the head: 1 - its top probability.

``raw = neighbours + (1 - top probability)`` and ``novelty = 1 - 2 ** (-raw / t)``:
0 for a copy of a training image, 0.5 at the threshold ``t``, towards 1 beyond.
``t`` is chosen so that 95 % of known images score below it, on training images
scored *out of fold* (5 folds by capture burst: each image judged by a head and
neighbours that never saw its burst), since a training image is its own nearest
neighbour and its head is sure of it. The out-of-fold probabilities are kept: they
are how the data doctor finds probably mislabeled images.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from pocketvision.config import NOVELTY_THRESHOLD
from pocketvision.errors import BundleError

ACCEPTED = 0.95  # share of known images the default threshold accepts
UNKNOWN = "unknown"  # the label of an image like nothing the model was trained on
NEIGHBOURS = 5
FOLDS = 5
MAX_BANK = 4000  # training features kept in a bundle (20 MB at 1,280 floats)
BANK_TENSOR = "novelty.bank"


@dataclass(frozen=True)
class NoveltyModel:
    """bank (M, F): unit-length training features; scale and threshold: see above."""

    bank: np.ndarray
    scale: float
    threshold: float

    def neighbours(self, features: np.ndarray) -> np.ndarray:
        similarity = unit(features) @ self.bank.T  # (N, M)
        k = min(NEIGHBOURS, self.bank.shape[0])
        nearest = -np.partition(-similarity, k - 1, axis=1)[:, :k]
        return 1.0 - nearest.mean(axis=1)

    def raw(self, features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        return self.neighbours(features) / self.scale + (1.0 - probabilities.max(axis=1))

    def score(self, features: np.ndarray, probabilities: np.ndarray) -> np.ndarray:
        """Novelty (N,) in 0..1; NOVELTY_THRESHOLD (0.5) is the fitted threshold."""
        return 1.0 - np.exp2(-self.raw(features, probabilities) / self.threshold)

    def to_meta(self) -> dict:
        return {"method": f"knn{NEIGHBOURS}+softmax", "scale": self.scale,
                "threshold": self.threshold, "accepted": ACCEPTED, "bank": self.bank.shape[0]}

    @classmethod
    def from_bundle(cls, meta: dict | None, tensors: dict, feature_dim: int,
                    path) -> "NoveltyModel | None":
        """The model a bundle file holds (``meta``: its header's ``novelty``;
        ``tensors``: its NumPy or PyTorch tensors); None for a bundle made without."""
        if meta is None:
            return None
        bank = tensors.get(BANK_TENSOR)
        if bank is None or bank.ndim != 2 or bank.shape[1] != feature_dim \
                or not 1 <= bank.shape[0] <= MAX_BANK:
            raise BundleError(f"{path}: novelty data damaged; train it again")
        bank = np.asarray(bank, np.float32)
        norms = np.linalg.norm(bank, axis=1)
        if not np.isfinite(bank).all() or np.abs(norms - 1.0).max() > 1e-3:  # unit rows, as fitted
            raise BundleError(f"{path}: novelty data damaged (its training features are not "
                              "unit vectors); train it again")
        return cls(bank, float(meta["scale"]), float(meta["threshold"]))


def rejected_share(novelty: np.ndarray) -> float | None:
    """The share of images the default threshold calls unknown (None for none)."""
    return float((np.asarray(novelty) > NOVELTY_THRESHOLD).mean()) if len(novelty) else None


def unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


@dataclass
class OutOfFold:
    """Each training image judged by a head and neighbours that never saw its burst."""

    probabilities: np.ndarray  # (N, C)
    neighbours: np.ndarray  # (N,)
    judged: np.ndarray | None = None  # (N,) bool: the fold's models had seen the image's class


def out_of_fold(features: np.ndarray, targets: np.ndarray, groups: list[str],
                num_classes: int, fit_head: Callable, also: np.ndarray | None = None
                ) -> OutOfFold | tuple[OutOfFold, OutOfFold]:
    """Cross-validated predictions on the training features (folds by group).

    ``also``: features of the same images computed another way (at a web page's
    input size), judged by the same fold models; then both judgements are returned."""
    fold_of_group = {g: k % FOLDS for k, g in enumerate(sorted(set(groups)))}
    folds = np.array([fold_of_group[g] for g in groups])
    sets = [features] if also is None else [features, also]
    judged = [OutOfFold(np.zeros((len(targets), num_classes), np.float32),
                        np.zeros(len(targets), np.float32), np.zeros(len(targets), bool))
              for _ in sets]
    for fold in range(min(FOLDS, len(fold_of_group))):
        held, kept = folds == fold, folds != fold
        learnable = held.any() and len(np.unique(targets[kept])) >= 2
        head = fit_head(features[kept], targets[kept]) if learnable else None
        bank = NoveltyModel(unit(features[kept]), 1.0, 1.0)
        for judgement, source in zip(judged, sets):
            judgement.judged[held] = np.isin(targets[held], targets[kept]) & (head is not None)
            if head is None:  # nothing to learn from: undecided
                judgement.probabilities[held] = 1.0 / num_classes
                judgement.neighbours[held] = 1.0
            else:
                judgement.probabilities[held] = head.probabilities(source[held])
                judgement.neighbours[held] = bank.neighbours(source[held])
    return judged[0] if also is None else (judged[0], judged[1])


def calibrate(held_out: OutOfFold) -> tuple[float, float]:
    """(scale, threshold) that accept ACCEPTED of the images judged out of fold."""
    scale = max(float(np.quantile(held_out.neighbours, ACCEPTED)), 1e-6)
    raw = held_out.neighbours / scale + (1.0 - held_out.probabilities.max(axis=1))
    return scale, max(float(np.quantile(raw, ACCEPTED)), 1e-6)


def fit_novelty(features: np.ndarray, held_out: OutOfFold) -> NoveltyModel:
    """The bundle's novelty model from all training features and their out-of-fold scores."""
    scale, threshold = calibrate(held_out)
    keep = np.linspace(0, len(features) - 1, min(len(features), MAX_BANK)).round().astype(int)
    return NoveltyModel(unit(features[keep]).astype(np.float32), scale, threshold)
