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
    """image (B, 3, crop, crop), RGB 0..1 -> probabilities (B, classes), and with
    ``with_features`` also the backbone's features (B, F), which an exporter turns
    into the novelty output (:func:`pocketvision.exports.onnx_format.export_onnx`)."""

    def __init__(self, bundle: Bundle, with_features: bool = False):
        super().__init__()
        spec = bundle.preprocessing
        self.classifier = bundle.model
        self.with_features = with_features
        self.register_buffer("mean", torch.tensor(spec.mean).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(spec.std).view(1, 3, 1, 1))

    def forward(self, image: torch.Tensor):
        features = self.classifier.backbone((image - self.mean) / self.std)
        probabilities = self.classifier.head(features).softmax(dim=-1)
        return (probabilities, features) if self.with_features else probabilities


def export_inputs(bundle: Bundle, paths: list[Path]) -> list[torch.Tensor]:
    """Tensors (1, 3, crop, crop) in 0..1: exactly what the bundle's exports are fed."""
    ours = contract(bundle, "calibration")
    return [torch.from_numpy(artifact_input(p, ours)) for p in paths]


def bundle_novelty(bundle: Bundle):
    """The bundle file's novelty model (None for an older bundle, a fine-tuned one,
    or one only in memory, e.g. ImageNet's)."""
    from pocketvision.bundle import read_tensors
    from pocketvision.novelty import BANK_TENSOR, NoveltyModel

    if bundle.meta.novelty is None or bundle.path is None:
        return None
    bank = read_tensors(bundle.path).get(BANK_TENSOR)
    return None if bank is None else NoveltyModel.from_bundle(bundle.meta.novelty, bank)


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
