"""What the web app's page runs, checked like every export: the site's backbone
graph with the bundle's head and unknown detection, at the size the game feeds it.

The page computes the head and novelty in JavaScript (web/head.js, web/novelty.js;
their browser tests compare them with model/head.py and model/novelty.py); here the
same graph runs in onnxruntime with the Python twins, so the report's ``web`` entry
says how the page's answers compare with the bundle's on the verification images.

At another input size than the bundle's (``--web-input``), features shift, and a
novelty threshold fitted at the bundle's size would call known frames unknown: the
threshold is fitted again at the page's size by the bundle's own rule (95 % of the
training images accepted, judged out of fold), when those images are still there.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from pocketvision.data.dataset import HASH_DECODE_SIZE, Sample, label_indices
from pocketvision.data.grouping import assign_groups, difference_hash
from pocketvision.data.images import load_rgb
from pocketvision.data.preprocessing import Preprocessing
from pocketvision.exports.contract import contract
from pocketvision.exports.formats import Runner
from pocketvision.exports.verification import unchanged_records
from pocketvision.features.extraction import sample_features
from pocketvision.inference.predictor import Predictor, load_predictor
from pocketvision.model.head import fit_linear_head
from pocketvision.model.novelty import NoveltyModel, calibrate, out_of_fold


def page_spec(bundle_spec: Preprocessing, size: int | None) -> Preprocessing:
    """The preprocessing of the game's frames: the bundle's, at ``size`` pixels."""
    crop = min(size or bundle_spec.crop, bundle_spec.crop)
    resize = round(crop * bundle_spec.resize / bundle_spec.crop)
    return dataclasses.replace(bundle_spec, resize=resize, crop=crop)


def page_runner(model: Path, spec: Preprocessing, novelty: NoveltyModel | None) -> Runner:
    """The page's model as a Runner: the site's bundle (its graph resolved as the page
    resolves it), fed frames prepared at ``spec``, with ``novelty`` (the page's own
    calibration) for unknown detection."""
    import onnxruntime

    predictor = load_predictor(model)
    predictor = dataclasses.replace(predictor, novelty=novelty,
                                    meta=predictor.meta.replace(preprocessing=spec))
    mean = np.asarray(spec.mean, np.float32).reshape(1, 3, 1, 1)
    std = np.asarray(spec.std, np.float32).reshape(1, 3, 1, 1)

    def run_with_novelty(image: np.ndarray) -> tuple[np.ndarray, float | None]:
        probabilities, scores = predictor.classify((image - mean) / std)  # image: 0..1
        return probabilities[0], None if scores is None else float(scores[0])

    found = contract(predictor, "web")
    return Runner(contract=found, runtime=f"onnxruntime {onnxruntime.__version__} (the page: "
                                          "the same graph in onnxruntime-web)",
                  run=lambda image: run_with_novelty(image)[0],
                  run_with_novelty=run_with_novelty if novelty is not None else None)


def page_novelty(predictor: Predictor, spec: Preprocessing) -> tuple[NoveltyModel | None, str]:
    """The unknown detection for frames at ``spec``, and a note saying how it was set."""
    bundle_spec, novelty = predictor.preprocessing, predictor.novelty
    if novelty is None or spec.crop == bundle_spec.crop:
        return novelty, f"the page runs at the bundle's {bundle_spec.crop} px"
    samples = _training_samples(predictor)
    if len(samples) < 2:
        return novelty, (f"the training images are gone, so its unknown detection keeps the "
                         f"{bundle_spec.crop} px threshold and calls more known frames unknown")
    labels = predictor.labels
    targets = label_indices(samples, labels)
    large = sample_features(predictor.extractor, bundle_spec, samples)
    small = sample_features(predictor.extractor, spec, samples, description="Features at the page's size")
    settings = predictor.meta.training

    def fit(x, y):
        return fit_linear_head(x, y, len(labels), settings.get("weight_decay", 0.05),
                               settings.get("max_iterations", 200), settings.get("std_floor", 1.0))

    _, judged = out_of_fold(large, targets, [s.group for s in samples], len(labels), fit, also=small)
    scale, threshold = calibrate(judged)
    return NoveltyModel(novelty.bank, scale, threshold), (
        f"unknown detection fitted again at {spec.crop} px on {len(samples)} training images "
        "(95 % accepted, judged out of fold)")


def _training_samples(predictor: Predictor) -> list[Sample]:
    """The bundle's training images that are still there unchanged, grouped by burst."""
    samples = [Sample(Path(r.path), r.label, r.sha256,
                      difference_hash(load_rgb(r.path, at_least=HASH_DECODE_SIZE)))
               for r in unchanged_records(predictor.meta.training_images, predictor.path)]
    return assign_groups(samples)
