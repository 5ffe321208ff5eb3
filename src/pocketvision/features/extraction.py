"""Frozen backbone forward -> pooled feature vectors, cached on disk by content.

A feature vector depends only on the image bytes, the backbone's weights, the
preprocessing, and (for augmented views) the view number. Those form the cache
key, so retraining after adding ten images computes ten vectors; a fine-tuned
backbone has new weights and therefore a fresh cache. The network runs as the
cached ONNX graph of :mod:`pocketvision.features.graph`; nothing here needs torch.

Layout: rows of ``<cache>/features.sqlite`` keyed ``<backbone key>/<sha256>-<view>``,
the vector's float32 bytes as the value (see :class:`pocketvision.cache.CacheTable`).
"""

from __future__ import annotations

import hashlib
import random
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from pocketvision.cache import CacheTable, default_cache_dir
from pocketvision.data.images import load_rgb
from pocketvision.data.preprocessing import Preprocessing, load_array, to_array
from pocketvision.features.graph import FeatureExtractor
from pocketvision.progress import progress_bar
from pocketvision.stopping import stop_point

# Measured on a 2-core CPU: small batches are fastest per image (benchmarks/).
BATCH_SIZE = 4
PREFETCH_BATCHES = 2


@dataclass(frozen=True)
class Item:
    """One feature to compute: an image file and which view of it (0 = as is)."""

    path: Path
    sha256: str
    view: int = 0


class FeatureCache:
    """Feature vectors on disk for one backbone (weights + preprocessing)."""

    def __init__(self, extractor: FeatureExtractor, preprocessing: Preprocessing,
                 root: Path | None = None):
        name, self.feature_dim = extractor.info.name, extractor.info.feature_dim
        key = "|".join((name, extractor.info.weights_hash, preprocessing.fingerprint()))
        self.key = f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
        self.table = CacheTable((root or default_cache_dir()) / "features.sqlite")

    def _key(self, item: Item) -> str:
        return f"{self.key}/{item.sha256}-{item.view}"

    def get_many(self, items: list[Item]) -> list[np.ndarray | None]:
        """Each item's vector, or None where the cache has none (or a damaged one)."""
        found = self.table.get_many([self._key(item) for item in items])
        return [self._vector(found.get(self._key(item))) for item in items]

    def _vector(self, value: bytes | None) -> np.ndarray | None:
        if value is None or len(value) != 4 * self.feature_dim:
            return None
        return np.frombuffer(value, np.float32)

    def put_many(self, items: list[Item], vectors) -> None:
        self.table.put_many({self._key(item): np.asarray(vector, np.float32).tobytes()
                             for item, vector in zip(items, vectors)})


@dataclass
class FeatureStats:
    computed: int = 0
    cached: int = 0


def extract_features(
    extractor: FeatureExtractor, preprocessing: Preprocessing, items: list[Item],
    cache: FeatureCache | None = None, stats: FeatureStats | None = None,
    description: str = "Computing features", engine=None,
) -> np.ndarray:
    """Return features (N, F) for ``items``, computing only what the cache lacks:
    here, or on a Ray cluster when ``engine`` is a :class:`~pocketvision.inference.ray_engine.RayEngine`."""
    stats = stats if stats is not None else FeatureStats()
    vectors = cache.get_many(items) if cache else [None] * len(items)
    missing = [k for k, v in enumerate(vectors) if v is None]
    stats.cached += len(items) - len(missing)
    stats.computed += len(missing)
    if not missing:
        return _stack(vectors, extractor.info.feature_dim)
    forward = engine.forward_in_batches if engine is not None else _forward_in_batches
    with progress_bar(description, len(missing)) as advance:
        for positions, features in forward(extractor, preprocessing, [items[k] for k in missing]):
            stop_point()
            for position, vector in zip(positions, features):
                vectors[missing[position]] = vector
            if cache is not None:  # each batch as it comes: a killed run keeps what it did
                cache.put_many([items[missing[p]] for p in positions], features)
            advance(len(positions))
    return _stack(vectors, extractor.info.feature_dim)


def _stack(vectors: list[np.ndarray], feature_dim: int) -> np.ndarray:
    if not vectors:
        return np.zeros((0, feature_dim), np.float32)
    return np.stack(vectors).astype(np.float32)


def _forward_in_batches(forward, spec, items: list[Item]):
    """Yield (positions in ``items``, features (B, F)) per batch.

    Images decode on a worker thread while the previous batch runs through the
    network; at most ``PREFETCH_BATCHES`` batches wait decoded, so memory stays
    flat however many images there are.
    """
    batches = [list(range(start, min(start + BATCH_SIZE, len(items))))
               for start in range(0, len(items), BATCH_SIZE)]
    decoded = decoded_ahead(lambda batch: _decode_batch([items[k] for k in batch], spec), batches,
                            PREFETCH_BATCHES)
    for batch, images in zip(batches, decoded):
        yield batch, forward(images)  # (B, F)


def decoded_ahead(decode, batches: list, ahead: int, workers: int = 1) -> Iterator:
    """``decode(batch)`` for each batch, in order, computed on worker threads at
    most ``ahead`` batches ahead of the caller (so memory stays flat)."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending: deque = deque()
        for batch in batches:
            pending.append(pool.submit(decode, batch))
            if len(pending) > ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _decode_batch(items: list[Item], spec) -> np.ndarray:
    return np.stack([array_of(item, spec) for item in items])  # (B, 3, H, W)


def array_of(item: Item, spec) -> np.ndarray:
    """The input for ``item``: the image as is for view 0, a fixed augmentation otherwise."""
    if item.view == 0:
        return load_array(item.path, spec)
    image = load_rgb(item.path, at_least=spec.resize)
    return to_array(augment(image, seed=f"{item.sha256}:{item.view}"), spec)


def augment(image, seed: str):
    """A light, deterministic augmentation: flip, crop 80-100%, colour jitter."""
    from PIL import Image, ImageEnhance

    rng = random.Random(seed)
    if rng.random() < 0.5:
        image = image.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    width, height = image.size
    scale = rng.uniform(0.8, 1.0)
    w, h = max(1, int(width * scale)), max(1, int(height * scale))
    left, top = rng.randint(0, width - w), rng.randint(0, height - h)
    image = image.crop((left, top, left + w, top + h))
    for enhancer in (ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color):
        image = enhancer(image).enhance(rng.uniform(0.8, 1.2))
    return image


def sample_features(extractor: FeatureExtractor, preprocessing: Preprocessing, samples: list,
                    cache_root: Path | None = None, stats: FeatureStats | None = None,
                    description: str = "Computing features", engine=None) -> np.ndarray:
    """Backbone features (N, F) of scanned samples, from the cache where it has them."""
    items = [Item(s.path, s.sha256) for s in samples]
    cache = FeatureCache(extractor, preprocessing, cache_root)
    return extract_features(extractor, preprocessing, items, cache, stats, description, engine)
