"""The data doctor on real images with planted mistakes: moved images, a picture in
two classes, a leak from train/ into val/, a blank image, an unreadable file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import SAMPLE_CLASSES, run_cli, subset
from PIL import Image


@pytest.fixture(scope="module")
def messy(tmp_path_factory):
    root = tmp_path_factory.mktemp("messy")
    data = subset(root / "data", SAMPLE_CLASSES, 30)
    moved = {}
    for source, wrong in (("sneaker", "trouser"), ("trouser", "t-shirt"), ("t-shirt", "sneaker")):
        path = sorted((data / source).iterdir())[3]
        moved[str(path.rename(data / wrong / path.name))] = source
    copied = sorted((data / "sneaker").iterdir())[10]
    shutil.copy(copied, data / "trouser" / "copy.png")
    Image.fromarray(np.full((28, 28, 3), 128, np.uint8)).save(data / "t-shirt" / "blank.png")
    (data / "sneaker" / "notes.png").write_text("not an image")
    return data, moved, copied


def test_doctor_finds_the_planted_mistakes(messy, tmp_path, artifacts):
    data, moved, copied = messy
    done = run_cli("doctor", data, "--json", "--report", tmp_path / "report")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["images"] == 92 and document["classes"] == {"sneaker": 30, "t-shirt": 31, "trouser": 31}
    findings = document["findings"]
    assert all(set(f) == {"kind", "paths", "label", "suggested", "score", "why"} for f in findings)
    kinds = [f["kind"] for f in findings]
    assert kinds == sorted(kinds, key=["unreadable", "leak", "duplicate", "mislabeled",
                                       "single_burst", "imbalance", "outlier"].index)
    flagged = {f["paths"][0]: f["suggested"] for f in findings if f["kind"] == "mislabeled"}
    assert all(flagged.get(path) == source for path, source in moved.items()), flagged
    clean = [p for p in flagged if p not in moved and "copy" not in p and "blank" not in p]
    assert len(clean) <= 0.05 * 92
    [duplicate] = [f for f in findings if f["kind"] == "duplicate"]
    assert set(duplicate["paths"]) == {str(copied), str(data / "trouser" / "copy.png")}
    assert any(f["kind"] == "unreadable" and "notes.png" in f["paths"][0] for f in findings)
    assert any(f["kind"] in ("outlier", "mislabeled") and "blank.png" in f["paths"][0]
               for f in findings)
    for kind in ("mislabeled", "duplicate"):
        assert (tmp_path / "report" / f"{kind}.png").stat().st_size > 10_000
    for kind in ("mislabeled", "unreadable"):  # tiles name the class folder (and a reason)
        shutil.copy(tmp_path / "report" / f"{kind}.png", artifacts / f"doctor-{kind}.png")


def test_doctor_finds_leaks_single_bursts_and_small_classes(tmp_path):
    from conftest import sample_dir

    from pocketvision.training.doctor import diagnose

    data = subset(tmp_path / "data" / "train", SAMPLE_CLASSES, 20)
    subset(tmp_path / "data" / "val", SAMPLE_CLASSES, 5, start=20)
    leaked = sorted((data / "trouser").iterdir())[0]
    shutil.copy(leaked, tmp_path / "data" / "val" / "trouser" / "leaked.png")
    found = diagnose(tmp_path / "data")
    [leak] = [f for f in found.findings if f.kind == "leak"]
    assert set(leak.paths) == {str(leaked), str(tmp_path / "data" / "val" / "trouser" / "leaked.png")}

    project = tmp_path / "project" / "samples"
    for k, source in enumerate(sorted((sample_dir() / "sneaker").iterdir())[:20]):
        (project / "up").mkdir(parents=True, exist_ok=True)
        (project / "up" / f"20261130T101010-ab12-{k:04d}.png").write_bytes(source.read_bytes())
    subset(project, ["trouser"], 20)
    subset(project, ["t-shirt"], 4)
    found = diagnose(tmp_path / "project")  # a studio project: its samples/
    assert [f.label for f in found.findings if f.kind == "single_burst"] == ["up"]
    assert [f.label for f in found.findings if f.kind == "imbalance"] == ["t-shirt"]


def test_copies_in_one_class_are_duplicates_not_outliers(tmp_path):
    """Hardening 3, item 25: a class where a looping camera repeated frames (exact
    copies) reports the copies as duplicates, and measures outliers without them
    (the copies made the usual distance 0: 46 'outliers' at 224648.4x)."""
    from pocketvision.training.doctor import diagnose

    data = subset(tmp_path / "data", SAMPLE_CLASSES, 20)
    sneakers = sorted((data / "sneaker").iterdir())
    for k, source in enumerate(sneakers):  # every frame twice, as a looping camera gives it
        shutil.copy(source, data / "sneaker" / f"again-{k:02d}.png")
    found = diagnose(data)
    copies = [f for f in found.findings if f.kind == "duplicate"]
    assert len(copies) == 20 and all(f.label == "sneaker" and len(f.paths) == 2 for f in copies)
    assert "2 copies of the same picture in 'sneaker'" in copies[0].why
    outliers = [f for f in found.findings if f.kind == "outlier" and f.label == "sneaker"]
    assert len(outliers) <= 2 and all(f.score < 100 for f in outliers), outliers
