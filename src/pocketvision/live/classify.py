"""Classify live frames with a bundle, or with an export in its own runtime."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

FrameClassifier = Callable[[np.ndarray], dict]  # RGB (H, W, 3) uint8 -> {label: p}


def load_frame_classifier(model: Path) -> tuple[FrameClassifier, list[str]]:
    """A ``.pvb`` bundle runs in PyTorch; an export file runs in its runtime."""
    model = Path(model)
    if model.suffix == ".pvb":
        return _bundle_classifier(model)
    return _export_classifier(model)


def _bundle_classifier(path: Path):
    import torch

    from pocketvision.bundle import load_bundle
    from pocketvision.preprocessing import to_tensor

    bundle = load_bundle(path)
    spec = bundle.preprocessing

    def classify(rgb: np.ndarray) -> dict:
        image = to_tensor(Image.fromarray(rgb), spec)  # resizes, crops and normalizes
        with torch.inference_mode():
            probabilities = bundle.model(image[None]).softmax(-1)[0].numpy()
        return dict(zip(bundle.labels, probabilities.tolist()))

    return classify, list(bundle.labels)


def _export_classifier(path: Path):
    from pocketvision.exporters import exporter_for_file
    from pocketvision.runners import load_runner
    from pocketvision.verify import image_input

    runner = load_runner(exporter_for_file(path).name, path)
    labels = runner.contract["labels"]

    def classify(rgb: np.ndarray) -> dict:
        probabilities = runner.run(image_input(Image.fromarray(rgb), runner.contract))
        return dict(zip(labels, np.asarray(probabilities, float).tolist()))

    return classify, labels
