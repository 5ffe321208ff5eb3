"""Label many images with a bundle, streaming results to a file, resumable.

``predict BUNDLE SOURCE... --output results.parquet`` (or ``.csv``): one row per
image (path, content hash, label, confidence, novelty, probabilities, error),
written as it goes, never held in memory, and never written twice.

* Parquet output is a folder of part files (``results.parquet/part-*.parquet``),
  each written whole under a temporary name and renamed: at any moment the folder
  is a readable dataset of complete rows (pyarrow, pandas, DuckDB, Spark read it).
* CSV output is appended a batch at a time; an incomplete last record left by a
  killed run is cut off when the run resumes (the sinks: inference/sinks.py).
* Resuming: rows already in the output are skipped by (path, content hash), so an
  image that changed since is labelled again and an unchanged one is not; rows of
  another model are refused, and one run at a time writes an output.
* Files are read, hashed and decoded on worker threads while the previous batch
  runs through the network (onnxruntime, its own threads): both cores stay busy.
"""

from __future__ import annotations

import fnmatch
import glob
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from pocketvision.cache import file_sha256
from pocketvision.config import NOVELTY_THRESHOLD
from pocketvision.data.images import is_image_name, load_rgb
from pocketvision.data.preprocessing import to_array
from pocketvision.errors import DatasetError, ImageError, printable
from pocketvision.features.extraction import decoded_ahead
from pocketvision.inference.predictor import Predictor, as_predictor
from pocketvision.inference.sinks import locked, sink_for
from pocketvision.model.novelty import UNKNOWN
from pocketvision.progress import progress_bar
from pocketvision.stopping import stop_point

BATCH = 16
PREFETCH = 4  # decoded batches waiting at most: memory stays flat


@dataclass
class BulkResult:
    output: Path
    images: int  # found in the sources
    done_before: int  # already in the output (skipped)
    written: int
    errors: int
    seconds: float

    def to_json(self) -> dict:
        rate = self.written / self.seconds if self.seconds else None
        return {"output": str(self.output), "images": self.images, "done_before": self.done_before,
                "written": self.written, "errors": self.errors, "seconds": round(self.seconds, 3),
                "images_per_second": rate and round(rate, 1)}


def source_paths(sources: list[str]) -> Iterator[str]:
    """Image files of folders (recursively, sorted), ``@list.txt`` files (a path per
    line) and glob patterns (``**`` allowed), in the order given. Paths are plain
    strings, folders walked one directory at a time: a million paths stay ~100 MB."""
    for source in sources:
        if source.startswith("@"):
            listing = Path(source[1:])
            if not listing.is_file():
                raise DatasetError(f"{listing} (from {source}) is not a file listing images")
            with open(listing) as lines:
                for line in lines:
                    if line.strip():
                        yield os.path.join(listing.parent, line.strip())  # relative to the list
        elif os.path.isdir(source):
            yield from _walk(source)
        elif glob.has_magic(source):
            yield from _matching(source)
        else:
            yield source


