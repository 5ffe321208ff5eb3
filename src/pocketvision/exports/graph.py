"""The graph every export is converted from: the bundle's model with the
contract's normalization before it and softmax after it (PyTorch)."""

from __future__ import annotations

from pathlib import Path
from typing import List

import torch
from torch import nn

from pocketvision.bundle import Bundle
from pocketvision.exports.contract import artifact_input, contract


class ExportGraph(nn.Module):
    """image (B, 3, crop, crop), RGB 0..1 -> probabilities (B, classes)."""

    def __init__(self, bundle: Bundle):
        super().__init__()
        spec = bundle.preprocessing
        self.classifier = bundle.model
        self.register_buffer("mean", torch.tensor(spec.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(spec.std).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.classifier((image - self.mean) / self.std).softmax(dim=-1)


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
