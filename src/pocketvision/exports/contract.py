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
from pocketvision.data.class_names import label_problem
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
    preprocessing = bundle.preprocessing
    return {
        "format": export_format,
        "precision": precision,
        "labels": list(bundle.labels),
        "input": {"name": INPUT_NAME, "shape": [1, 3, preprocessing.crop, preprocessing.crop], "layout": "NCHW",
                  "dtype": "float32", "range": [0, 1], "channel_order": preprocessing.channel_order},
        "output": {"name": OUTPUT_NAME, "kind": "probabilities"},
        # resize/crop are the caller's job; normalization is inside the graph
        "preprocessing": {"resize": preprocessing.resize, "crop": preprocessing.crop,
                          "interpolation": preprocessing.interpolation, "mean": None, "std": None,
                          "normalization_in_graph": {"mean": list(preprocessing.mean),
                                                     "std": list(preprocessing.std)}},
        "backbone": bundle.backbone_name,
    }


def novelty_entry(**where) -> dict:
    """The contract's ``novelty``: where the file gives it (``output`` name or
    index, or ``method``) and the threshold above which a frame is unknown."""

    return {**where, "threshold": NOVELTY_THRESHOLD}


def contract_from(metadata: dict, path) -> dict:
    """The contract stored under CONTRACT_KEY in a file's metadata (key -> JSON text)."""
    return checked_contract(contract_text(metadata, path), path)


def contract_text(metadata: dict, path) -> str | bytes:
    """The contract's JSON text in a file's metadata; a file without one is not ours."""
    if CONTRACT_KEY not in metadata:
        raise ExportError(f"{path}: no {CONTRACT_KEY} metadata; not a pocketvision export")
    return metadata[CONTRACT_KEY]


MAX_LABELS = 100_000
INPUT_DTYPES = ("float32", "uint8")  # what the exports' inputs are


def checked_contract(text: str | bytes, path, labels: list | None = None) -> dict:
    """The contract JSON read back from a file, checked as every format's reader
    relies on it (``labels``: where the format keeps them apart from the contract).
    Anything else is one ExportError line: a damaged or hostile file is never a
    traceback."""
    try:
        found = json.loads(text.decode("utf-8") if isinstance(text, bytes) else text)
    except (UnicodeDecodeError, ValueError) as error:
        raise _damaged(path, f"not JSON: {type(error).__name__}") from None
    if not isinstance(found, dict):
        raise _damaged(path, "not an object")
    if labels is not None:
        found["labels"] = labels
    problem = _contract_problem(found)
    if problem:
        raise _damaged(path, problem)
    return found


def _contract_problem(found: dict) -> str | None:
    labels, given, steps = found.get("labels"), found.get("input"), found.get("preprocessing")
    if not isinstance(labels, list) or not labels or len(labels) > MAX_LABELS or \
            not all(isinstance(label, str) and label for label in labels):
        return "its labels are not a list of class names"
    problem = next(filter(None, map(label_problem, labels)), None)
    if problem:
        return problem
    if not all(isinstance(found.get(key), str) for key in ("format", "precision")):
        return "no format or precision"
    if not isinstance(given, dict) or not isinstance(given.get("name", ""), str) or \
            given.get("layout") not in ("NCHW", "NHWC") or given.get("range") not in ([0, 1], [0, 255]):
        return "its input is not described (name, layout NCHW/NHWC, range [0, 1] or [0, 255])"
    if given.get("dtype") not in INPUT_DTYPES:
        return f"its input has no known dtype (one of {', '.join(INPUT_DTYPES)})"
    if not isinstance(found.get("output"), dict):
        return "its output is not described"
    if not isinstance(steps, dict) or not all(
            isinstance(steps.get(k), int) and not isinstance(steps.get(k), bool)
            and 1 <= steps[k] <= 1024 for k in ("resize", "crop")) or steps["crop"] > steps["resize"]:
        return "its resize and crop are not sizes from 1 to 1024 pixels, crop <= resize"
    for key in ("mean", "std"):
        value = steps.get(key)
        if value is not None and (not isinstance(value, list) or len(value) != 3 or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)):
            return f"its preprocessing {key} is not 3 numbers"
    return None


def _damaged(path, what: str) -> ExportError:
    return ExportError(f"{path}: its pocketvision contract is damaged ({what}); export it again")


def read_bounded(stream, limit: int, what: str) -> bytes:
    """At most ``limit`` bytes of ``stream`` (a zip member, a file), or ExportError
    naming ``what``: a member that decompresses to gigabytes is refused, not read."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise ExportError(f"{what} is larger than {limit // 2**20} MB; not a pocketvision export")
    return data


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
