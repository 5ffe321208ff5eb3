"""Scanning folders, reporting broken files, and splitting without leaks."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import save
from PIL import Image

from pocketvision.data.dataset import load_split, scan_folder, split_by_group
from pocketvision.data.grouping import assign_groups, session_of
from pocketvision.errors import DatasetError


def make_awkward_folder(root, photos):
    """A class folder with every encoding we accept plus every kind of junk.

    Returns the set of file names that must be reported as broken.
    """
    good = root / "good"
    image = Image.fromarray(photos["coffee"]).resize((80, 60))
    good.mkdir(parents=True)
    image.save(good / "plain.jpg")
    image.convert("CMYK").save(good / "cmyk.jpg")
    Image.fromarray((np.asarray(image.convert("L"), np.uint16) * 257)).save(good / "deep16.png")
    image.convert("RGBA").save(good / "alpha.png")
    image.convert("P").save(good / "palette.png")
    image.save(good / "still.gif")
    image.save(good / "photo.webp")
    image.save(good / "photo.bmp")
    image.save(good / "café-ünïcödé 写真.png")
    (good / "sub").mkdir()
    image.save(good / "sub" / "nested.jpg")
    # silently ignored
    (good / ".hidden.jpg").write_bytes(b"junk")
    (good / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (good / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0")
    (good / "notes.txt").write_text("shot on a tuesday")
    # broken: must be reported by path and reason
    buffer = io.BytesIO()
    Image.fromarray(photos["chelsea"]).save(buffer, "JPEG")
    (good / "truncated.jpg").write_bytes(buffer.getvalue()[:2000])
    (good / "empty.png").write_bytes(b"")
    (good / "actually-text.jpg").write_text("<html>not a picture</html>")
    other = root / "other"
    other.mkdir()
    for k in range(3):
        save(np.full((40, 40, 3), 60 * k, np.uint8), other / f"flat-{k}.png")
    return {"truncated.jpg", "empty.png", "actually-text.jpg"}


def test_scan_reports_exactly_the_broken_files(tmp_path, photos):
    broken = make_awkward_folder(tmp_path, photos)
    scan = scan_folder(tmp_path)
    reported = {entry["path"].rsplit("/", 1)[-1] for entry in scan.skipped}
    assert reported == broken
    assert all(entry["reason"] for entry in scan.skipped)
    names = {s.path.name for s in scan.samples if s.label == "good"}
    assert names == {"plain.jpg", "cmyk.jpg", "deep16.png", "alpha.png", "palette.png",
                     "still.gif", "photo.webp", "photo.bmp", "café-ünïcödé 写真.png", "nested.jpg"}


def burst_folder(root, photos, bursts_per_class=6, frames=5):
    """Session-named bursts (as the collector writes them) of slightly moving crops."""
    for label, name in (("cat", "chelsea"), ("cup", "coffee")):
        for burst in range(bursts_per_class):
            session = f"20261122T0{burst}3000-ab{burst}"
            for frame in range(frames):
                shift = 10 * burst + frame
                crop = photos[name][shift : shift + 200, shift : shift + 200]
                save(crop, root / label / f"{session}-{frame:04d}.jpg")


def test_session_names_parse():
    assert session_of("20261122T035012-a3f9-0007") == "20261122T035012-a3f9"
    assert session_of("20261122T035012-12") == "20261122T035012"
    assert session_of("IMG_0001") is None
    assert session_of("frame-0001") is None


@pytest.mark.parametrize("seed", range(8))
def test_split_never_leaks_a_burst(tmp_path_factory, photos, seed):
    root = tmp_path_factory.mktemp("bursts")
    burst_folder(root, photos)
    split = load_split(root, val_fraction=0.3, seed=seed)
    train_sessions = {(s.label, session_of(s.path.stem)) for s in split.train}
    val_sessions = {(s.label, session_of(s.path.stem)) for s in split.val}
    assert val_sessions, "every class has several bursts, so val must not be empty"
    assert not train_sessions & val_sessions
    assert {s.label for s in split.val} == {"cat", "cup"}


def test_near_duplicates_without_session_names_stay_together(tmp_path, photos):
    image = Image.fromarray(photos["astronaut"])
    folder = tmp_path / "people"
    folder.mkdir()
    image.save(folder / "original.png")
    image.save(folder / "recompressed.jpg", quality=50)
    image.resize((256, 256)).save(folder / "smaller.png")
    Image.fromarray(np.clip(photos["astronaut"].astype(int) + 20, 0, 255).astype(np.uint8)).save(
        folder / "brighter.png")
    for name in ("chelsea", "coffee", "rocket"):
        Image.fromarray(photos[name]).save(folder / f"{name}.png")
    groups = {s.path.name: s.group for s in assign_groups(scan_folder(tmp_path).samples)}
    copies = {groups[n] for n in ("original.png", "recompressed.jpg", "smaller.png", "brighter.png")}
    assert len(copies) == 1
    assert len({groups[f"{n}.png"] for n in ("chelsea", "coffee", "rocket")} | copies) == 4


def test_distinct_fashion_items_are_not_merged(fashion3):
    samples = assign_groups(scan_folder(fashion3 / "train").samples)
    for label in ("t-shirt", "sneaker"):
        groups = {s.group for s in samples if s.label == label}
        assert len(groups) >= 30  # of 35 distinct items


def test_split_sizes_follow_the_fraction(fashion3):
    split = load_split(fashion3 / "train", val_fraction=0.2, seed=0)
    assert len(split.train) + len(split.val) == 105
    assert 15 <= len(split.val) <= 27
    assert split.manifest_hash() == load_split(fashion3 / "train", 0.2, 0).manifest_hash()
    assert split.manifest_hash() != load_split(fashion3 / "train", 0.2, 1).manifest_hash()


def test_single_burst_class_keeps_everything_for_training(tmp_path, photos):
    burst_folder(tmp_path, photos, bursts_per_class=1)
    train, val = split_by_group(assign_groups(scan_folder(tmp_path).samples), 0.3, 0)
    assert val == [] and len(train) == 10


def test_explicit_split_is_used_as_given(fashion3):
    split = load_split(fashion3)
    assert split.explicit and len(split.train) == 105 and len(split.val) == 45


@pytest.mark.parametrize("layout, message", [
    ({"only": 3}, "1 class folder"),
    ({"a": 3, "b": 1}, "class 'b' .* has 1 usable image"),
    ({"a": 3, "b": 0}, "class 'b' .* has 0 usable image"),
    ({}, "0 class folder"),
])
def test_too_few_images_or_classes(tmp_path, layout, message):
    for label, count in layout.items():
        (tmp_path / label).mkdir()
        for k in range(count):
            save(np.full((20, 20, 3), 40 * k, np.uint8), tmp_path / label / f"{k}.png")
    with pytest.raises(DatasetError, match=message):
        load_split(tmp_path)


def test_missing_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_split(tmp_path / "nope")


def test_debian_fashion_mnist_reader(tmp_path):
    """The reader benchmarks and many tests use. Debian's dataset-fashion-mnist is a
    test requirement (tests/install.sh installs it): without it this fails, naming the package
    to install, rather than skipping and proving nothing."""
    from fashion_mnist import read_images, write_few_shot

    images, labels = read_images("t10k")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    write_few_shot(tmp_path, ["trouser"], 3, split="t10k")
    shipped = {p.name for p in (tmp_path / "trouser").iterdir()}
    from conftest import sample_dir

    assert shipped <= {p.name for p in (sample_dir() / "trouser").iterdir()}
    for name in shipped:  # the bundled sample is byte-for-byte what the reader writes
        assert (tmp_path / "trouser" / name).read_bytes() == (sample_dir() / "trouser" / name).read_bytes()


def test_rescan_decodes_only_new_files(fashion3, tmp_path, monkeypatch):
    import pocketvision.data.dataset as dataset

    decoded = []
    real = dataset.load_rgb
    monkeypatch.setattr(dataset, "load_rgb", lambda path, **kw: decoded.append(path) or real(path, **kw))
    scan_folder(fashion3 / "val", cache_dir=tmp_path)
    assert len(decoded) == 45
    decoded.clear()
    again = scan_folder(fashion3 / "val", cache_dir=tmp_path)
    assert decoded == [] and len(again.samples) == 45
