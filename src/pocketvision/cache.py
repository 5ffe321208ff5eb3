"""Where pocketvision keeps derived data, and how it writes and fingerprints files.

Everything under the cache folder can be recomputed from the images, so deleting
it is always safe. Every file pocketvision writes goes through
:func:`write_atomically`, so a killed process never leaves a half-written file
under the real name.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from pathlib import Path

import numpy as np

from pocketvision.errors import PocketVisionError

CACHE_ENV = "POCKETVISION_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$POCKETVISION_CACHE_DIR``, else the user cache folder (~/.cache/pocketvision)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("pocketvision"))


def write_atomically(path: Path, data: bytes, durable: bool = False) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never
    a half-written one; the temporary is removed if anything fails.

    ``durable`` also flushes the bytes to the disk before the rename, for files
    that must survive a power cut (bundles, samples); cache entries can be
    recomputed and skip it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.is_file():  # os.replace would swap out a device or a FIFO
        raise PocketVisionError(f"{path} exists and is not a regular file; choose another name")
    _remove_stale_temporaries(path)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as stream:
            stream.write(data)
            if durable:
                stream.flush()
                os.fsync(stream.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


_warned_about: set[Path] = set()


def write_cache_entry(path: Path, data: bytes) -> None:
    """Write a cache entry; a cache that cannot be written (read-only, full) costs
    speed, not the job: warn once per folder on stderr and carry on."""
    try:
        write_atomically(path, data)
    except (OSError, PocketVisionError) as error:
        _warn_unwritable(getattr(error, "strerror", None) or str(error))


def _warn_unwritable(reason: str) -> None:
    root = default_cache_dir()
    if root not in _warned_about:
        _warned_about.add(root)
        print(f"warning: cannot write the cache in {root} ({reason}); carrying on without "
              f"it (set {CACHE_ENV} to a writable folder to keep features)", file=sys.stderr)


class CacheTable:
    """Small cache entries (feature vectors, picture hashes) as the rows of one SQLite file.

    Why not a file each: the first ``train`` of 240 pictures wrote 480 files, a folder,
    a temporary and a rename each, 0.25 s of its 1.6 s; SQLite writes a batch in one
    transaction in a fraction of a millisecond, lets several processes share the file
    (the studio and a CLI run), and keeps every batch committed before a kill. As with
    files, a cache that cannot be written costs speed, not the job (one warning), and a
    damaged one is started again: everything in it can be recomputed.
    """

    _READS_AT_ONCE = 500  # SQLite's limit on parameters in one statement is 999 or more

    def __init__(self, path: Path):
        self.path = path
        self._db = None
        self._unusable = False
        self._read_only = False  # a pre-filled cache on a read-only disk: read, never written

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        """The entries found among ``keys`` (missing ones are left out, and so is a
        value that is not bytes: SQLite keeps whatever type a damaged page says)."""
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), self._READS_AT_ONCE):
            chunk = keys[start:start + self._READS_AT_ONCE]
            query = f"SELECT key, value FROM entries WHERE key IN ({','.join('?' * len(chunk))})"
            rows = self._run(lambda db: db.execute(query, chunk).fetchall()) or []
            found.update((key, value) for key, value in rows if isinstance(value, bytes))
        return found

    def put_many(self, entries: dict[str, bytes]) -> None:
        if self._read_only:
            return

        def insert(db):
            with db:  # one transaction
                db.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?)", entries.items())

        if entries:
            self._run(insert)

    def _run(self, work):
        """``work(connection)``, or None once the cache has proved unusable here."""
        for attempt in range(2):
            db = self._connection()
            if db is None:
                return None
            try:
                return work(db)
            except sqlite3.DatabaseError as error:
                self._failed(error, retry=attempt == 0)
        return None

    def _connection(self):
        for attempt in range(2):
            if self._db is not None or self._unusable:
                break
            try:
                self._db = self._open()
            except sqlite3.OperationalError as error:  # read-only: WAL cannot even be read
                self._db = self._open_read_only(error)
                if self._db is None:
                    self._failed(error, retry=attempt == 0)
            except (OSError, sqlite3.DatabaseError) as error:
                self._failed(error, retry=attempt == 0)
        return self._db

    def _open_read_only(self, error: Exception):
        """The file as it is, for reading only (SQLite's immutable mode needs no -shm or
        -wal file beside it), when it exists but cannot be opened for writing."""
        if not self.path.is_file():
            return None
        try:
            db = sqlite3.connect(f"{self.path.resolve().as_uri()}?immutable=1", uri=True,
                                 check_same_thread=False)
            db.execute("SELECT 1 FROM entries LIMIT 1").fetchall()
        except sqlite3.DatabaseError:
            return None
        self._read_only = True
        _warn_unwritable(f"{error}; reading what it holds, keeping nothing new")
        return db

    def _open(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        try:
            db.execute("PRAGMA journal_mode=WAL")  # readers never wait for a writer
            db.execute("PRAGMA synchronous=NORMAL")  # a power cut may lose the last batch
            db.execute("CREATE TABLE IF NOT EXISTS entries "
                       "(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID")
        except sqlite3.DatabaseError:
            db.close()
            raise
        return db

    def _failed(self, error: Exception, retry: bool) -> None:
        """A damaged file is removed and started again (once); anything else (read-only,
        full, locked for 30 s) turns the cache off for this run, with one warning."""
        if self._db is not None:
            self._db.close()
            self._db = None
        damaged = isinstance(error, sqlite3.DatabaseError) and \
            not isinstance(error, sqlite3.OperationalError)
        if damaged and retry:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.path}{suffix}").unlink(missing_ok=True)
            return
        self._unusable = True
        _warn_unwritable(getattr(error, "strerror", None) or str(error))


def _remove_stale_temporaries(path: Path) -> None:
    """Temporaries of ``path`` left by writers that were killed (kill -9, power cut).
    (A plain listing, not a glob: a glob compiles a pattern per file written, which
    cost a first ``train`` 0.2 s in its 480 cache entries.)"""
    prefix = f".{path.name}."
    with os.scandir(path.parent) as entries:
        for entry in entries:
            pid = entry.name[len(prefix):-len(".tmp")]
            if entry.name.startswith(prefix) and entry.name.endswith(".tmp") and pid.isdigit() \
                    and not process_alive(int(pid)):
                Path(entry.path).unlink(missing_ok=True)


def process_alive(pid: int | None) -> bool:
    """Whether a process with this id runs now (someone else's counts)."""
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes (what bundles record to know an image again)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_hash(tensors: dict[str, np.ndarray]) -> str:
    """SHA-256 of a feature extractor's tensors in key order: the cache key of
    its features and graph (``Backbone.weights_hash()``)."""
    digest = hashlib.sha256()
    for key in sorted(tensors):
        digest.update(key.encode())
        digest.update(np.ascontiguousarray(tensors[key]).tobytes())
    return digest.hexdigest()
