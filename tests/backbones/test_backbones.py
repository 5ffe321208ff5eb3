"""The backbone registry, weight resolution, and the real pretrained default."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from pocketvision.backbones import (
    create_backbone,
    get_spec,
    imagenet_categories,
    list_backbones,
    register_backbone,
)
from pocketvision.backbones.weights import TorchvisionWeights
from pocketvision.data.preprocessing import to_tensor
from pocketvision.errors import BackboneError, WeightsUnavailableError

NAMES = [spec.name for spec in list_backbones()]


def test_registry_has_the_promised_backbones():
    assert {"efficientnet_lite0", "efficientnet_lite2", "efficientnet_lite0_lite2",
            "mobilenet_v3_large", "mobilenet_v3_small", "mobilenet_v2", "resnet18"} <= set(NAMES)


def test_a_name_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="registered twice"):
        register_backbone(lambda: get_spec("resnet18"))


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(BackboneError, match="unknown backbone 'vgg'.*efficientnet_lite0"):
        get_spec("vgg")


@pytest.mark.parametrize("name", NAMES)
def test_architecture_gives_declared_features(name):
    backbone = create_backbone(name, pretrained=False)
    spec = backbone.spec
    size = spec.preprocessing.crop
    with torch.inference_mode():
        features = backbone(torch.zeros(2, 3, size, size))
    assert features.shape == (2, spec.feature_dim)
    assert backbone.imagenet_head.out_features == 1000
    assert len(backbone.blocks()) >= 4
    assert not any(p.requires_grad for p in backbone.parameters())


def classify(backbone, image: np.ndarray) -> list[str]:
    tensor = to_tensor(Image.fromarray(image).convert("RGB"), backbone.preprocessing)[None]
    with torch.inference_mode():
        logits = backbone.imagenet_head(backbone(tensor))[0]
    categories = imagenet_categories()
    return [categories[k] for k in logits.topk(3).indices]


@pytest.mark.parametrize("name", ["efficientnet_lite0", "efficientnet_lite2",
                                  "efficientnet_lite0_lite2"])
def test_packaged_weights_name_real_photos(photos, name):
    """Proves the key mapping of the packaged weights: a wrong mapping gives noise (for
    the pair: each part's weights, and the head averaged from theirs)."""
    backbone = create_backbone(name)
    assert classify(backbone, photos["chelsea"])[0] in {"tabby", "tiger cat", "Egyptian cat"}
    assert classify(backbone, photos["coffee"])[0] in {"espresso", "cup", "coffee mug"}
    assert "missile" in classify(backbone, photos["rocket"]) or "projectile" in classify(
        backbone, photos["rocket"])


def test_the_pair_gives_each_parts_features_side_by_side(photos):
    pair = create_backbone("efficientnet_lite0_lite2")
    parts = [create_backbone(name) for name in ("efficientnet_lite0", "efficientnet_lite2")]
    image = to_tensor(Image.fromarray(photos["coffee"]), pair.preprocessing)[None]  # 260 px
    with torch.inference_mode():
        expected = torch.cat([part(image) for part in parts], dim=1)
        assert torch.allclose(pair(image), expected, atol=1e-5)
    # the bundle keeps the parts' feature extractors, not their ImageNet heads
    assert not any("classifier" in key for key in pair.body_tensors())
    assert len(pair.blocks()) == len(parts[0].blocks())


@pytest.mark.parametrize("name", [n for n in NAMES if isinstance(get_spec(n).weights, TorchvisionWeights)])
def test_missing_torchvision_weights_name_the_file(name, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    with pytest.raises(WeightsUnavailableError) as error:
        create_backbone(name)
    message = str(error.value)
    assert str(tmp_path / "hub" / "checkpoints") in message
    assert "--weights FILE" in message and "efficientnet_lite0" in message


def test_explicit_weights_file_is_used(tmp_path):
    donor = get_spec("mobilenet_v3_small").build()
    path = tmp_path / "mine.pth"
    torch.save(donor.state_dict(), path)
    backbone = create_backbone("mobilenet_v3_small", weights=path)
    expected = donor.features[0][0].weight
    assert torch.equal(backbone.body.features[0][0].weight, expected)


def test_hub_cache_is_found(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    spec = get_spec("resnet18")
    donor = spec.build()
    spec.weights.cache_path().parent.mkdir(parents=True)
    torch.save(donor.state_dict(), spec.weights.cache_path())
    backbone = create_backbone("resnet18")
    assert torch.equal(backbone.body.conv1.weight, donor.conv1.weight)


@pytest.mark.parametrize("content, message", [
    (b"not a checkpoint", "cannot read weights file"),
    (None, "does not hold resnet18 weights"),
])
def test_unreadable_weights_file(tmp_path, content, message):
    path = tmp_path / "weights.pth"
    if content is None:
        torch.save({"just": torch.zeros(3)}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(WeightsUnavailableError, match=message):
        create_backbone("resnet18", weights=path)


def test_weights_hash_tracks_the_weights():
    a = create_backbone("efficientnet_lite0")
    b = create_backbone("efficientnet_lite0")
    assert a.weights_hash() == b.weights_hash()
    with torch.no_grad():
        b.body.conv_head.weight.add_(1e-3)
    assert a.weights_hash() != b.weights_hash()


@pytest.mark.parametrize("name", [n for n in NAMES if isinstance(get_spec(n).weights, TorchvisionWeights)])
def test_written_out_torchvision_facts_match_torchvision(name, monkeypatch, tmp_path):
    """The registry names files and preprocessing without importing torchvision;
    here they are checked against torchvision's own weights enum."""
    import torchvision

    entry = torchvision.models.get_model_weights(name).IMAGENET1K_V1
    spec = get_spec(name)
    assert spec.weights.url == entry.url
    transform = entry.transforms()
    assert (spec.preprocessing.resize, spec.preprocessing.crop) == (transform.resize_size[0],
                                                                    transform.crop_size[0])
    assert spec.preprocessing.mean == tuple(transform.mean)
    assert spec.preprocessing.std == tuple(transform.std)
    for variable, value in (("TORCH_HOME", None), ("XDG_CACHE_HOME", str(tmp_path))):
        if value is None:
            monkeypatch.delenv(variable, raising=False)
        else:
            monkeypatch.setenv(variable, value)
        from pocketvision.backbones.weights import torch_hub_dir

        assert str(torch_hub_dir()) == torch.hub.get_dir()


def test_timm_constants_match_the_written_out_ones():
    from timm.data import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD

    spec = get_spec("efficientnet_lite0").preprocessing
    assert (spec.mean, spec.std) == (IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD)


def test_the_registry_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys, pocketvision.backbones as b; b.list_backbones(); "
            "b.get_spec('resnet18').weights.find(); print('torch' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "False"
