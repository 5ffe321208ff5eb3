"""Where ``predict --output`` writes its rows: Parquet part files or one CSV file.

Both sinks keep the same promises:

* **One writer at a time.** The output itself is locked (``fcntl.flock``) for the
  whole run; a second run on it stops at once, in one line.
* **Only our own files, of one model.** Every row (CSV) or part (Parquet metadata)
  names the model it came from; resuming with another model, or onto a CSV that
  pocketvision did not write, is refused before anything is touched.
* **Nothing half-written is kept, nothing whole is lost.** Parquet parts are
  written under a temporary name and renamed; their names carry the run's own
  token, so two writers could never replace each other's parts. A CSV cut by a
  crash is cut back to its last complete record, quoted newlines included.
* **Cells a spreadsheet would run are neutralised** (OWASP's advice on CSV
  injection): a text cell starting with ``= + - @``, a tab or a carriage return, or
  with the quote used to escape them, gets a leading ``'``; reading strips one.
* **Any file name can be written**: names that are not UTF-8 are written with
  their odd bytes as escapes (``\\xff``), the same form resuming compares.
"""

from __future__ import annotations

import csv
import fcntl
import io
import json
import os
import secrets
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pocketvision.errors import MissingExtraError, PocketVisionError, install_command

PART_ROWS = 1024  # rows per Parquet part file (and per CSV flush at most)
PART_SECONDS = 10.0  # ... or this long, whichever comes first, so a crash loses little
COLUMNS = ["path", "sha256", "label", "confidence", "novelty", "probabilities", "error", "model"]
OLD_COLUMNS = COLUMNS[:-1]  # written before rows named their model
RISKY_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
MODEL_KEY = "pocketvision.model"


def neutralised(text: str | None) -> str | None:
    return "'" + text if text and text.startswith(RISKY_STARTS) else text


