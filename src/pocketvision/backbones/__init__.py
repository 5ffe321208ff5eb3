"""Pretrained feature extractors, by the name a user types."""

from pocketvision.backbones import zoo as _zoo  # noqa: F401  (fills the registry)
from pocketvision.backbones.registry import (
    Backbone,
    BackboneSpec,
    create_backbone,
    get_spec,
    list_backbones,
    register_backbone,
)
from pocketvision.backbones.weights import weights_status


def imagenet_categories() -> list[str]:
    """The 1,000 ImageNet class names, in the order every backbone's head uses."""
    from torchvision.models import MobileNet_V3_Large_Weights

    return list(MobileNet_V3_Large_Weights.IMAGENET1K_V1.meta["categories"])


__all__ = [
    "Backbone", "BackboneSpec", "create_backbone", "get_spec", "imagenet_categories",
    "list_backbones", "register_backbone", "weights_status",
]
