"""Which files belong to one capture burst, so a split never separates them.

The rule, in order:

1. **Session names.** Files that pocketvision captures are named
   ``<session>-<n>.<ext>``, where ``<session>`` starts with a compact timestamp,
   e.g. ``20261122T035012-a3f9-0007.jpg``. All files of one session form a group.
2. **Near-duplicates.** Every other file is grouped with the files whose
   perceptual difference hash (256 bits: horizontal gradients of a 17x16
   grayscale thumbnail) differs in at most ``NEAR_DUPLICATE_BITS`` bits,
   transitively: re-encoded, resized, brightened or noisy copies of a picture and
   the near-identical frames of a burst end up together, while distinct pictures
   stay apart (on Fashion-MNIST, where items of a class look much alike, fewer
   than 1 in 100 distinct pairs fall under the threshold, except trousers).

Groups are computed per class.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterator

import numpy as np
from PIL import Image

SESSION_NAME = re.compile(r"^(?P<session>\d{8}T\d{6}[^.]*?)-(?P<index>\d+)$")
HASH_SIDE = 16
HASH_BYTES = HASH_SIDE * HASH_SIDE // 8
NEAR_DUPLICATE_BITS = 12  # of 256; measured on Fashion-MNIST and skimage photos


def session_of(stem: str) -> str | None:
    """The capture session encoded in a file name, or None."""
    match = SESSION_NAME.match(stem)
    return match.group("session") if match else None


def difference_hash(image: Image.Image) -> bytes:
    """256-bit dHash: is each pixel of a 17x16 gray thumbnail brighter than its right neighbour."""
    size = (HASH_SIDE + 1, HASH_SIDE)
    small = np.asarray(image.convert("L").resize(size, Image.Resampling.BILINEAR), np.int16)
    return np.packbits(small[:, 1:] > small[:, :-1]).tobytes()  # HASH_BYTES


def assign_groups(samples: list) -> list:
    """Return the samples with ``group`` set, following the module's rule."""
    grouped = []
    for label in sorted({s.label for s in samples}):
        members = [s for s in samples if s.label == label]
        named = [s for s in members if session_of(s.path.stem)]
        unnamed = [s for s in members if not session_of(s.path.stem)]
        grouped += [replace(s, group=f"session:{session_of(s.path.stem)}") for s in named]
        grouped += _group_near_duplicates(unnamed)
    return grouped


def near_duplicate_pairs(samples: list) -> Iterator[tuple[int, int, int]]:
    """(i, j, differing bits) for each pair i < j whose hashes are within
    NEAR_DUPLICATE_BITS; one row at a time, so memory stays linear."""
    hashes = np.array([np.frombuffer(s.dhash, np.uint8) for s in samples]).reshape(-1, HASH_BYTES)
    for i in range(len(samples)):
        distances = np.unpackbits(hashes[i + 1 :] ^ hashes[i], axis=1).sum(axis=1)
        for j in np.flatnonzero(distances <= NEAR_DUPLICATE_BITS):
            yield i, i + 1 + int(j), int(distances[j])


def _group_near_duplicates(samples: list) -> list:
    """Union-find over pairs whose hashes are within NEAR_DUPLICATE_BITS."""
    parent = list(range(len(samples)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in near_duplicate_pairs(samples):
        parent[root(j)] = root(i)
    return [replace(s, group=f"image:{samples[root(i)].sha256[:16]}") for i, s in enumerate(samples)]
