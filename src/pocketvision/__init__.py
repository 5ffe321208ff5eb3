"""pocketvision: your own image classifier, trained in seconds, on your phone.

The public API (imported lazily, so ``import pocketvision`` stays fast)::

    import pocketvision as pv

    result = pv.train("photos/", "model.pvb")            # photos/<class>/*.jpg
    bundle = pv.load_bundle("model.pvb")
    pv.predict(bundle, ["cat.jpg"])                      # [{"path", "label", "probabilities"}]
    pv.evaluate(bundle, "photos-val/", report_dir="report/")
    pv.export(bundle, "exports/", ["onnx"])             # verified in onnxruntime
"""

from __future__ import annotations

import importlib

from pocketvision.config import VERSION as __version__

_EXPORTS = {
    "train": "pocketvision.training.job",
    "TrainResult": "pocketvision.training.job",
    "TrainConfig": "pocketvision.config",
    "load_bundle": "pocketvision.model.bundle",
    "save_bundle": "pocketvision.model.bundle",
    "Bundle": "pocketvision.model.bundle",
    "evaluate": "pocketvision.evaluation.job",
    "Evaluation": "pocketvision.evaluation.job",
    "predict": "pocketvision.inference.prediction",
    "export": "pocketvision.exports.job",
    "predict_imagenet": "pocketvision.inference.prediction",
    "create_backbone": "pocketvision.backbones",
    "list_backbones": "pocketvision.backbones",
    "register_backbone": "pocketvision.backbones",
    "PocketVisionError": "pocketvision.errors",
    "DatasetError": "pocketvision.errors",
    "ImageError": "pocketvision.errors",
    "BackboneError": "pocketvision.errors",
    "WeightsUnavailableError": "pocketvision.errors",
    "BundleError": "pocketvision.errors",
    "ExportError": "pocketvision.errors",
    "MissingExtraError": "pocketvision.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pocketvision' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
