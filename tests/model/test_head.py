"""The linear head: deterministic, and the folded layer equals the fitted model."""

from __future__ import annotations

import numpy as np
import torch

from pocketvision.model.head import fit_linear_head, softmax


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
    np.testing.assert_array_equal(first.weight, second.weight)
    np.testing.assert_array_equal(first.bias, second.bias)
    assert (first.logits(x).argmax(axis=1) == y).mean() > 0.95


def test_head_matches_the_torch_lbfgs_optimum_and_its_torch_layer():
    """Our L-BFGS reaches the optimum PyTorch's L-BFGS reached (the loss is
    strictly convex: one minimum), and to_torch() is the same layer."""
    x, y = blobs(2)
    head = fit_linear_head(x, y, 3)
    mean, std = x.astype(np.float64).mean(0), x.astype(np.float64).std(0)
    std = np.maximum(std, np.median(std))
    z = torch.from_numpy((x - mean) / std)
    weight = torch.zeros(3, z.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=200, line_search_fn="strong_wolfe",
                                  tolerance_grad=1e-9)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(z @ weight.T + bias, torch.from_numpy(y))
        loss = loss + 0.025 * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(closure)
    expected = softmax((z @ weight.T + bias).detach().numpy())
    np.testing.assert_allclose(head.probabilities(x), expected, atol=1e-4)
    with torch.no_grad():
        layer = head.to_torch()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(layer, head.logits(x), rtol=1e-5, atol=1e-4)


def test_stronger_weight_decay_gives_softer_probabilities():
    x, y = blobs(1)
    sharp = fit_linear_head(x, y, 3, weight_decay=1e-4).probabilities(x).max(1).mean()
    soft = fit_linear_head(x, y, 3, weight_decay=1.0).probabilities(x).max(1).mean()
    assert soft < sharp


def test_std_floor_keeps_near_constant_features_from_dominating():
    """A feature that barely varies in training must not get a giant weight: with
    std_floor its weight stays ordinary, without it the noise is magnified."""
    import numpy as np

    from pocketvision.model.head import fit_linear_head

    rng = np.random.default_rng(0)
    targets = np.repeat([0, 1], 40)
    features = rng.normal(1.0, 1.0, (80, 6))
    features[:, 0] += 2.0 * targets                    # the real signal
    features[:, 5] = 3.0 + rng.normal(0, 1e-4, 80)     # nearly constant, pure noise
    features[:, 5] += 2e-5 * targets                   # ... and a tiny chance correlation
    floored = np.abs(fit_linear_head(features, targets, 2, std_floor=1.0).weight)
    unfloored = np.abs(fit_linear_head(features, targets, 2, std_floor=0.0).weight)
    assert floored[:, 5].max() < 0.1 * floored[:, 0].max()
    assert unfloored[:, 5].max() > 10 * unfloored[:, 0].max()
