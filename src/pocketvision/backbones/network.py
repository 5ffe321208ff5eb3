"""The backbone as a PyTorch module: a pretrained network minus its ImageNet head.

Built only where a network runs in PyTorch (building the cached ONNX graph once,
fine-tuning, exports); training and prediction otherwise run the cached graph.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from pocketvision.backbones.registry import BackboneSpec, get_spec
from pocketvision.backbones.weights import load_pretrained
from pocketvision.cache import weights_hash
from pocketvision.data.preprocessing import Preprocessing


class Backbone(nn.Module):
    """A pretrained network minus its ImageNet classifier.

    ``forward`` maps a normalized batch (B, 3, H, W) to pooled features (B, F).
    The removed classifier is kept as ``imagenet_head`` (not part of the state
    dict) for predicting ImageNet categories with the backbone itself.
    """

    def __init__(self, spec: BackboneSpec, network: nn.Module,
                 preprocessing: Preprocessing | None = None):
        super().__init__()
        self.spec = spec
        # What this backbone's inputs get: the pretrained weights' own contract,
        # unless training chose another crop (see TrainConfig.crop_fraction).
        self.preprocessing = preprocessing or spec.preprocessing
        head = _replace_module(network, spec.head_path, nn.Identity())
        assert isinstance(head, nn.Linear), f"{spec.name}: {spec.head_path} is not Linear"
        self.body = network
        self.__dict__["imagenet_head"] = head  # plain attribute: not saved in bundles

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.body(images)  # (B, F)

    def blocks(self) -> list[nn.Module]:
        return self.spec.blocks(self.body)

    def weights_hash(self) -> str:
        """SHA-256 of the feature extractor's tensors, in key order (cache key)."""
        return weights_hash(self.body_tensors())

    def body_tensors(self) -> dict:
        """The feature extractor's tensors as NumPy arrays (what bundles and graphs store)."""
        return {k: v.detach().cpu().contiguous().numpy() for k, v in self.body.state_dict().items()}

    def load_body(self, tensors: dict) -> None:
        """Load :meth:`body_tensors` back (strict: every tensor, right shapes)."""
        self.body.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})


def create_backbone(
    name: str, weights: Path | None = None, pretrained: bool = True,
    preprocessing: Preprocessing | None = None,
) -> Backbone:
    """Build a backbone by name, in eval mode and frozen.

    Args:
        name: a registered backbone name.
        weights: an explicit weights file; otherwise the entry's own sources are
            tried (see :func:`pocketvision.backbones.weights.load_pretrained`).
        pretrained: False builds the architecture only (e.g. to load a bundle).
        preprocessing: overrides the entry's own (a bundle's, or another crop).
    """

    spec = get_spec(name)
    network = spec.build()
    if pretrained:
        load_pretrained(spec, network, weights)
    backbone = Backbone(spec, network, preprocessing).eval()
    backbone.requires_grad_(False)
    backbone.imagenet_head.requires_grad_(False)
    return backbone


def _replace_module(root: nn.Module, dotted: str, new: nn.Module) -> nn.Module:
    parent_path, _, leaf = dotted.rpartition(".")
    parent = root.get_submodule(parent_path) if parent_path else root
    old = getattr(parent, leaf) if not leaf.isdigit() else parent[int(leaf)]
    if leaf.isdigit():
        parent[int(leaf)] = new
    else:
        setattr(parent, leaf, new)
    return old
