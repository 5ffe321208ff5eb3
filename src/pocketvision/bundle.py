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
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pocketvision.backbones import create_backbone
from pocketvision.cache import write_atomically
from pocketvision.errors import BundleError
from pocketvision.model import Classifier
from pocketvision.preprocessing import Preprocessing, load_tensor

FORMAT = "pocketvision-bundle"
FORMAT_VERSION = 1
SUFFIX = ".pvb"


@dataclass
class Bundle:
    """A loaded bundle: the model (eval mode) plus everything it says about itself."""

    model: Classifier
    labels: list[str]
    preprocessing: Preprocessing
    meta: dict = field(default_factory=dict)
    path: Path | None = None

    @property
    def backbone_name(self) -> str:
        return self.meta["backbone"]["name"]

    def predict_tensors(self, images: torch.Tensor) -> np.ndarray:
        """Probabilities (B, classes) for a preprocessed batch (B, 3, H, W)."""
        with torch.inference_mode():
            return self.model(images).softmax(dim=-1).numpy()

    def predict_images(self, paths: list[Path]) -> np.ndarray:
        """Probabilities (N, classes) for image files (raises ImageError on a bad one)."""
        tensors = [load_tensor(p, self.preprocessing) for p in paths]
        return self.predict_tensors(torch.stack(tensors))


def imagenet_bundle(backbone_name: str, weights: Path | None = None) -> Bundle:
    """A backbone's own pretrained ImageNet classifier (1,000 categories) as a bundle
    in memory: what ``predict --backbone`` runs and ``export --backbone`` exports
    (the model the tutorial exported)."""
    from pocketvision.backbones import imagenet_categories

    backbone = create_backbone(backbone_name, weights)
    model = Classifier(backbone, backbone.imagenet_head).eval()
    return Bundle(model=model, labels=imagenet_categories(), preprocessing=backbone.preprocessing,
                  meta={"backbone": {"name": backbone_name}, "imagenet": True,
                        "source": f"{backbone_name} ImageNet classifier"})


def library_versions() -> dict:
    import PIL
    import safetensors
    import timm
    import torchvision

    from pocketvision import __version__

    return {"pocketvision": __version__, "torch": torch.__version__,
            "torchvision": torchvision.__version__, "timm": timm.__version__,
            "safetensors": safetensors.__version__, "pillow": PIL.__version__,
            "numpy": np.__version__, "python": platform.python_version()}


def save_bundle(path: Path, model: Classifier, labels: list[str], meta: dict) -> Path:
    """Write ``model`` and its description to ``path`` atomically; return the path.

    ``meta`` must hold at least ``backbone`` ({"name", "weights_hash"}); labels,
    preprocessing and versions are added here.
    """
    from safetensors.torch import save

    path = check_bundle_target(Path(path))
    document = dict(meta, format=FORMAT, format_version=FORMAT_VERSION, labels=list(labels),
                    preprocessing=model.backbone.preprocessing.to_dict(),
                    versions=library_versions())
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    data = save(tensors, metadata={"pocketvision": json.dumps(document)})
    write_atomically(path, data, durable=True)
    return path


def check_bundle_target(path: Path) -> Path:
    """Refuse targets that cannot become a bundle, before any work is lost."""
    if path.is_dir():
        raise BundleError(f"{path} is a folder; pass a file name such as {path / 'model.pvb'}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise BundleError(f"cannot create folder {path.parent} ({error.strerror})") from None
    if not os.access(path.parent, os.W_OK):
        raise BundleError(f"folder {path.parent} is not writable; choose another --out")
    return path


def read_meta(path: Path) -> dict:
    """The bundle's JSON description, without loading any weights."""
    from safetensors import safe_open

    path = Path(path)
    if not path.exists():
        raise BundleError(f"bundle {path} does not exist; train one with 'pocketvision train DATA --out {path}'")
    if path.is_dir():
        raise BundleError(f"{path} is a folder; pass a .pvb bundle file")
    try:
        with safe_open(str(path), framework="pt") as f:
            header = f.metadata() or {}
    except Exception:
        raise BundleError(f"{path} is not a pocketvision bundle (not a safetensors file)") from None
    if "pocketvision" not in header:
        raise BundleError(f"{path} is a safetensors file but not a pocketvision bundle")
    meta = json.loads(header["pocketvision"])
    if meta.get("format") != FORMAT:
        raise BundleError(f"{path} is not a pocketvision bundle (format {meta.get('format')!r})")
    if int(meta.get("format_version", 0)) > FORMAT_VERSION:
        raise BundleError(
            f"{path} is bundle format version {meta['format_version']}, newer than this "
            f"pocketvision reads ({FORMAT_VERSION}); upgrade with 'pip install -U pocketvision'"
        )
    return meta


def load_bundle(path: Path | str) -> Bundle:
    """Load a bundle into a model in eval mode, ready to predict."""
    from safetensors.torch import load_file

    path = Path(path)
    meta = read_meta(path)
    preprocessing = Preprocessing.from_dict(meta["preprocessing"])
    backbone = create_backbone(meta["backbone"]["name"], pretrained=False,
                               preprocessing=preprocessing)
    labels = list(meta["labels"])
    head = nn.Linear(backbone.spec.feature_dim, len(labels))
    model = Classifier(backbone, head)
    try:
        model.load_state_dict(load_file(str(path)))
    except (RuntimeError, KeyError) as error:
        raise BundleError(f"{path}: weights do not match {meta['backbone']['name']} ({str(error)[:120]})") from None
    model.eval().requires_grad_(False)
    return Bundle(model=model, labels=labels, preprocessing=preprocessing, meta=meta, path=path)
