"""Registered backbones run side by side on one input, their features concatenated.

Few-shot heads gain from two networks' views of an image: EfficientNet-Lite0 and
-Lite2 together reach 0.81 on 10 Fashion-MNIST classes x 30 images where each
alone reaches 0.78 (benchmarks/RESULTS.md section 2). To the rest of pocketvision
the pair is one network: one input size, one feature vector, one ImageNet head
(the parts' heads averaged, so the pair still names ImageNet categories), so
caching, bundles and every export treat it like any other backbone.
"""

from __future__ import annotations

import torch
from torch import nn

from pocketvision.backbones.registry import get_spec


class SideBySide(nn.Module):
    """images (B, 3, H, W) -> ImageNet logits (B, 1000) from the parts' features."""

    def __init__(self, parts: tuple[str, ...]):
        from pocketvision.backbones.network import _replace_module

        super().__init__()
        self.part_names = parts
        specs = [get_spec(name) for name in parts]
        networks = [spec.build() for spec in specs]
        for spec, network in zip(specs, networks):
            _replace_module(network, spec.head_path, nn.Identity())  # each gives features
        self.parts = nn.ModuleList(networks)
        self.classifier = nn.Linear(sum(spec.feature_dim for spec in specs), 1000)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.cat([part(images) for part in self.parts], dim=1))

    def load_parts(self) -> None:
        """Each part's pretrained weights from its own source; the ImageNet head is
        the mean of the parts' heads (their logits averaged)."""
        from pocketvision.backbones.network import create_backbone

        heads = []
        for part, name in zip(self.parts, self.part_names):
            pretrained = create_backbone(name)
            part.load_state_dict(pretrained.body.state_dict())
            heads.append(pretrained.imagenet_head)
        with torch.no_grad():
            self.classifier.weight.copy_(torch.cat([h.weight for h in heads], dim=1) / len(heads))
            self.classifier.bias.copy_(torch.stack([h.bias for h in heads]).mean(dim=0))

    def blocks(self) -> list[nn.Module]:
        """Stage k of every part as one block, so ``--fine-tune N`` trains the last N
        stages of each part."""
        stages = [get_spec(name).blocks(part) for name, part in zip(self.part_names, self.parts)]
        return [nn.ModuleList(same_depth) for same_depth in zip(*stages)]
