"""The bundle: one self-describing ``.pvb`` file per trained model.

A bundle is a safetensors file. Its tensors are the full model weights (backbone
and head); its header metadata holds, as JSON under the key ``pocketvision``:
labels in order, backbone name and weights hash, the preprocessing spec, the
training config, validation metrics and images, the dataset manifest hash, and
library versions. Any safetensors reader can open it; :func:`load_bundle` turns
it back into a model ready to predict.

Writes are atomic: the new file is written beside the target under a temporary
name, flushed to disk, and renamed over it, so a crash or Ctrl-C never leaves a
half-written bundle and never destroys the previous one.

Reading and writing a bundle file needs no torch (safetensors' NumPy API);
only :func:`load_bundle`, which builds the PyTorch model, imports it.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pocketvision.backbones import imagenet_categories
from pocketvision.cache import write_atomically
from pocketvision.config import VERSION
from pocketvision.data.preprocessing import load_tensor
from pocketvision.errors import BundleError
from pocketvision.model.bundle_meta import BackboneInfo, BundleMeta, MetaView
from pocketvision.model.novelty import BANK_TENSOR, NoveltyModel

if TYPE_CHECKING:
    import torch

    from pocketvision.model.classifier import Classifier

SUFFIX = ".pvb"
HEADER_KEY = "pocketvision"  # the safetensors metadata key holding BundleMeta as JSON
BODY_PREFIX = "backbone.body."  # tensors of the feature extractor; the head's are "head.*"
NOVELTY_PREFIX = "novelty."  # the training features unknown images are told apart by


@dataclass
class Bundle(MetaView):
    """A loaded bundle: the model (eval mode) plus everything it says about itself."""

    model: Classifier
    meta: BundleMeta
    path: Path | None = None
    novelty: NoveltyModel | None = None  # unknown detection, which exports carry too

    def predict_tensors(self, images: torch.Tensor) -> np.ndarray:
        """Probabilities (B, classes) for a preprocessed batch (B, 3, H, W)."""
        import torch

        with torch.inference_mode():
            return self.model(images).softmax(dim=-1).numpy()

    def predict_images(self, paths: list[Path]) -> np.ndarray:
        """Probabilities (N, classes) for image files (raises ImageError on a bad one)."""
        import torch

        tensors = [load_tensor(p, self.preprocessing) for p in paths]
        return self.predict_tensors(torch.stack(tensors))


def imagenet_bundle(backbone_name: str, weights: Path | None = None) -> Bundle:
    """A backbone's own pretrained ImageNet classifier (1,000 categories) as a bundle
    in memory: what ``predict --backbone`` runs and ``export --backbone`` exports
    (the model the tutorial exported)."""
    from pocketvision.backbones.network import create_backbone
    from pocketvision.model.classifier import Classifier

    backbone = create_backbone(backbone_name, weights)
    model = Classifier(backbone, backbone.imagenet_head).eval()
    meta = BundleMeta(labels=imagenet_categories(), preprocessing=backbone.preprocessing,
                      backbone=BackboneInfo(backbone_name), imagenet=True,
                      source=f"{backbone_name} ImageNet classifier")
    return Bundle(model=model, meta=meta)


def library_versions() -> dict:
    """Installed versions (read from package metadata: importing torch for its
    version string would cost a second)."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"pocketvision": VERSION}
    for name in ("torch", "torchvision", "timm", "onnxruntime", "safetensors", "pillow", "numpy"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None
    versions["python"] = platform.python_version()
    return versions


def write_bundle(path: Path, tensors: dict[str, np.ndarray], meta: BundleMeta) -> Path:
    """Write the model's tensors (``backbone.body.*``, ``head.*``) and its
    description to ``path`` atomically; return the path. Versions are recorded here."""
    from safetensors.numpy import save

    path = check_bundle_target(Path(path))
    meta = meta.replace(versions=library_versions())
    tensors = {k: np.require(v, requirements="C") for k, v in tensors.items()}  # keeps 0-d shapes
    data = save(tensors, metadata={HEADER_KEY: json.dumps(meta.to_json())})
    write_atomically(path, data, durable=True)
    return path


def save_bundle(path: Path, model: Classifier, meta: BundleMeta,
                novelty: NoveltyModel | None = None) -> Path:
    """Write a PyTorch ``model`` and its description; the preprocessing is the model's own.
    ``novelty``: the unknown detection to keep (a loaded bundle's ``.novelty``); without
    it the file has none, and its header says so (a header promising novelty data
    the file lacks could not be loaded)."""
    tensors = {k: v.detach().cpu().contiguous().numpy() for k, v in model.state_dict().items()}
    if novelty is not None:
        tensors[BANK_TENSOR] = novelty.bank
    return write_bundle(path, tensors, meta.replace(
        preprocessing=model.backbone.preprocessing,
        novelty=None if novelty is None else novelty.to_meta()))


def read_tensors(path: Path) -> dict[str, np.ndarray]:
    """Every tensor of the bundle, as NumPy arrays."""
    from safetensors.numpy import load_file

    try:
        return load_file(str(path))
    except Exception as error:  # safetensors raises its own error types
        raise BundleError(f"{path}: damaged bundle weights ({str(error)[:120]})") from None


def check_bundle_target(path: Path) -> Path:
    """Refuse targets that cannot become a bundle, before any work is lost."""
    if path.is_dir():
        raise BundleError(f"{path} is a folder; pass a file name such as {path / 'model.pvb'}")
    if path.exists() and not path.is_file():
        raise BundleError(f"{path} is not a regular file (a device, FIFO or socket); "
                          "choose another --out")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BundleError(f"cannot create folder {path.parent} ({error.strerror})") from None
    if not os.access(path.parent, os.W_OK):
        raise BundleError(f"folder {path.parent} is not writable; choose another --out")
    return path


def read_meta(path: Path) -> BundleMeta:
    """The bundle's description, without loading any weights."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise BundleError(f"bundle {path} does not exist; train one with 'pocketvision train DATA --out {path}'")
    if path.is_dir():
        raise BundleError(f"{path} is a folder; pass a .pvb bundle file")
    try:
        with safe_open(str(path), framework="numpy") as f:
            header = f.metadata() or {}
    except Exception:
        raise BundleError(f"{path} is not a pocketvision bundle (not a safetensors file)") from None
    if HEADER_KEY not in header:
        raise BundleError(f"{path} is a safetensors file but not a pocketvision bundle")
    try:
        document = json.loads(header[HEADER_KEY])
    except ValueError:
        raise BundleError(f"{path}: damaged bundle header (not JSON); train it again") from None
    return BundleMeta.from_json(document, str(path))


def _check_tensors(found: dict, expected: dict, path: Path, backbone: str) -> None:
    """Every tensor the model needs, with its dtype and shape, and nothing else:
    loading would silently cast an int32 head or ignore a stray tensor."""
    missing, extra = sorted(set(expected) - set(found)), sorted(set(found) - set(expected))
    if missing or extra:
        names = ", ".join((missing or extra)[:3])
        raise BundleError(f"{path}: weights do not match {backbone} "
                          f"({'missing' if missing else 'unexpected'}: {names})")
    for name, tensor in found.items():
        want = expected[name]
        if tensor.dtype != want.dtype or tensor.shape != want.shape:
            raise BundleError(f"{path}: tensor {name} is {tensor.dtype} {tuple(tensor.shape)}, "
                              f"expected {want.dtype} {tuple(want.shape)}; train it again")


def load_bundle(path: Path | str) -> Bundle:
    """Load a bundle into a PyTorch model in eval mode (for exports and fine-tuning;
    :func:`pocketvision.inference.predictor.load_predictor` predicts without torch)."""
    from safetensors.torch import load_file
    from torch import nn

    from pocketvision.backbones.network import create_backbone
    from pocketvision.model.classifier import Classifier

    path = Path(path)
    meta = read_meta(path)
    backbone = create_backbone(meta.backbone.name, pretrained=False,
                               preprocessing=meta.preprocessing)
    head = nn.Linear(backbone.spec.feature_dim, len(meta.labels))
    model = Classifier(backbone, head)
    try:
        tensors = load_file(str(path))
    except Exception as error:  # safetensors raises its own error types
        raise BundleError(f"{path}: damaged bundle weights ({str(error)[:120]})") from None
    novelty = NoveltyModel.from_bundle(meta.novelty, tensors, backbone.spec.feature_dim, path)
    tensors = {k: v for k, v in tensors.items() if not k.startswith(NOVELTY_PREFIX)}
    _check_tensors(tensors, model.state_dict(), path, meta.backbone.name)
    model.load_state_dict(tensors)
    model.eval().requires_grad_(False)
    return Bundle(model=model, meta=meta, path=path, novelty=novelty)
