"""Fit the linear head on cached features: multinomial logistic regression.

Full-batch L-BFGS (:mod:`pocketvision.model.lbfgs`) on standardized features with
an L2 penalty; the standardization is then folded into the layer, so the exported
model is a plain linear layer on raw backbone features. Starting from zero weights,
the result depends only on the data (deterministic). NumPy only: fitting a head
needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pocketvision.model.lbfgs import minimize


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
    x = np.asarray(features, np.float64)
    y = np.asarray(targets, np.int64)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.maximum(std, max(1e-6, std_floor * float(np.median(std))))
    x = (x - mean) / std  # (N, F), standardized so one penalty suits every backbone
    basis = _span_basis(x)
    if basis is not None:
        x = x @ basis  # (N, N): the pictures' coordinates in their own span
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

    theta = minimize(loss_and_gradient, np.zeros(num_classes * (f + 1)), max_iterations)
    weight = theta[: num_classes * f].reshape(num_classes, f)
    if basis is not None:
        weight = weight @ basis.T  # back to one weight per feature, (C, F)
    return _fold_standardization(weight, theta[num_classes * f:], mean, std)


def _span_basis(x: np.ndarray) -> np.ndarray | None:
    """An orthonormal basis (F, N) of the span of the N standardized feature vectors,
    or None when there are at least as many pictures as features.

    Why: the loss sees the weights only through the pictures, and the penalty is
    smallest when the weights lie in their span, so the optimum does. Written in
    this basis the problem has N instead of F unknowns per class, and as the basis
    is orthonormal it is the same problem (same penalty, same conditioning, and from
    zero L-BFGS takes the same steps), each step N/F of the work. The phone studio's
    head.js fits the same way.
    """
    n, f = x.shape
    if n >= f:
        return None
    return np.linalg.qr(x.T)[0]  # (F, N)


def _fold_standardization(weight, bias, mean, std) -> LinearHead:
    """W((x - m) / s) + b  ==  (W / s) x + (b - (W / s) m)."""
    folded = weight / std  # (C, F)
    return LinearHead(folded.astype(np.float32), (bias - folded @ mean).astype(np.float32))
