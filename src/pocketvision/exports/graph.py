"""The graph every export is converted from: the bundle's model with the
contract's normalization before it and softmax after it (PyTorch)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import List, Tuple

import numpy as np
import torch
from torch import nn

from pocketvision.exports.contract import artifact_input, contract
from pocketvision.model.bundle import Bundle
from pocketvision.model.novelty import NEIGHBOURS


class ExportGraph(nn.Module):
    """image (B, 3, crop, crop), RGB 0..1 -> probabilities (B, classes); with a
    ``novelty`` model (the bundle's), -> (probabilities, novelty (B,)) so exports
    carry unknown detection."""

    def __init__(self, bundle: Bundle, novelty=None):
        super().__init__()
        spec = bundle.preprocessing
        self.classifier = bundle.model
        self.novelty = None if novelty is None else NoveltyScore(novelty)
        self.register_buffer("mean", torch.tensor(spec.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(spec.std).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor):
        features = self.classifier.backbone((image - self.mean) / self.std)
        probabilities = self.classifier.head(features).softmax(dim=-1)
        if self.novelty is None:
            return probabilities
        return probabilities, self.novelty(features, probabilities)


class NoveltyScore(nn.Module):
    """:meth:`pocketvision.model.novelty.NoveltyModel.score` in PyTorch operations, so
    every exporter converts it with the rest of the graph: 1 - mean cosine
    similarity to the 5 nearest training features, / scale, + (1 - top
    probability) = raw; novelty = 1 - 2 ** (-raw / threshold)."""

    def __init__(self, novelty):
        super().__init__()
        self.k = min(NEIGHBOURS, novelty.bank.shape[0])
        self.register_buffer("bank_t", torch.from_numpy(np.ascontiguousarray(novelty.bank.T)))
        self.register_buffer("bank_scale", None)  # (1, N), set by store_bank_in_int8
        self.scale = float(novelty.scale)
        self.rate = -math.log(2) / float(novelty.threshold)

    def store_bank_in_int8(self) -> None:
        """Keep the bank (F, N) as int8 with one scale per training vector, turned
        back into float in the graph: the comparison stays float (nothing clipped),
        the file holds a quarter of the bank's bytes."""
        scale = self.bank_t.abs().amax(dim=0, keepdim=True).clamp_min(1e-12) / 127.0  # (1, N)
        self.bank_t = torch.round(self.bank_t / scale).clamp(-127, 127).to(torch.int8)
        self.bank_scale = scale

    def forward(self, features: torch.Tensor, probabilities: torch.Tensor) -> torch.Tensor:
        bank = self.bank_t if self.bank_scale is None else self.bank_t.float() * self.bank_scale
        similarity = nn.functional.normalize(features, dim=1) @ bank  # (B, N)
        nearest = _mean_of_largest(similarity, self.k)
        raw = (1.0 - nearest) / self.scale + (1.0 - probabilities.amax(dim=1))
        return 1.0 - torch.exp(raw * self.rate)


def _mean_of_largest(values: torch.Tensor, k: int) -> torch.Tensor:
    """``values.topk(k, dim=1).values.mean(dim=1)`` without topk: TFLite's converter
    turns topk into a StableHLO sort that the LiteRT interpreter cannot run. k
    passes of max, each masking the one position it took (ties count twice, as in
    topk)."""
    positions = torch.arange(values.shape[1], device=values.device)
    total = torch.zeros_like(values[:, 0])
    for _ in range(k):
        total = total + values.amax(dim=1)
        taken = positions == values.argmax(dim=1, keepdim=True)  # (B, N), one per row
        values = values.masked_fill(taken, -3.0)  # below any cosine similarity
    return total / k


class NoveltyColumn(nn.Module):
    """An export graph whose novelty comes as (B, 1) instead of (B,): TFLite clients
    (MediaPipe, the Task Library) read every output as a (1, N) score tensor."""

    def __init__(self, graph: ExportGraph):
        super().__init__()
        self.graph = graph

    def forward(self, image: torch.Tensor):
        if self.graph.novelty is None:
            return self.graph(image)
        probabilities, novelty = self.graph(image)
        return probabilities, novelty.unsqueeze(1)


def export_inputs(bundle: Bundle, paths: list[Path]) -> list[torch.Tensor]:
    """Tensors (1, 3, crop, crop) in 0..1: exactly what the bundle's exports are fed."""
    ours = contract(bundle, "calibration")
    return [torch.from_numpy(artifact_input(p, ours)) for p in paths]


class LabelledGraph(torch.nn.Module):
    """A traced export graph plus ``get_classes()`` (the TorchScript Lite export)."""

    def __init__(self, graph: torch.nn.Module, labels: List[str]):
        super().__init__()
        self.graph = graph
        self.labels = labels

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.graph(image)

    @torch.jit.export
    def get_classes(self) -> List[str]:
        return self.labels


class LabelledNoveltyGraph(LabelledGraph):
    """The same, for a graph that also gives novelty: ``forward`` stays the
    probabilities (apps written for it keep working), ``classify_with_novelty``
    gives both from one run of the network."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.graph(image)[0]

    @torch.jit.export
    def classify_with_novelty(self, image: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        return self.graph(image)