def restored(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(RISKY_STARTS) else text


def sink_for(output: Path, model: str):
    if output.suffix == ".parquet":
        return ParquetParts(output, model)
    if output.suffix == ".csv":
        return CsvRows(output, model)
    raise PocketVisionError(f"--output {output}: name it .parquet (a folder of part files) "
                            "or .csv")


@contextmanager
def locked(output: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output itself (the CSV file, the Parquet
    folder) for the run: no lock file is left behind, and the lock goes with the
    process, however it ends."""
    if output.suffix == ".parquet":
        if output.exists() and not output.is_dir():
            raise PocketVisionError(f"--output {output} exists and is not a folder of "
                                    "Parquet parts; choose another name")
        output.mkdir(parents=True, exist_ok=True)
        handle = os.open(output, os.O_RDONLY)
    else:
        if output.exists() and not output.is_file():
            raise PocketVisionError(f"--output {output} is not a regular file; choose another name")
        output.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(output, os.O_RDONLY | os.O_CREAT, 0o644)  # never writes a byte
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise PocketVisionError(f"--output {output} is being written by another pocketvision "
                                    "run now; wait for it, or choose another --output") from None
        yield
    finally:
        os.close(handle)  # and with it the lock


def _other_model(output: Path, found: str, model: str) -> PocketVisionError:
    return PocketVisionError(f"--output {output} holds rows of another model ({found}; this "
                             f"one is {model}); choose another --output, or delete it to start "
                             "again")


class ParquetParts:
    """``output/part-<run>-NNNNN.parquet``, each written whole, then renamed into place."""

    def __init__(self, folder: Path, model: str):
        self.folder, self.model = folder, model
        self.buffer: list[dict] = []
        self.flushed = time.monotonic()
        self.run = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        self.next = 0

    def done(self) -> set[tuple[str, str]]:
        """(path, sha256) of the rows already written (run under ``locked``, which
        has checked the output is a folder)."""
        pq = _pyarrow_parquet()
        found = set()
        for part in sorted(self.folder.glob("part-*.parquet")) if self.folder.is_dir() else []:
            table = self._read(pq, part)
            found.update(zip(table.column("path").to_pylist(), table.column("sha256").to_pylist()))
        return found

    def _read(self, pq, part: Path):
        try:
            metadata = pq.read_schema(part).metadata or {}
            table = pq.read_table(part, columns=["path", "sha256"])
        except Exception as error:  # pyarrow's ArrowInvalid and OSError
            raise PocketVisionError(f"{part} is damaged ({type(error).__name__}: "
                                    f"{str(error)[:100]}); delete it and run again: its images "
                                    "are labelled again") from None
        found = metadata.get(MODEL_KEY.encode(), b"").decode() or "no model named"
        if found != self.model:
            raise _other_model(self.folder, found, self.model)
        return table

    def start(self, labels: list[str]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        for stale in self.folder.glob(".part-*.tmp"):  # a killed run's half-written part
            stale.unlink(missing_ok=True)
        self.labels = labels

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
        rows = [{k: v for k, v in row.items() if k != "model"} for row in self.buffer]
        table = pa.Table.from_pylist(rows, schema=schema()).replace_schema_metadata(
            {"pocketvision.labels": json.dumps(self.labels), MODEL_KEY: self.model})
        name = f"part-{self.run}-{self.next:05d}"
        temporary = self.folder / f".{name}.tmp"
        pq.write_table(table, temporary)
        os.replace(temporary, self.folder / f"{name}.parquet")
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
        raise MissingExtraError(f"Parquet output needs pyarrow: {install_command('scale')} "
                                "(or write --output results.csv)") from None
    return pq


class CsvRows:
    """Rows appended a batch at a time; probabilities as a JSON list in one column."""

    def __init__(self, path: Path, model: str):
        self.path, self.model = path, model

    def done(self) -> set[tuple[str, str]]:
        """(path, sha256) of the rows already written (run under ``locked``, which
        has checked the output is a regular file)."""
        if not self.path.exists():
            return set()
        self._check_header()
        self._cut_incomplete_record()
        found = set()
        with open(self.path, newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                if row["model"] != self.model:
                    raise _other_model(self.path, row["model"], self.model)
                found.add((restored(row["path"]), row["sha256"] or None))  # unread: no hash
        return found

    def _check_header(self) -> None:
        """Refuse, before touching it, a CSV file that is not ours."""
        with open(self.path, newline="", encoding="utf-8", errors="replace") as stream:
            first = next(csv.reader(stream), [])
        if first == OLD_COLUMNS:
            raise PocketVisionError(f"--output {self.path} was written by an older pocketvision, "
                                    "whose rows do not say which model made them; choose a new "
                                    "--output")
        if first and first != COLUMNS:
            shown = ", ".join(first[:6])[:80]
            raise PocketVisionError(f"--output {self.path} is a CSV file pocketvision did not write "
                                    f"(its columns: {shown}); choose another --output")

    def _cut_incomplete_record(self) -> None:
        data = self.path.read_bytes()
        complete = complete_length(data)
        if complete < len(data):
            with open(self.path, "r+b") as stream:
                stream.truncate(complete)

    def start(self, labels: list[str]) -> None:
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.stream = open(self.path, "a", newline="", encoding="utf-8")
        if new:
            csv.writer(self.stream).writerow(COLUMNS)

    def write(self, rows: list[dict]) -> None:
        text = io.StringIO()
        writer = csv.DictWriter(text, COLUMNS)
        for row in rows:
            probabilities = json.dumps(row["probabilities"]) if row["probabilities"] is not None else ""
            writer.writerow(row | {"path": neutralised(row["path"]), "label": neutralised(row["label"]),
                                   "error": neutralised(row["error"]),
                                   "probabilities": probabilities, "model": self.model})
        self.stream.write(text.getvalue())  # one write per batch: whole lines
        self.stream.flush()

    def close(self) -> None:
        self.stream.close()


def complete_length(data: bytes) -> int:
    """Bytes of ``data`` up to the end of its last complete CSV record: the last
    newline outside quotes, i.e. with an even number of quotes before it (a quoted
    field may hold newlines; a doubled quote inside one counts twice)."""
    newline = len(data)
    while (newline := data.rfind(b"\n", 0, newline)) >= 0:
        if data.count(b'"', 0, newline) % 2 == 0:
            return newline + 1
    return 0
