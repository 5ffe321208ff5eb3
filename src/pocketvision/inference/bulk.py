"""Label many images with a bundle, streaming results to a file, resumable.

``predict BUNDLE SOURCE... --output results.parquet`` (or ``.csv``): one row per
image (path, content hash, label, confidence, novelty, probabilities, error),
written as it goes, never held in memory, and never written twice.

* Parquet output is a folder of part files (``results.parquet/part-*.parquet``),
  each written whole under a temporary name and renamed: at any moment the folder
  is a readable dataset of complete rows (pyarrow, pandas, DuckDB, Spark read it).
* CSV output is appended a batch at a time; an incomplete last line left by a
  killed run is cut off when the run resumes.
* Resuming: rows already in the output are skipped by (path, content hash), so an
  image that changed since is labelled again and an unchanged one is not.
* Files are read, hashed and decoded on worker threads while the previous batch
  runs through the network (onnxruntime, its own threads): both cores stay busy.
"""

from __future__ import annotations

import csv
import glob
import io
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
from pocketvision.errors import DatasetError, ImageError, MissingExtraError, PocketVisionError
from pocketvision.features.extraction import decoded_ahead
from pocketvision.inference.predictor import Predictor, as_predictor
from pocketvision.model.novelty import UNKNOWN
from pocketvision.progress import progress_bar

BATCH = 16
PART_ROWS = 1024  # rows per Parquet part file (and per CSV flush at most)
PART_SECONDS = 10.0  # ... or this long, whichever comes first, so a crash loses little
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
            yield from (p for p in sorted(glob.iglob(source, recursive=True))
                        if os.path.isfile(p) and is_image_name(Path(p)))
        else:
            yield source


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
    sink = _sink_for(output)
    predictor = as_predictor(bundle)
    done = sink.done()
    paths = list(dict.fromkeys(source_paths(sources)))  # paths only: a few bytes each
    if not paths:
        raise DatasetError(f"no image files found in {', '.join(sources)}")
    label = engine.labelled_batches if engine is not None else labelled_batches
    sink.start(predictor.labels)
    result = BulkResult(output, len(paths), 0, 0, 0, 0.0)
    with progress_bar("Labelling", len(paths), unit="images") as advance:
        for rows, skipped in label(predictor, paths, done, novelty_threshold):
            sink.write(rows)
            result.done_before += skipped
            result.written += len(rows)
            result.errors += sum(row["error"] is not None for row in rows)
            advance(len(rows) + skipped)
    sink.close()
    result.seconds = time.perf_counter() - started
    return result


def labelled_batches(predictor: Predictor, paths: list[str], done: set,
                     threshold: float) -> Iterator[tuple[list[dict], int]]:
    """(rows, images skipped as done before) per batch; reading, hashing and
    decoding run ahead on worker threads while the network runs the batch before."""

    batches = [paths[k:k + BATCH] for k in range(0, len(paths), BATCH)]
    for decoded in decoded_ahead(lambda batch: decode(batch, predictor.preprocessing), batches,
                                 PREFETCH, workers=2):
        fresh = [entry for entry in decoded if entry[:2] not in done]
        yield label_rows(predictor, fresh, threshold), len(decoded) - len(fresh)


def decode(batch: list[str], spec) -> list[tuple[str, str | None, np.ndarray | str]]:
    """(path, sha256 or None, input array or the reason it cannot be read); the
    second read of each file comes from the operating system's cache."""

    decoded = []
    for path in batch:
        try:
            sha = file_sha256(path)
        except OSError as error:
            decoded.append((path, None, error.strerror or "cannot be read"))
            continue
        try:
            decoded.append((path, sha, to_array(load_rgb(path, at_least=spec.resize), spec)))
        except ImageError as error:
            decoded.append((path, sha, str(error).split(": ", 1)[-1]))
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


