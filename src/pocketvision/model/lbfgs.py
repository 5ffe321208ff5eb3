"""L-BFGS for the head's loss: the optimizer web/head.js runs on the phone, in NumPy.

Why not SciPy's: importing ``scipy.optimize`` takes 0.25 s, an eighth of a whole
``pocketvision train``, for one function; and with this one the laptop and the phone
fit a head by the same steps. The head's loss is smooth and convex, so a plain
L-BFGS (two-loop recursion, backtracking Armijo line search) reaches the same optimum
SciPy's L-BFGS-B does (tests/model/test_head.py checks it against PyTorch's).
"""

from __future__ import annotations

from collections import deque
from typing import Callable

import numpy as np

LossAndGradient = Callable[[np.ndarray], tuple[float, np.ndarray]]


def minimize(loss_and_gradient: LossAndGradient, start: np.ndarray, max_iterations: int = 800,
             memory: int = 30, gtol: float = 1e-9, ftol: float = 1e-12) -> np.ndarray:
    """The point where ``loss_and_gradient`` is smallest, from ``start``. Stops as SciPy's
    L-BFGS-B is told to: when the largest gradient entry is at most ``gtol``, or the loss
    falls by at most ``ftol`` of its size in one step."""
    x = np.array(start, np.float64)
    value, gradient = loss_and_gradient(x)
    pairs: deque = deque(maxlen=memory)  # (s, y, 1 / s.y) of the latest steps
    for _ in range(max_iterations):
        if np.abs(gradient).max() <= gtol:
            break
        direction = _search_direction(gradient, pairs)
        slope = float(gradient @ direction)
        if not slope < 0:  # the curvature pairs went stale: start again from steepest descent
            pairs.clear()
            direction, slope = -gradient, -float(gradient @ gradient)
        step = 1.0 if pairs else 1.0 / max(1.0, float(np.sqrt(gradient @ gradient)))
        for _ in range(40):  # backtrack until the loss falls enough (Armijo)
            following = x + step * direction
            next_value, next_gradient = loss_and_gradient(following)
            if next_value <= value + 1e-4 * step * slope:
                break
            step /= 2
        s, y = following - x, next_gradient - gradient
        if (sy := float(s @ y)) > 1e-12:
            pairs.append((s, y, 1.0 / sy))
        falling = (value - next_value) / max(abs(value), abs(next_value), 1.0)
        x, value, gradient = following, next_value, next_gradient
        if falling <= ftol:
            break
    return x


def _search_direction(gradient: np.ndarray, pairs: deque) -> np.ndarray:
    """-H g, H the inverse Hessian the pairs describe (the two-loop recursion)."""
    q = gradient.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        alpha = rho * float(s @ q)
        alphas.append(alpha)
        q -= alpha * y
    if pairs:
        s, y, _ = pairs[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), alpha in zip(pairs, reversed(alphas)):
        q += (alpha - rho * float(y @ q)) * s
    return -q
