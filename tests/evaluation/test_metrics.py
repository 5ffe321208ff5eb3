"""The area under the ROC curve, against its rank-sum definition (SciPy's ranks)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import rankdata

from pocketvision.evaluation.metrics import auroc


def rank_sum_auroc(negatives, positives) -> float:
    ranks = rankdata(np.concatenate([negatives, positives]))
    u = ranks[len(negatives):].sum() - len(positives) * (len(positives) + 1) / 2
    return u / (len(positives) * len(negatives))


@pytest.mark.parametrize("seed", range(5))
def test_auroc_is_the_mann_whitney_statistic_ties_counting_half(seed):
    rng = np.random.default_rng(seed)
    negatives = rng.integers(0, 8, 40).astype(float)  # few values: many ties
    positives = rng.integers(2, 10, 25).astype(float)
    assert auroc(negatives, positives) == pytest.approx(rank_sum_auroc(negatives, positives))


def test_auroc_of_separated_tied_and_empty_sides():
    assert auroc(np.array([0.1, 0.2]), np.array([0.3, 0.9])) == 1.0
    assert auroc(np.array([0.5, 0.5]), np.array([0.5])) == 0.5
    assert auroc(np.array([]), np.array([0.5])) is None
