"""Read Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package.

Used by tests, benchmarks and the script that made the bundled sample data (not
part of the installed package: it is hard-wired to a Debian path). The files are
the original IDX files (gzip), 28x28 grayscale, MIT licence.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from pocketvision.errors import DatasetError

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = (
    "t-shirt", "trouser", "pullover", "dress", "coat",
    "sandal", "shirt", "sneaker", "bag", "ankle-boot",
)


def read_images(split: str = "train", root: Path = DEBIAN_DIR) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(images, labels)``: uint8 arrays of shape (N, 28, 28) and (N,).

    Args:
        split: ``"train"`` (60,000 images) or ``"t10k"`` (10,000 images).
        root: folder holding the IDX files.
    """
    images_path = root / f"{split}-images-idx3-ubyte.gz"
    labels_path = root / f"{split}-labels-idx1-ubyte.gz"
    if not images_path.exists():
        raise DatasetError(
            f"Fashion-MNIST not found at {images_path}; install it with "
            "'apt-get install dataset-fashion-mnist'"
        )
    with gzip.open(images_path) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(labels_path) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images, labels


def write_few_shot(
    out: Path, classes: list[str], per_class: int, split: str = "train", offset: int = 0
) -> Path:
    """Write ``per_class`` PNGs per class to ``out/<class>/`` and return ``out``.

    Picks the images of each class in dataset order, skipping the first ``offset``
    of each class, so two calls with different offsets give disjoint sets.
    """
    images, labels = read_images(split)
    for name in classes:
        index = CLASS_NAMES.index(name)
        picked = np.flatnonzero(labels == index)[offset : offset + per_class]
        folder = out / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in picked:
            _save_png(images[i], folder / f"fmnist-{split}-{i:05d}.png")
    return out


def _save_png(pixels: np.ndarray, path: Path) -> None:
    from PIL import Image

    Image.fromarray(pixels, mode="L").save(path)
