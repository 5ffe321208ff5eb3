"""Fit the linear head on cached features: multinomial logistic regression.

Full-batch L-BFGS on standardized features with an L2 penalty; the
standardization is then folded into the layer, so the exported model is a plain
``nn.Linear`` on raw backbone features. Starting from zero weights, the result
depends only on the data (deterministic).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


def fit_linear_head(
    features: np.ndarray, targets: np.ndarray, num_classes: int,
    weight_decay: float = 0.05, max_iterations: int = 200, std_floor: float = 1.0,
) -> nn.Linear:
    """Return a Linear(F, num_classes) fitted to ``features`` (N, F), ``targets`` (N,).

    ``std_floor`` (times the median feature std) bounds how much standardization may
    magnify a feature that barely varies in the training images: without it such
    features get weights hundreds of times the typical one, which amplifies noise
    (and int8 rounding in exports) on exactly the features that carry no signal.
    """
    x = torch.from_numpy(np.asarray(features, np.float64))
    y = torch.from_numpy(np.asarray(targets, np.int64))
    mean = x.mean(dim=0)
    std = x.std(dim=0, unbiased=False)
    std = std.clamp_min(max(1e-6, std_floor * float(std.median())))
    x = (x - mean) / std  # (N, F), standardized so one penalty suits every backbone
    weight = torch.zeros(num_classes, x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=max_iterations,
                                  line_search_fn="strong_wolfe", tolerance_grad=1e-9)

    def loss_and_gradient() -> torch.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(x @ weight.T + bias, y)
        loss = loss + 0.5 * weight_decay * weight.pow(2).sum()
        loss.backward()
        return loss

    optimizer.step(loss_and_gradient)
    return _fold_standardization(weight.detach(), bias.detach(), mean, std)


def _fold_standardization(weight, bias, mean, std) -> nn.Linear:
    """W((x - m) / s) + b  ==  (W / s) x + (b - (W / s) m)."""
    folded = weight / std  # (C, F)
    layer = nn.Linear(weight.shape[1], weight.shape[0])
    with torch.no_grad():
        layer.weight.copy_(folded.float())
        layer.bias.copy_((bias - folded @ mean).float())
    return layer
