"""Classify live frames with a bundle, or with an export in its own runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from pocketvision.config import NOVELTY_THRESHOLD
from pocketvision.data.preprocessing import to_array
from pocketvision.exports import load_runner
from pocketvision.exports.contract import image_input
from pocketvision.inference.predictor import load_predictor
from pocketvision.model.bundle import SUFFIX

FrameClassifier = Callable[[np.ndarray], dict]  # RGB (H, W, 3) uint8 -> {label: p}


def load_frame_classifier(model: Path) -> tuple[FrameClassifier, list[str]]:
    """A ``.pvb`` bundle runs as its cached backbone graph + head (onnxruntime, like
    its ONNX export); an export file runs in its own runtime."""

    model = Path(model)
    if model.suffix == SUFFIX:
        return _bundle_classifier(model)
    return _export_classifier(model)


def _bundle_classifier(path: Path):
    predictor = load_predictor(path)

    def classify(rgb: np.ndarray) -> dict:
        image = to_array(Image.fromarray(rgb), predictor.preprocessing)  # resized, cropped, normalized
        probabilities, novelty = predictor.classify(image[None])
        if novelty is not None and novelty[0] > NOVELTY_THRESHOLD:  # like nothing trained on:
            return {label: 0.0 for label in predictor.labels}  # no class is confirmed
        return dict(zip(predictor.labels, probabilities[0].tolist()))

    return classify, list(predictor.labels)


def _export_classifier(path: Path):
    runner = load_runner(path)
    labels = runner.contract["labels"]

    def classify(rgb: np.ndarray) -> dict:
        probabilities = runner.run(image_input(Image.fromarray(rgb), runner.contract))
        return dict(zip(labels, np.asarray(probabilities, float).tolist()))

    return classify, labels
