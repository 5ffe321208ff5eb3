"""What every exported file promises its caller, and the graph that keeps it.

Every export takes one RGB image already resized and centre-cropped to
``crop x crop`` (steps 1-3 of :mod:`pocketvision.data.preprocessing`), laid out NCHW,
float32 in 0..1, and returns class probabilities. Normalization (mean/std) happens
inside the graph, so an app only has to resize, crop and divide by 255. The
contract travels inside each file (ONNX metadata_props, extra files in .ptl, ...)
so that ``pocketvision inspect`` and any app can read it back without our code.

The second half of this module is the caller's side: preparing a runtime's input
from a contract read back from a file (verification, ``bench``, ``control``). The
graph that keeps the contract is in :mod:`pocketvision.exports.graph`; this module
imports no torch, so ``inspect`` does not either.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pocketvision.config import NOVELTY_THRESHOLD
from pocketvision.data.images import load_rgb
from pocketvision.data.preprocessing import Preprocessing, resize_and_crop
from pocketvision.errors import ExportError

INPUT_NAME = "image"
OUTPUT_NAME = "probabilities"
NOVELTY_OUTPUT = "novelty"
CONTRACT_KEY = "pocketvision.contract"  # the metadata key, in every format that has keys

if TYPE_CHECKING:
    from pocketvision.model.bundle import Bundle


def contract(bundle: Bundle, export_format: str, precision: str = "fp32") -> dict:
    """The self-description written into an exported file (JSON-serializable)."""
    spec = bundle.preprocessing
    return {
        "format": export_format,
        "precision": precision,
        "labels": list(bundle.labels),
        "input": {"name": INPUT_NAME, "shape": [1, 3, spec.crop, spec.crop], "layout": "NCHW",
                  "dtype": "float32", "range": [0, 1], "channel_order": spec.channel_order},
        "output": {"name": OUTPUT_NAME, "kind": "probabilities"},
        # resize/crop are the caller's job; normalization is inside the graph
        "preprocessing": {"resize": spec.resize, "crop": spec.crop,
                          "interpolation": spec.interpolation, "mean": None, "std": None,
                          "normalization_in_graph": {"mean": list(spec.mean),
                                                     "std": list(spec.std)}},
        "backbone": bundle.backbone_name,
    }


def novelty_entry(**where) -> dict:
    """The contract's ``novelty``: where the file gives it (``output`` name or
    index, or ``method``) and the threshold above which a frame is unknown."""

    return {**where, "threshold": NOVELTY_THRESHOLD}


def contract_json(bundle: Bundle, export_format: str, precision: str = "fp32") -> str:
    return json.dumps(contract(bundle, export_format, precision), sort_keys=True)


def contract_from(metadata: dict, path) -> dict:
    """The contract stored under CONTRACT_KEY in a file's metadata (key -> JSON text)."""
    if CONTRACT_KEY not in metadata:
        raise ExportError(f"{path}: no {CONTRACT_KEY} metadata; not a pocketvision export")
    return json.loads(metadata[CONTRACT_KEY])


def artifact_input(path: Path, found: dict) -> np.ndarray:
    """The image file prepared exactly as the contract ``found`` in an export says."""
    return image_input(load_rgb(path, at_least=found["preprocessing"]["resize"]), found)


def image_input(image, found: dict) -> np.ndarray:
    """(1, 3, H, W) or (1, H, W, 3) float32 from an RGB PIL image, per the contract."""
    steps = found["preprocessing"]
    spec = Preprocessing(resize=steps["resize"], crop=steps["crop"], mean=(0.0,) * 3,
                         std=(1.0,) * 3)
    pixels = np.asarray(resize_and_crop(image, spec), np.float32)
    scale = 255.0 if found["input"]["range"] == [0, 255] else 1.0
    image = pixels * (scale / 255.0)  # (H, W, 3)
    if steps.get("mean") is not None:
        image = (image - np.asarray(steps["mean"], np.float32)) / np.asarray(steps["std"], np.float32)
    if found["input"]["layout"] == "NCHW":
        image = image.transpose(2, 0, 1)
    return np.ascontiguousarray(image[None], dtype=np.float32)
