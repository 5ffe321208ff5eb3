"""The linear head: deterministic, and the folded layer equals the fitted model."""

from __future__ import annotations

import numpy as np
import torch

from pocketvision.head import fit_linear_head


def blobs(seed=0, n=40, dim=16, classes=3):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (classes, dim))
    y = np.repeat(np.arange(classes), n)
    x = (centres[y] + rng.normal(0, 1, (len(y), dim))) * rng.uniform(0.1, 50, dim)  # mixed scales
    return (x + 100).astype(np.float32), y


def test_head_separates_separable_data_and_is_deterministic():
    x, y = blobs()
    first = fit_linear_head(x, y, 3)
    second = fit_linear_head(x, y, 3)
    assert torch.equal(first.weight, second.weight) and torch.equal(first.bias, second.bias)
    with torch.no_grad():
        predicted = first(torch.from_numpy(x)).argmax(dim=1).numpy()
    assert (predicted == y).mean() > 0.95


def test_stronger_weight_decay_gives_softer_probabilities():
    x, y = blobs(1)
    with torch.no_grad():
        sharp = fit_linear_head(x, y, 3, weight_decay=1e-4)(torch.from_numpy(x)).softmax(1).max(1).values.mean()
        soft = fit_linear_head(x, y, 3, weight_decay=1.0)(torch.from_numpy(x)).softmax(1).max(1).values.mean()
    assert soft < sharp
