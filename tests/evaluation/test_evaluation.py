"""Metrics by hand-checked examples, and the evaluation report pictures."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import save
from PIL import Image

from pocketvision.errors import DatasetError
from pocketvision.evaluation.job import evaluate
from pocketvision.evaluation.metrics import calibration, summarize


def test_metrics_on_a_known_confusion():
    y_true = np.array([0, 0, 0, 1, 1, 2])
    predicted = np.array([0, 0, 1, 1, 1, 0])
    probabilities = np.eye(3)[predicted] * 0.8 + 0.2 / 3
    result = summarize(y_true, probabilities, ["a", "b", "c"])
    assert result["confusion"] == [[2, 1, 0], [0, 2, 0], [1, 0, 0]]
    assert result["accuracy"] == pytest.approx(4 / 6)
    assert result["per_class"]["a"] == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "support": 3})
    assert result["per_class"]["b"]["precision"] == pytest.approx(2 / 3)
    assert result["per_class"]["c"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}


def test_expected_calibration_error():
    # 4 answers at 0.9 confidence, 3 right: |0.75 - 0.9| = 0.15 on all of them
    probabilities = np.array([[0.9, 0.1]] * 4)
    assert calibration(np.array([0, 0, 0, 1]), probabilities)["ece"] == pytest.approx(0.15)
    # perfectly calibrated when confidence matches accuracy
    assert calibration(np.array([0, 1]), np.array([[0.5, 0.5]] * 2))["ece"] == pytest.approx(0.0)


def test_evaluate_writes_a_report_people_can_read(trained, fashion3, artifacts):
    report_dir = artifacts / "evaluation-report"
    evaluation = evaluate(trained.bundle, fashion3, report_dir=report_dir)
    document = evaluation.to_json()
    assert document["accuracy"] == trained.val_accuracy  # evaluated on val/, like training
    assert sum(document["per_class"][c]["support"] for c in document["classes"]) == 45
    for name in ("confusion_matrix", "misclassified", "calibration"):
        with Image.open(evaluation.report[name]) as picture:
            assert picture.width >= 500 and picture.height >= 250
    assert json.loads((report_dir / "evaluation.json").read_text())["accuracy"] == document["accuracy"]


def test_gallery_shows_the_misclassified(trained, fashion3, tmp_path, monkeypatch):
    data = tmp_path / "data"
    for label in ("t-shirt", "sneaker"):
        for k, source in enumerate(sorted((fashion3 / "val" / label).iterdir())[:3]):
            (data / label).mkdir(parents=True, exist_ok=True)
            (data / label / source.name).write_bytes(source.read_bytes())
    # sneakers filed under "t-shirt": the model must call them sneakers, so all are wrong
    for source in sorted((fashion3 / "val" / "sneaker").iterdir())[3:6]:
        (data / "t-shirt" / f"mislabelled-{source.name}").write_bytes(source.read_bytes())
    from matplotlib.axes import Axes

    captions = []  # each tile's caption, as drawn
    drawn = Axes.set_title
    monkeypatch.setattr(Axes, "set_title", lambda self, text, *a, **k: (captions.append(text),
                                                                          drawn(self, text, *a, **k))[1])
    evaluation = evaluate(trained.bundle, data, report_dir=tmp_path / "report")
    # hardening 3, item 30: a tile names the class folder too (IMG_2001.jpg is in two classes)
    tiles = [caption for caption in captions if "\ntrue: " in caption]
    assert tiles and all(caption.startswith(("t-shirt/", "sneaker/")) for caption in tiles), tiles
    wrong = evaluation.misclassified()
    assert {path.name for path, *_ in wrong} >= {f"mislabelled-{p.name}" for p in
                                                 sorted((fashion3 / "val" / "sneaker").iterdir())[3:6]}
    assert all(truth == "t-shirt" and predicted == "sneaker" for path, truth, predicted, _ in wrong
               if path.name.startswith("mislabelled"))


def test_unknown_class_folder_is_named(trained, tmp_path):
    save(np.zeros((28, 28), np.uint8), tmp_path / "hats" / "a.png")
    with pytest.raises(DatasetError, match="does not know: hats"):
        evaluate(trained.bundle, tmp_path)


def test_evaluating_training_images_is_flagged(trained, fashion3):
    on_val = evaluate(trained.bundle, fashion3 / "val")
    on_train = evaluate(trained.bundle, fashion3 / "train")
    assert on_val.seen_in_training == 0
    assert on_train.seen_in_training == 105
    assert on_train.to_json()["seen_in_training"] == 105


def test_gallery_without_mistakes_shows_least_confident_answers(fashion3, tmp_path):
    from pocketvision.evaluation.job import Evaluation
    from pocketvision.evaluation.report import write_report

    paths = sorted((fashion3 / "val" / "trouser").iterdir())[:4]
    probabilities = np.array([[0.1, 0.9], [0.4, 0.6], [0.2, 0.8], [0.05, 0.95]])
    y_true = np.ones(4, dtype=np.int64)
    evaluation = Evaluation(summarize(y_true, probabilities, ["bag", "trouser"]), paths, y_true,
                            probabilities)
    assert [p for p, *_ in evaluation.least_confident_correct(2)] == [paths[1], paths[2]]
    written = write_report(evaluation, tmp_path)
    with Image.open(written["misclassified"]) as picture:
        assert picture.height > 300  # a grid of images, not just a line of text
