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
    "train": "pocketvision.training",
    "TrainResult": "pocketvision.training",
    "TrainConfig": "pocketvision.config",
    "load_bundle": "pocketvision.model",
    "save_bundle": "pocketvision.model",
    "Bundle": "pocketvision.model",
    "evaluate": "pocketvision.evaluation",
    "Evaluation": "pocketvision.evaluation",
    "predict": "pocketvision.inference",
    "export": "pocketvision.exports.job",
    "predict_imagenet": "pocketvision.inference",
    "create_backbone": "pocketvision.backbones",
    "list_backbones": "pocketvision.backbones",
    "register_backbone": "pocketvision.backbones",
}
# the whole error tree (errors.py), so ``except pv.SettingError`` works as it reads
_EXPORTS |= dict.fromkeys((
    "PocketVisionError", "DatasetError", "ImageError", "BackboneError", "WeightsUnavailableError",
    "BundleError", "ExportError", "RuntimeUnavailable", "LiveError", "NotThereError", "SettingError",
    "MissingExtraError"), "pocketvision.errors")

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'pocketvision' has no attribute {name!r}")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
