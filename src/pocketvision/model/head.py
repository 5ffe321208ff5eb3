"""Fit the linear head on cached features: multinomial logistic regression.

Full-batch L-BFGS (SciPy's) on standardized features with an L2 penalty; the
standardization is then folded into the layer, so the exported model is a plain
linear layer on raw backbone features. Starting from zero weights, the result
depends only on the data (deterministic). NumPy and SciPy only: fitting a head
needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LinearHead:
    """logits = features @ weight.T + bias; weight (C, F), bias (C,), float32."""

    weight: np.ndarray
    bias: np.ndarray

    def logits(self, features: np.ndarray) -> np.ndarray:
        return np.asarray(features, np.float32) @ self.weight.T + self.bias  # (N, C)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        return softmax(self.logits(features))

    def tensors(self) -> dict[str, np.ndarray]:
        """The bundle's ``head.*`` tensors."""
        return {"head.weight": self.weight, "head.bias": self.bias}

    @classmethod
    def from_torch(cls, layer) -> "LinearHead":
        """The head of a ``torch.nn.Linear`` (a fine-tuned or an ImageNet one)."""
        return cls(layer.weight.detach().cpu().numpy().astype(np.float32),
                   layer.bias.detach().cpu().numpy().astype(np.float32))

    def to_torch(self):
        """The same layer as a ``torch.nn.Linear`` (for PyTorch models: exports, fine-tuning)."""
        import torch
        from torch import nn

        layer = nn.Linear(self.weight.shape[1], self.weight.shape[0])
        with torch.no_grad():
            layer.weight.copy_(torch.from_numpy(self.weight))
            layer.bias.copy_(torch.from_numpy(self.bias))
        return layer


def softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def fit_linear_head(
    features: np.ndarray, targets: np.ndarray, num_classes: int,
    weight_decay: float = 0.05, max_iterations: int = 200, std_floor: float = 1.0,
) -> LinearHead:
    """Return the head (C = ``num_classes``) fitted to ``features`` (N, F), ``targets`` (N,).

    ``std_floor`` (times the median feature std) bounds how much standardization may
    magnify a feature that barely varies in the training images: without it such
    features get weights hundreds of times the typical one, which amplifies noise
    (and int8 rounding in exports) on exactly the features that carry no signal.
    """
    from scipy.optimize import minimize

    x = np.asarray(features, np.float64)
    y = np.asarray(targets, np.int64)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.maximum(std, max(1e-6, std_floor * float(np.median(std))))
    x = (x - mean) / std  # (N, F), standardized so one penalty suits every backbone
    n, f = x.shape
    one_hot = np.eye(num_classes)[y]  # (N, C)

    def loss_and_gradient(theta: np.ndarray) -> tuple[float, np.ndarray]:
        weight, bias = theta[: num_classes * f].reshape(num_classes, f), theta[num_classes * f:]
        logits = x @ weight.T + bias
        logits -= logits.max(axis=1, keepdims=True)
        log_p = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
        loss = -(one_hot * log_p).sum() / n + 0.5 * weight_decay * (weight ** 2).sum()
        error = (np.exp(log_p) - one_hot) / n  # d loss / d logits, (N, C)
        grad_w = error.T @ x + weight_decay * weight
        return loss, np.concatenate([grad_w.ravel(), error.sum(axis=0)])

    solution = minimize(loss_and_gradient, np.zeros(num_classes * (f + 1)), jac=True,
                        method="L-BFGS-B",
                        options={"maxiter": max_iterations, "maxcor": 30, "gtol": 1e-9,
                                 "ftol": 1e-12})
    weight = solution.x[: num_classes * f].reshape(num_classes, f)
    return _fold_standardization(weight, solution.x[num_classes * f:], mean, std)


def _fold_standardization(weight, bias, mean, std) -> LinearHead:
    """W((x - m) / s) + b  ==  (W / s) x + (b - (W / s) m)."""
    folded = weight / std  # (C, F)
    return LinearHead(folded.astype(np.float32), (bias - folded @ mean).astype(np.float32))
