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


def test_std_floor_keeps_near_constant_features_from_dominating():
    """A feature that barely varies in training must not get a giant weight: with
    std_floor its weight stays ordinary, without it the noise is magnified."""
    import numpy as np

    from pocketvision.head import fit_linear_head

    rng = np.random.default_rng(0)
    targets = np.repeat([0, 1], 40)
    features = rng.normal(1.0, 1.0, (80, 6))
    features[:, 0] += 2.0 * targets                    # the real signal
    features[:, 5] = 3.0 + rng.normal(0, 1e-4, 80)     # nearly constant, pure noise
    features[:, 5] += 2e-5 * targets                   # ... and a tiny chance correlation
    floored = fit_linear_head(features, targets, 2, std_floor=1.0).weight.detach().abs()
    unfloored = fit_linear_head(features, targets, 2, std_floor=0.0).weight.detach().abs()
    assert floored[:, 5].max() < 0.1 * floored[:, 0].max()
    assert unfloored[:, 5].max() > 10 * unfloored[:, 0].max()
