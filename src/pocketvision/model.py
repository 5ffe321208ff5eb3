"""The trained classifier: a frozen backbone and a linear head, as one module."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn

from pocketvision.backbones import Backbone
from pocketvision.features import FeatureCache, FeatureStats, Item, extract_features


class Classifier(nn.Module):
    """images (B, 3, H, W), normalized -> logits (B, classes)."""

    def __init__(self, backbone: Backbone, head: nn.Linear):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images))


def classify_samples(model: Classifier, samples: list, cache_root: Path | None = None,
                     stats: FeatureStats | None = None,
                     description: str = "Computing features") -> np.ndarray:
    """Probabilities (N, classes) for scanned samples: cached backbone features,
    then the head. The cache is keyed by the backbone's current weights, so a
    fine-tuned backbone gets fresh features without asking."""
    items = [Item(s.path, s.sha256) for s in samples]
    cache = FeatureCache(model.backbone, cache_root)
    features = extract_features(model.backbone, items, cache, stats, description)  # (N, F)
    with torch.inference_mode():
        return model.head(torch.from_numpy(features)).softmax(dim=-1).numpy()
