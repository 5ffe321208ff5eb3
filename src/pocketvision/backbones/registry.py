"""The backbone registry: names a user types -> how to build that network.

Only :func:`get_spec` and :func:`list_backbones` read the registry (and
:func:`pocketvision.backbones.network.create_backbone` through them); entries are
added with the :func:`register_backbone` decorator in :mod:`pocketvision.backbones.zoo`.
Nothing here imports torch: the spec is what the fast paths (training on cached
graphs, ``inspect``, ``backbones``) need, and ``build`` imports the network's
library only when a network is built.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

from pocketvision.data.preprocessing import Preprocessing
from pocketvision.errors import BackboneError, unknown_name

if TYPE_CHECKING:
    from torch import nn


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
    build: Callable[[], "nn.Module"]
    head_path: str
    blocks: Callable[["nn.Module"], list["nn.Module"]]
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
        raise BackboneError(unknown_name("backbone", name, sorted(_REGISTRY))) from None
