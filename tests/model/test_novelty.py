"""Unknown detection: every new bundle scores how unlike its training images an
image is; predict, evaluate and control use it, and old bundles still work."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_cli, save
from fashion_mnist import write_few_shot

from pocketvision.inference.predictor import load_predictor


@pytest.fixture(scope="module")
def unknown_images(tmp_path_factory):
    """Fashion-MNIST classes the session's model never saw (it knows sneaker,
    t-shirt and trouser)."""
    return write_few_shot(tmp_path_factory.mktemp("unknown"), ["bag", "dress", "pullover"], 15,
                          offset=2000)


def test_new_bundles_carry_a_threshold_that_accepts_most_known_images(trained, fashion3):
    predictor = load_predictor(trained.bundle)
    assert predictor.novelty is not None and predictor.meta.novelty["accepted"] == 0.95
    assert predictor.novelty.bank.shape == (len(trained.split.train), 1280)
    # the validation images (known classes, never trained on) are mostly accepted
    assert trained.metrics["novelty_rejected"] <= 0.15


def test_predict_calls_photos_of_other_things_unknown(trained, photos, tmp_path):
    cat = save(photos["chelsea"], tmp_path / "cat.jpg")
    coffee = save(photos["coffee"], tmp_path / "coffee.jpg")
    done = run_cli("predict", trained.bundle, cat, coffee, "--json")
    assert done.returncode == 0, done.stderr
    for entry in json.loads(done.stdout):
        assert entry["label"] == "unknown" and entry["novelty"] > 0.5
    # 1 turns unknown detection off: the best class again
    done = run_cli("predict", trained.bundle, cat, "--novelty-threshold", "1", "--json")
    [entry] = json.loads(done.stdout)
    assert entry["label"] in trained.classes


def test_evaluate_reports_known_rejection_auroc_and_names_every_file(trained, fashion3,
                                                                       unknown_images):
    done = run_cli("evaluate", trained.bundle, fashion3, "--unknown", unknown_images, "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["novelty_rejected"] <= 0.15
    unknown = document["unknown"]
    assert unknown["images"] == 45 and unknown["auroc"] > 0.7 and unknown["rejected"] > 0.2
    images = document["images"]
    assert len(images) == document["count"] == 45
    assert {tuple(sorted(e)) for e in images} == {
        ("confidence", "label", "novelty", "path", "predicted")}
    assert all((fashion3 / "val").as_posix() in e["path"] for e in images)


def test_an_unknown_frame_presses_nothing_in_control(trained, photos, fashion3):
    from PIL import Image

    from pocketvision.live.classify import load_frame_classifier

    classify, labels = load_frame_classifier(trained.bundle)
    cat = np.asarray(Image.fromarray(photos["chelsea"]).convert("RGB").resize((640, 480)))
    assert max(classify(cat).values()) == 0.0  # no class can be confirmed
    trouser = next((fashion3 / "val" / "trouser").iterdir())
    frame = np.asarray(Image.open(trouser).convert("RGB").resize((640, 480)))
    answer = classify(frame)
    assert max(answer, key=answer.get) == "trouser" and answer["trouser"] > 0.5


def test_bundles_from_before_unknown_detection_still_predict(trained, fashion3, tmp_path):
    from pocketvision.inference.prediction import predict
    from pocketvision.model.bundle import read_meta, read_tensors, write_bundle
    from pocketvision.model.novelty import BANK_TENSOR

    tensors = {k: v for k, v in read_tensors(trained.bundle).items() if k != BANK_TENSOR}
    old = write_bundle(tmp_path / "old.pvb", tensors, read_meta(trained.bundle).replace(novelty=None))
    [entry] = predict(old, [next((fashion3 / "val" / "sneaker").iterdir())])
    assert entry["label"] == "sneaker" and "novelty" not in entry
    assert load_predictor(old).novelty is None


def test_a_damaged_novelty_header_is_refused(trained, tmp_path):
    from pocketvision.errors import BundleError
    from pocketvision.model.bundle import read_meta, read_tensors, write_bundle

    meta = read_meta(trained.bundle)
    broken = write_bundle(tmp_path / "broken.pvb", read_tensors(trained.bundle),
                          meta.replace(novelty={**meta.novelty, "threshold": -1}))
    with pytest.raises(BundleError, match="novelty"):
        load_predictor(broken)
