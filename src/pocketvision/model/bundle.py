"""The bundle: one self-describing ``.pvb`` file per trained model.

A bundle is a safetensors file. Its tensors are the full model weights (backbone
and head), or the head alone: a bundle trained in the phone studio names its
backbone instead of carrying 13 MB of unchanged pretrained weights, by the
registered name and the hash of those weights (``backbone.weights_hash``), and
whoever reads it uses the pretrained weights on their machine once the hash
matches (:func:`named_extractor`). Its header metadata holds, as JSON under the key ``pocketvision``:
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

import dataclasses
import json
import os
import platform
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pocketvision.backbones import imagenet_categories
from pocketvision.cache import weights_hash, write_atomically
from pocketvision.config import VERSION
from pocketvision.data.preprocessing import load_tensor
from pocketvision.errors import BundleError, WeightsUnavailableError
from pocketvision.features.graph import FeatureExtractor, pretrained_extractor
from pocketvision.model.bundle_meta import FORMAT_VERSION, BackboneInfo, BundleMeta, MetaView
from pocketvision.model.novelty import BANK_TENSOR, NoveltyModel

if TYPE_CHECKING:
    import torch

    from pocketvision.model.classifier import Classifier

SUFFIX = ".pvb"
HEADER_KEY = "pocketvision"  # the safetensors metadata key holding BundleMeta as JSON
BODY_PREFIX = "backbone.body."  # tensors of the feature extractor; the head's are "head.*"
NOVELTY_PREFIX = "novelty."  # the training features unknown images are told apart by
MAX_HEADER_DEPTH = 32  # a header nests 3 deep; Python's json gives up near 1,000
HEAD_AND_NOVELTY = ("head.weight", "head.bias", BANK_TENSOR)  # every other tensor is the body's


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
        tensors = load_file(str(path))
    except Exception as error:  # safetensors raises its own error types
        raise BundleError(f"{path}: damaged bundle weights ({str(error)[:120]})") from None
    unexpected = sorted(name for name in tensors if name not in HEAD_AND_NOVELTY
                        and not name.startswith(BODY_PREFIX))
    if unexpected:
        raise BundleError(f"{path}: damaged bundle weights (unexpected tensor "
                          f"{unexpected[0][:60]!r}); train it again")
    check_finite(tensors, path)
    return tensors


def check_finite(tensors: dict, path: Path) -> None:
    """Refuse NaN or infinite weights: they give NaN probabilities everywhere (and a
    golden.json that is not JSON). ``tensors``: NumPy or PyTorch tensors."""
    for name, tensor in tensors.items():
        if not _all_finite(tensor):
            part = "novelty data" if name.startswith(NOVELTY_PREFIX) else f"tensor {name}"
            raise BundleError(f"{path}: {part} damaged (it holds NaN or infinite numbers); "
                              "train it again")


def _all_finite(tensor) -> bool:
    if hasattr(tensor, "is_floating_point"):  # a PyTorch tensor (bfloat16 has no NumPy twin)
        import torch

        return not tensor.is_floating_point() or bool(torch.isfinite(tensor).all())
    return tensor.dtype.kind != "f" or bool(np.isfinite(tensor).all())


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
    except (ValueError, RecursionError):  # RecursionError: nested thousands deep
        raise BundleError(f"{path}: damaged bundle header (not JSON); train it again") from None
    if nesting_depth(document) > MAX_HEADER_DEPTH:
        raise BundleError(f"{path}: damaged bundle header (nested more than {MAX_HEADER_DEPTH} "
                          "deep); train it again")
    return BundleMeta.from_json(document, str(path))


def describe_bundle(path: Path) -> dict:
    """What ``inspect model.pvb`` shows, read from the file without PyTorch: labels,
    backbone (carried or named by its weights' hash), preprocessing, validation
    metrics and unknown detection. Every tensor is read and checked, as predict
    would read it."""
    meta = read_meta(path)
    tensors = read_tensors(path)
    body = body_of(tensors)
    metrics = meta.metrics or {}
    return {
        "format": "pvb", "bundle_format_version": FORMAT_VERSION, "labels": meta.labels,
        "backbone": {"name": meta.backbone.name, "feature_dim": meta.backbone.feature_dim,
                     "weights_hash": meta.backbone.weights_hash,
                     "weights": "carried" if body else "not carried (the pretrained ones, named by hash)",
                     "fine_tuned": bool(meta.training.get("fine_tune"))},
        "preprocessing": meta.preprocessing.to_dict(),
        "validation": {"accuracy": metrics.get("accuracy"), "images": metrics.get("count"),
                       "ece": metrics.get("ece"), "per_class": metrics.get("per_class", {})},
        "novelty": None if meta.novelty is None else {
            "threshold": meta.novelty.get("threshold"), "scale": meta.novelty.get("scale"),
            "training_features": int(tensors[BANK_TENSOR].shape[0]),
            "rejected_validation_share": metrics.get("novelty_rejected")},
        "training_images": meta.dataset.get("train_images"), "created": meta.created,
        "source": meta.source,
    }


def nesting_depth(document) -> int:
    """How deep lists and objects nest in a JSON document (without recursion)."""
    deepest, stack = 0, [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, (list, dict)):
            deepest = max(deepest, depth)
            stack.extend((v, depth + 1) for v in (value.values() if isinstance(value, dict) else value))
    return deepest


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
    check_finite(tensors, path)
    if not body_of(tensors):  # it names its backbone: the pretrained weights, checked
        pretrained = create_backbone(meta.backbone.name, preprocessing=meta.preprocessing)
        check_named_weights(meta, pretrained.weights_hash(), path)
        tensors |= {BODY_PREFIX + k: v for k, v in pretrained.body.state_dict().items()}
    novelty = NoveltyModel.from_bundle(meta.novelty, tensors, backbone.spec.feature_dim, path)
    tensors = {k: v for k, v in tensors.items() if not k.startswith(NOVELTY_PREFIX)}
    _check_tensors(tensors, model.state_dict(), path, meta.backbone.name)
    model.load_state_dict(tensors)
    model.eval().requires_grad_(False)
    return Bundle(model=model, meta=meta, path=path, novelty=novelty)


def body_of(tensors: dict) -> dict:
    """The backbone's tensors of a bundle, without the ``backbone.body.`` prefix
    (empty for a bundle that names its backbone)."""
    return {k[len(BODY_PREFIX):]: v for k, v in tensors.items() if k.startswith(BODY_PREFIX)}


def named_extractor(meta: BundleMeta, path: Path, cache_root: Path | None = None
                    ) -> FeatureExtractor:
    """The backbone of a bundle that names it instead of carrying it: the pretrained
    weights of ``meta.backbone.name`` on this machine, if they hash to the weights
    the bundle was trained on."""
    name = meta.backbone.name
    try:
        extractor = pretrained_extractor(name, None, cache_root)
    except WeightsUnavailableError as missing:
        raise BundleError(f"{path} uses the pretrained {name} weights without carrying them, "
                          f"and this machine has none: {missing}") from None
    check_named_weights(meta, extractor.info.weights_hash, path)
    return extractor


def check_named_weights(meta: BundleMeta, found: str, path: Path) -> None:
    """BundleError unless ``found`` (the hash of this machine's pretrained weights) is
    the one the bundle names."""
    wanted = meta.backbone.weights_hash
    if not wanted:
        raise BundleError(f"{path} has no backbone tensors and names no backbone weights; "
                          "train it again")
    if wanted != found:
        raise BundleError(f"{path} was trained on {meta.backbone.name} weights {wanted[:12]}, "
                          f"but this machine's pretrained {meta.backbone.name} weights are "
                          f"{found[:12]} (another version of them); train it again here")


def write_slim_bundle(source: Path, target: Path) -> Path:
    """A copy of the bundle at ``source`` that names its backbone instead of carrying
    it (what the phone studio writes); only for a backbone that is this machine's
    pretrained one, unchanged (a fine-tuned backbone has to travel with the head)."""
    meta, tensors = read_meta(Path(source)), read_tensors(Path(source))
    body = body_of(tensors)
    if not body:
        return write_bundle(target, tensors, meta)
    named_extractor(meta.replace(backbone=dataclasses.replace(
        meta.backbone, weights_hash=weights_hash(body))), Path(source))
    return write_bundle(target, {k: v for k, v in tensors.items()
                                 if not k.startswith(BODY_PREFIX)}, meta)
