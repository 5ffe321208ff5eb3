"""Training end to end on real images with the real default backbone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from conftest import SAMPLE_CLASSES, sample_dir, subset

from pocketvision.backbones import create_backbone
from pocketvision.config import TrainConfig
from pocketvision.inference.prediction import predict
from pocketvision.model.bundle import load_bundle
from pocketvision.training.job import train


def test_few_shot_fashion_is_learned(trained):
    assert trained.classes == SAMPLE_CLASSES
    assert (trained.train_images, trained.val_images) == (105, 45)
    assert trained.val_accuracy >= 0.9
    assert trained.skipped == []


def test_retraining_reuses_every_feature(trained, fashion3, tmp_path):
    again = train(fashion3, tmp_path / "again.pvb")
    assert (again.features.computed, again.features.cached) == (0, 150)
    assert again.val_accuracy == trained.val_accuracy  # deterministic


def test_augmented_views_are_extra_cached_training_features(fashion3, tmp_path):
    result = train(fashion3, tmp_path / "aug.pvb", TrainConfig(augment=1))
    assert result.features.computed == 105  # only the new views; originals were cached
    assert result.val_accuracy >= 0.9


def test_none_class_and_threshold(tmp_path, trained):
    root = tmp_path / "data"
    subset(root, ["t-shirt", "sneaker"], 12)
    subset(tmp_path / "other", ["trouser"], 12)
    (tmp_path / "other" / "trouser").rename(root / "none")  # a class named none
    result = train(root, tmp_path / "none.pvb", TrainConfig(val_fraction=0.25))
    assert "none" in result.classes and result.val_accuracy >= 0.8
    image = next((root / "none").iterdir())
    [plain] = predict(result.bundle, [image])
    [strict] = predict(result.bundle, [image], threshold=1.01)
    assert plain["label"] == "none" and strict["label"] == "uncertain"
    assert list(plain["probabilities"].values()) == sorted(plain["probabilities"].values(), reverse=True)


def test_fine_tuning_trains_only_the_last_blocks(tmp_path):
    root = subset(tmp_path / "data", ["t-shirt", "trouser"], 8)
    config = TrainConfig(fine_tune=1, fine_tune_epochs=1, fine_tune_lr=1e-3, val_fraction=0.25)
    result = train(root, tmp_path / "tuned.pvb", config)
    tuned = load_bundle(result.bundle).model.backbone
    pretrained = create_backbone("efficientnet_lite0")
    *frozen, last = zip(pretrained.blocks(), tuned.blocks())
    assert all(torch.equal(a, b) for before, after in frozen
               for a, b in zip(before.parameters(), after.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(last[0].parameters(), last[1].parameters()))
    assert result.val_images == 4 and result.val_accuracy is not None


def test_fine_tune_rejects_too_many_blocks(fashion3, tmp_path):
    from pocketvision.errors import PocketVisionError

    with pytest.raises(PocketVisionError, match="choose 1 to"):
        train(fashion3, tmp_path / "x.pvb", TrainConfig(fine_tune=99, fine_tune_epochs=1))


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT])
def test_interrupted_training_keeps_the_previous_bundle(trained, tmp_path, how):
    """Kill ``pocketvision train`` while it computes features (cold cache)."""
    from fashion_mnist import CLASS_NAMES, write_few_shot

    # 600 images, all new to the fresh cache below: seconds of features on two cores, so
    # the signal lands while they are computed even on a busy machine (with 150, a run
    # of the whole suite once saw the command finish before the signal came)
    data = write_few_shot(tmp_path / "data", list(CLASS_NAMES[:3]), 200)
    target = tmp_path / "model.pvb"
    target.write_bytes(trained.bundle.read_bytes())
    cache = tmp_path / "cache"
    env = dict(os.environ, POCKETVISION_CACHE_DIR=str(cache))
    # Ctrl-C reaches the command however the suite was started: a shell starts a
    # background job (`pytest &`) with SIGINT ignored, and a child inherits that
    process = subprocess.Popen(
        [sys.executable, "-m", "pocketvision.cli", "train", str(data), "--out", str(target)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 120
    while not (cache / "features.sqlite").exists() and time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()
        time.sleep(0.05)
    process.send_signal(how)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode != 0
    if how == signal.SIGINT:
        assert process.returncode == 130 and b"Traceback" not in stderr
    assert target.read_bytes() == trained.bundle.read_bytes()
    assert load_bundle(target).labels == trained.classes
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".model.pvb")] == []


def test_a_studio_project_folder_is_a_training_folder(tmp_path):
    """`train PROJECT/` trains on PROJECT/samples/; a class that is one capture
    burst gets no validation images (they would leak) and the output says so."""

    from pocketvision.training.job import train

    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    burst = project / "samples" / "up"
    burst.mkdir(parents=True)
    for k, source in enumerate(sorted((sample_dir() / "sneaker").iterdir())[:12]):
        (burst / f"20261130T101010-ab12-{k:04d}.png").write_bytes(source.read_bytes())
    photos = project / "samples" / "down"
    photos.mkdir()
    for source in sorted((sample_dir() / "trouser").iterdir())[:12]:
        (photos / source.name).write_bytes(source.read_bytes())
    result = train(project, project / "models" / "model.pvb")
    assert result.classes == ["down", "up"]
    assert not any(s.label == "up" for s in result.split.val)
    [warning] = result.warnings
    assert "'up' is one capture burst" in warning and "record a second burst" in warning
