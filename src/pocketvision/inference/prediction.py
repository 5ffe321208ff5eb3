"""Classify image files with a bundle, or with a backbone's own ImageNet head."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pocketvision.config import NOVELTY_THRESHOLD
from pocketvision.data.images import is_image_name
from pocketvision.data.preprocessing import Preprocessing, load_array
from pocketvision.errors import DatasetError, ImageError
from pocketvision.features.extraction import BATCH_SIZE
from pocketvision.inference.predictor import as_predictor
from pocketvision.model.bundle import imagenet_bundle
from pocketvision.model.novelty import UNKNOWN

UNCERTAIN = "uncertain"



def expand_inputs(inputs: list[Path | str]) -> list[Path]:
    """Files as given, folders expanded recursively to their image files. A path
    that does not exist is kept: it gets its own error entry, like a bad file."""
    paths: list[Path] = []
    for given in map(Path, inputs):
        if given.is_dir():
            paths += sorted(p for p in given.rglob("*") if p.is_file() and is_image_name(p))
        else:
            paths.append(given)
    if not paths:
        raise DatasetError(f"no image files found in {', '.join(map(str, inputs))}")
    return paths


def _error_entry(path: Path, error: str) -> dict:
    return {"path": str(path), "label": None, "error": error}


def predict(bundle, inputs: list[Path | str], top: int | None = None,
            threshold: float | None = None,
            novelty_threshold: float = NOVELTY_THRESHOLD) -> list[dict]:
    """One entry per image: ``{"path", "label", "probabilities", "novelty"}``,
    probabilities sorted from highest to lowest (the best ``top`` only, if given).
    ``novelty`` (0..1, for bundles that have unknown detection) says how unlike the
    training images the image is; above ``novelty_threshold`` the label is
    ``"unknown"`` (1 turns that off). With ``threshold``, an image whose best
    probability is below it gets the label ``"uncertain"``. An unreadable image gets
    ``{"path", "label": None, "error"}``. ``bundle``: a bundle file, a loaded
    ``Bundle`` or a ``Predictor``."""
    predictor = as_predictor(bundle)
    rules = _Rules(predictor.labels, top, threshold, novelty_threshold)
    return _classify(expand_inputs(inputs), predictor.preprocessing, predictor.classify, rules)


def predict_imagenet(backbone_name: str, inputs: list[Path | str], top: int | None = 5,
                     weights: Path | None = None, threshold: float | None = None) -> list[dict]:
    """Classify with a backbone's pretrained ImageNet classifier (1,000 categories)."""

    return predict(imagenet_bundle(backbone_name, weights), inputs, top, threshold)


@dataclass(frozen=True)
class _Rules:
    """How one image's outputs become its entry."""

    labels: list[str]
    top: int | None
    threshold: float | None
    novelty_threshold: float

    def entry(self, path: Path, probabilities: np.ndarray, novelty: float | None) -> dict:
        order = np.argsort(-probabilities, kind="stable")
        if self.top is not None:
            order = order[: max(1, self.top)]
        best = int(order[0])
        label = self.labels[best]
        if self.threshold is not None and probabilities[best] < self.threshold:
            label = UNCERTAIN
        if novelty is not None and novelty > self.novelty_threshold:
            label = UNKNOWN
        ranked = {self.labels[k]: round(float(probabilities[k]), 6) for k in order}
        entry = {"path": str(path), "label": label, "probabilities": ranked}
        if novelty is not None:
            entry["novelty"] = round(float(novelty), 6)
        return entry


def _classify(paths, spec: Preprocessing, forward, rules: _Rules) -> list[dict]:
    """Decode and classify in small batches; a bad file becomes an error entry."""
    results: list[dict] = []
    for start in range(0, len(paths), BATCH_SIZE):
        readable, tensors = [], []
        for path in paths[start : start + BATCH_SIZE]:
            if not path.exists():
                results.append(_error_entry(path, "does not exist"))
                continue
            try:
                tensors.append(load_array(path, spec))
                readable.append(path)
            except ImageError as error:
                results.append(_error_entry(path, str(error).split(": ", 1)[-1]))
        if tensors:
            probabilities, novelty = forward(np.stack(tensors))  # (B, classes), (B,) or None
            novelty = [None] * len(readable) if novelty is None else novelty
            results += [rules.entry(p, row, n) for p, row, n in zip(readable, probabilities, novelty)]
    order = {str(p): k for k, p in enumerate(paths)}
    return sorted(results, key=lambda entry: order[entry["path"]])
