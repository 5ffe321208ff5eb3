"""Unknown detection: how well each novelty score separates images of classes the
model never saw from validation images of its own classes.

    python benchmarks/bench_novelty.py

For each split: train on 3 known Fashion-MNIST classes (30 images each, offset 0),
then score 50 validation images per known class (offset 1000) and 30 images of each
of the 7 other classes (offset 2000). Reported per score: AUROC (unknown vs known)
and, at the threshold it picks on the training images alone (95 % accepted), the
share of known validation images accepted and of unknown images rejected.

"pocketvision" is what bundles use (novelty.py: neighbours + head, threshold from
out-of-fold scores); the others are the alternatives it was chosen against, each
thresholded on training images (leave-one-out where it matters).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import OUT  # noqa: E402
from fashion_mnist import CLASS_NAMES, write_few_shot  # noqa: E402

SPLITS = {"bag-coat-sandal": ["bag", "coat", "sandal"],
          "tshirt-trouser-sneaker": ["t-shirt", "trouser", "sneaker"],
          "pullover-dress-boot": ["pullover", "dress", "ankle-boot"]}


def features_of(folder: Path, classes: list[str], backbone: str = "efficientnet_lite0"):
    from pocketvision.backbones import get_spec
    from pocketvision.data.dataset import scan_folder
    from pocketvision.features.extraction import FeatureCache, Item, extract_features
    from pocketvision.features.graph import pretrained_extractor

    spec = get_spec(backbone).preprocessing.with_crop_fraction(1.0)
    extractor = pretrained_extractor(backbone)
    samples = scan_folder(folder).samples
    items = [Item(s.path, s.sha256) for s in samples]
    x = extract_features(extractor, spec, items, FeatureCache(extractor, spec))
    y = np.array([classes.index(s.label) if s.label in classes else -1 for s in samples])
    return x, y


def auroc(known: np.ndarray, unknown: np.ndarray) -> float:
    """P(score of an unknown > score of a known), ties counted half."""
    greater = (unknown[:, None] > known[None, :]).mean()
    ties = (unknown[:, None] == known[None, :]).mean()
    return float(greater + 0.5 * ties)


def _unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class MaxSoftmax:
    """1 - top probability (the issue's baseline); threshold on training images."""

    def __init__(self, x, y, head):
        self.head = head
        self.threshold = float(np.quantile(self(x), 0.95))

    def __call__(self, x):
        return 1.0 - self.head.probabilities(x).max(axis=1)


class Neighbours:
    """1 - mean cosine similarity to the k nearest training features (leave-one-out)."""

    def __init__(self, x, y, head, k=5, centred=False):
        self.k = k
        self.mean = x.mean(axis=0) if centred else np.zeros(x.shape[1], np.float32)
        self.bank = _unit(x - self.mean)
        similarity = self.bank @ self.bank.T
        np.fill_diagonal(similarity, -np.inf)
        self.threshold = float(np.quantile(self._distance(similarity), 0.95))

    def _distance(self, similarity):
        return 1.0 - (-np.sort(-similarity, axis=1)[:, : self.k]).mean(axis=1)

    def __call__(self, x):
        return self._distance(_unit(x - self.mean) @ self.bank.T)


class Mahalanobis:
    """Smallest Mahalanobis distance to a class mean; shared covariance shrunk
    halfway to a scaled identity (90 images, 1,280 features)."""

    def __init__(self, x, y, head, shrink=0.5):
        classes = np.unique(y)
        self.means = np.stack([x[y == c].mean(axis=0) for c in classes])
        centred = x - self.means[np.searchsorted(classes, y)]
        covariance = centred.T @ centred / len(x)
        target = np.trace(covariance) / len(covariance)
        covariance = (1 - shrink) * covariance + shrink * target * np.eye(len(covariance))
        self.precision = np.linalg.inv(covariance)
        self.threshold = float(np.quantile(self(x), 0.95))

    def __call__(self, x):
        d = x[:, None, :] - self.means[None]
        return np.sqrt(np.einsum("ncf,fg,ncg->nc", d, self.precision, d)).min(axis=1)


class Pocketvision:
    """What bundles use (novelty.py), thresholded at novelty 0.5."""

    def __init__(self, x, y, head):
        from pocketvision.model.head import fit_linear_head
        from pocketvision.model.novelty import fit_novelty, out_of_fold

        groups = [str(k) for k in range(len(y))]  # Fashion-MNIST images: no bursts
        held_out = out_of_fold(x, y, groups, int(y.max()) + 1,
                               lambda a, b: fit_linear_head(a, b, int(y.max()) + 1))
        self.model, self.head, self.threshold = fit_novelty(x, held_out), head, 0.5

    def __call__(self, x):
        return self.model.score(x, self.head.probabilities(x))


SCORES = {
    "pocketvision (5 neighbours + head)": Pocketvision,
    "max softmax": MaxSoftmax,
    "5 nearest neighbours (cosine)": Neighbours,
    "nearest neighbour (cosine)": lambda x, y, h: Neighbours(x, y, h, 1),
    "3 nearest, centred features": lambda x, y, h: Neighbours(x, y, h, 3, centred=True),
    "Mahalanobis (shrunk covariance)": Mahalanobis,
}


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", default="efficientnet_lite0")
    args = parser.parse_args()
    from pocketvision.model.head import fit_linear_head

    results = {}
    for name, known in SPLITS.items():
        root = OUT / "data" / f"novelty-{name}"
        unknown_classes = [c for c in CLASS_NAMES if c not in known]
        if not root.exists():
            write_few_shot(root / "train", known, 30)
            write_few_shot(root / "val", known, 50, offset=1000)
            write_few_shot(root / "unknown", unknown_classes, 30, offset=2000)
        x_train, y_train = features_of(root / "train", known, args.backbone)
        x_val, _ = features_of(root / "val", known, args.backbone)
        x_unknown, _ = features_of(root / "unknown", unknown_classes, args.backbone)
        head = fit_linear_head(x_train, y_train, len(known))
        rows = {}
        for score_name, make in SCORES.items():
            scorer = make(x_train, y_train, head)
            on_val, on_unknown = scorer(x_val), scorer(x_unknown)
            threshold = scorer.threshold
            rows[score_name] = {
                "auroc": auroc(on_val, on_unknown),
                "known_val_accepted": float((on_val <= threshold).mean()),
                "unknown_rejected": float((on_unknown > threshold).mean()),
            }
        results[name] = rows
        print(name, json.dumps({k: round(v["auroc"], 3) for k, v in rows.items()}))
    OUT.mkdir(exist_ok=True)
    (OUT / f"bench_novelty-{args.backbone}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