def _matching(pattern: str) -> Iterator[str]:
    """Image files matching a glob pattern (``**`` for any depth), in sorted order,
    walked without following links to folders: a link that loops (a folder linking to
    itself or its parent) is passed over, where glob.glob would go round it for ever."""
    parts = Path(pattern).parts
    fixed = next((k for k, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    base = os.path.join(*parts[:fixed]) if fixed else "."
    found = []
    for parent, folders, names in os.walk(base):  # followlinks=False
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in names:
            path = os.path.join(parent, name)
            inside = Path(os.path.relpath(path, base)).parts
            if _matches(inside, parts[fixed:]) and is_image_name(Path(name)):
                found.append(path if fixed else os.path.relpath(path, base))
    yield from sorted(found)


def _matches(names: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    """A path's components ``names`` match the glob ``parts`` as glob.glob matches
    them: ``**`` any number of folders (none included), any other part one name
    (fnmatch's ``*``, ``?``, ``[...]``; a leading dot only when the part has one)."""
    if not parts:
        return not names
    if not names:
        return parts == ("**",) * len(parts)
    if parts[0] == "**":
        return _matches(names, parts[1:]) or \
            (not names[0].startswith(".") and _matches(names[1:], parts))
    visible = parts[0].startswith(".") or not names[0].startswith(".")
    return visible and fnmatch.fnmatchcase(names[0], parts[0]) and _matches(names[1:], parts[1:])


def _walk(folder: str) -> Iterator[str]:
    for parent, folders, names in os.walk(folder):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        yield from (os.path.join(parent, name) for name in sorted(names) if is_image_name(Path(name)))


def predict_to_file(bundle, sources: list[str], output: Path | str,
                    novelty_threshold: float = NOVELTY_THRESHOLD, engine=None) -> BulkResult:
    """Label every image of ``sources`` into ``output`` (.parquet or .csv), resuming.

    ``engine``: None runs here (:func:`labelled_batches`); a
    :class:`pocketvision.inference.ray_engine.RayEngine` runs the reading and the network on a
    Ray cluster. Either way the rows come back here and one sink writes them."""

    started = time.perf_counter()
    output = Path(output)
    predictor = as_predictor(bundle)
    sink = sink_for(output, model_identity(predictor))
    with locked(output):  # one writer at a time
        done = sink.done()
        paths = list(dict.fromkeys(source_paths(sources)))  # paths only: a few bytes each
        if not paths:
            raise DatasetError(f"no image files found in {', '.join(sources)}")
        label = engine.labelled_batches if engine is not None else labelled_batches
        sink.start(predictor.labels)
        result = BulkResult(output, len(paths), 0, 0, 0, 0.0)
        with progress_bar("Labelling", len(paths), unit="images") as advance:
            for rows, skipped in label(predictor, paths, done, novelty_threshold):
                stop_point()
                sink.write(rows)
                result.done_before += skipped
                result.written += len(rows)
                result.errors += sum(row["error"] is not None for row in rows)
                advance(len(rows) + skipped)
        sink.close()
    result.seconds = time.perf_counter() - started
    return result


def model_identity(predictor: Predictor) -> str:
    """16 hex digits that change whenever the answers can: the labels, the head, the
    backbone's weights (a slim and a whole copy of one model are the same model)."""
    digest = hashlib.sha256(json.dumps(predictor.labels).encode())
    digest.update(predictor.head.weight.tobytes() + predictor.head.bias.tobytes())
    digest.update(predictor.extractor.info.weights_hash.encode())
    return digest.hexdigest()[:16]


def labelled_batches(predictor: Predictor, paths: list[str], done: set,
                     threshold: float) -> Iterator[tuple[list[dict], int]]:
    """(rows, images skipped as done before) per batch; reading, hashing and
    decoding run ahead on worker threads while the network runs the batch before."""

    batches = [paths[k:k + BATCH] for k in range(0, len(paths), BATCH)]
    for decoded in decoded_ahead(lambda batch: decode(batch, predictor.preprocessing, done),
                                 batches, PREFETCH, workers=2):
        fresh = [entry for entry in decoded if entry[2] is not None]
        yield label_rows(predictor, fresh, threshold), len(decoded) - len(fresh)


def decode(batch: list[str], spec, done: set = frozenset(), shown_as: list[str] | None = None
           ) -> list[tuple[str, str | None, np.ndarray | str | None]]:
    """(path as written, sha256 or None, input array or the reason it cannot be
    read, or None for a file done before: found by its hash, never decoded); the
    second read of each file comes from the operating system's cache. ``shown_as``:
    the paths as the user gave them, where ``batch`` holds others (absolute ones)."""
    decoded = []
    for path, name in zip(batch, shown_as or batch):
        shown = printable(name)
        try:
            sha = file_sha256(path)
        except OSError as error:
            decoded.append((shown, None, error.strerror or "cannot be read"))
            continue
        if (shown, sha) in done:
            decoded.append((shown, sha, None))
            continue
        try:
            decoded.append((shown, sha, to_array(load_rgb(path, at_least=spec.resize), spec)))
        except ImageError as error:
            decoded.append((shown, sha, printable(str(error).split(": ", 1)[-1])))
    return decoded


def label_rows(predictor: Predictor, decoded, threshold: float) -> list[dict]:
    """One result row per decoded entry: the network's answer, or why it has none."""
    rows = [_error_row(p, s, x) for p, s, x in decoded if isinstance(x, str)]
    readable = [(p, s, x) for p, s, x in decoded if not isinstance(x, str)]
    if readable:
        probabilities, novelty = predictor.classify(np.stack([x for _, _, x in readable]))
        for k, (path, sha, _) in enumerate(readable):
            rows.append(_row(path, sha, probabilities[k], None if novelty is None else novelty[k],
                             predictor.labels, threshold))
    return rows


def _row(path, sha, probabilities, novelty, labels, threshold) -> dict:
    best = int(probabilities.argmax())
    unknown = novelty is not None and novelty > threshold
    return {"path": str(path), "sha256": sha, "label": UNKNOWN if unknown else labels[best],
            "confidence": float(probabilities[best]),
            "novelty": None if novelty is None else float(novelty),
            "probabilities": [float(p) for p in probabilities], "error": None}


def _error_row(path, sha, reason: str) -> dict:
    return {"path": str(path), "sha256": sha, "label": None, "confidence": None,
            "novelty": None, "probabilities": None, "error": reason}
