"""Pretrained feature extractors, by the name a user types.

The registry (names, preprocessing, where weights are) imports no torch; the
PyTorch module (``Backbone``, ``create_backbone``) is imported on first use.
"""

from pocketvision.backbones import zoo as _zoo  # noqa: F401  (fills the registry)
from pocketvision.backbones.registry import (
    BackboneSpec,
    get_spec,
    list_backbones,
    register_backbone,
)
from pocketvision.backbones.weights import weights_status


def imagenet_categories() -> list[str]:
    """The 1,000 ImageNet class names, in the order every backbone's head uses."""
    from torchvision.models import MobileNet_V3_Large_Weights

    return list(MobileNet_V3_Large_Weights.IMAGENET1K_V1.meta["categories"])


def describe_backbones() -> list[dict]:
    """Each registered backbone as ``pocketvision backbones --json`` and the studio
    show it, with whether its weights are on this machine now."""
    rows = []
    for spec in list_backbones():
        available, where = weights_status(spec)
        rows.append({"name": spec.name, "description": spec.description,
                     "feature_dim": spec.feature_dim, "input_size": spec.preprocessing.crop,
                     "weights_available": available, "weights": where})
    return rows


def __getattr__(name: str):
    if name in ("Backbone", "create_backbone"):
        from pocketvision.backbones import network

        return getattr(network, name)
    raise AttributeError(f"module 'pocketvision.backbones' has no attribute {name!r}")


__all__ = [
    "Backbone", "BackboneSpec", "create_backbone", "describe_backbones", "get_spec",
    "imagenet_categories",
    "list_backbones", "register_backbone", "weights_status",
]