def _sink_for(output: Path):
    if output.suffix == ".parquet":
        return ParquetParts(output)
    if output.suffix == ".csv":
        return CsvRows(output)
    raise PocketVisionError(f"--output {output}: name it .parquet (a folder of part files) "
                            "or .csv")


class ParquetParts:
    """``output/part-NNNNN.parquet``, each written whole then renamed into place."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.buffer: list[dict] = []
        self.flushed = time.monotonic()

    def done(self) -> set[tuple[str, str]]:
        pq = _pyarrow_parquet()
        if self.folder.exists() and not self.folder.is_dir():
            raise PocketVisionError(f"--output {self.folder} exists and is not a folder of "
                                    "Parquet parts; choose another name")
        found = set()
        for part in sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []:
            table = pq.read_table(part, columns=["path", "sha256"])
            found.update(zip(table.column("path").to_pylist(), table.column("sha256").to_pylist()))
        return found

    def start(self, labels: list[str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".part-*.tmp"):  # a killed run's half-written part
            stale.unlink(missing_ok=True)
        self.labels = labels
        self.next = 1 + max((int(p.stem.split("-")[1]) for p in self.folder.glob("part-*.parquet")),
                            default=-1)

    def write(self, rows: list[dict]) -> None:
        self.buffer += rows
        if len(self.buffer) >= PART_ROWS or time.monotonic() - self.flushed > PART_SECONDS:
            self._flush()

    def close(self) -> None:
        self._flush()

    def _flush(self) -> None:
        self.flushed = time.monotonic()
        if not self.buffer:
            return
        import pyarrow as pa

        pq = _pyarrow_parquet()
        table = pa.Table.from_pylist(self.buffer, schema=schema()).replace_schema_metadata(
            {"pocketvision.labels": json.dumps(self.labels)})
        temporary = self.folder / f".part-{self.next:05d}.tmp"
        pq.write_table(table, temporary)
        os.replace(temporary, self.folder / f"part-{self.next:05d}.parquet")
        self.next += 1
        self.buffer = []


def schema():
    """The columns of a results file (Parquet types)."""
    import pyarrow as pa

    return pa.schema([("path", pa.string()), ("sha256", pa.string()), ("label", pa.string()),
                      ("confidence", pa.float32()), ("novelty", pa.float32()),
                      ("probabilities", pa.list_(pa.float32())), ("error", pa.string())])


def _pyarrow_parquet():
    try:
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingExtraError("Parquet output needs pyarrow: pip install 'pocketvision[scale]' "
                                "(or write --output results.csv)") from None
    return pq


COLUMNS = ["path", "sha256", "label", "confidence", "novelty", "probabilities", "error"]


class CsvRows:
    """Rows appended a batch at a time; probabilities as a JSON list in one column."""

    def __init__(self, path: Path):
        self.path = path

    def done(self) -> set[tuple[str, str]]:
        if not self.path.exists():
            return set()
        if not self.path.is_file():
            raise PocketVisionError(f"--output {self.path} is not a regular file; choose another name")
        self._cut_incomplete_line()
        with open(self.path, newline="") as stream:  # an unread file's hash is empty
            return {(row["path"], row["sha256"] or None) for row in csv.DictReader(stream)}

    def _cut_incomplete_line(self) -> None:
        data = self.path.read_bytes()
        if data and not data.endswith(b"\n"):
            with open(self.path, "r+b") as stream:
                stream.truncate(data.rfind(b"\n") + 1)

    def start(self, labels: list[str]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.stream = open(self.path, "a", newline="")
        self.writer = csv.DictWriter(self.stream, COLUMNS)
        if new:
            self.writer.writeheader()

    def write(self, rows: list[dict]) -> None:
        text = io.StringIO()
        writer = csv.DictWriter(text, COLUMNS)
        for row in rows:
            writer.writerow(row | {"probabilities": json.dumps(row["probabilities"])
                                   if row["probabilities"] is not None else ""})
        self.stream.write(text.getvalue())  # one write per batch: whole lines
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()
