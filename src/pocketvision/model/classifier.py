"""The trained classifier: a frozen backbone and a linear head, as one module."""

from __future__ import annotations

import torch
from torch import nn

from pocketvision.backbones.network import Backbone


class Classifier(nn.Module):
    """images (B, 3, H, W), normalized -> logits (B, classes)."""

    def __init__(self, backbone: Backbone, head: nn.Linear):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.backbone(images))
