"""The backbone registry: names a user types -> how to build that network.

Only :func:`create_backbone`, :func:`get_spec` and :func:`list_backbones` read the
registry; entries are added with the :func:`register_backbone` decorator in
:mod:`pocketvision.backbones.zoo`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from pocketvision.errors import BackboneError
from pocketvision.preprocessing import Preprocessing


@dataclass(frozen=True)
class BackboneSpec:
    """Everything pocketvision needs to know about one pretrained network.

    Attributes:
        name: what the user types, e.g. ``efficientnet_lite0``.
        description: one line for ``pocketvision backbones``.
        feature_dim: length of the pooled feature vector the head sees.
        preprocessing: the input contract of the pretrained weights.
        build: returns the full ImageNet network with random weights.
        head_path: dotted attribute path of its final ``nn.Linear`` (the ImageNet
            classifier); everything before it is the feature extractor.
        blocks: returns the network's stages in forward order, for ``--fine-tune N``.
        weights: where pretrained weights come from (see ``weights.py``).
    """

    name: str
    description: str
    feature_dim: int
    preprocessing: Preprocessing
    build: Callable[[], nn.Module]
    head_path: str
    blocks: Callable[[nn.Module], list[nn.Module]]
    weights: object = field(repr=False)


_REGISTRY: dict[str, BackboneSpec] = {}


def register_backbone(factory: Callable[[], BackboneSpec]) -> Callable[[], BackboneSpec]:
    """Decorator: call ``factory`` once and register the spec under its name."""
    spec = factory()
    if spec.name in _REGISTRY:
        raise ValueError(f"backbone {spec.name!r} is registered twice")
    _REGISTRY[spec.name] = spec
    return factory


def list_backbones() -> list[BackboneSpec]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def get_spec(name: str) -> BackboneSpec:
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise BackboneError(f"unknown backbone {name!r}; choose one of: {known}") from None


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
        digest = hashlib.sha256()
        for key, tensor in sorted(self.body.state_dict().items()):
            digest.update(key.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()


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
    from pocketvision.backbones.weights import load_pretrained

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
