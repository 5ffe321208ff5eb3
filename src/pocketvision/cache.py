"""Where pocketvision keeps derived data, and how it writes and fingerprints files.

Everything under the cache folder can be recomputed from the images, so deleting
it is always safe. Every file pocketvision writes goes through
:func:`write_atomically`, so a killed process never leaves a half-written file
under the real name.
"""

from __future__ import annotations

import glob
import hashlib
import os
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
        root = default_cache_dir()
        if root not in _warned_about:
            _warned_about.add(root)
            reason = getattr(error, "strerror", None) or str(error)
            print(f"warning: cannot write the cache in {root} ({reason}); carrying on without "
                  f"it (set {CACHE_ENV} to a writable folder to keep features)", file=sys.stderr)


def _remove_stale_temporaries(path: Path) -> None:
    """Temporaries of ``path`` left by writers that were killed (kill -9, power cut)."""
    for temporary in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = temporary.name[len(path.name) + 2:-len(".tmp")]
        if pid.isdigit() and not process_alive(int(pid)):
            temporary.unlink(missing_ok=True)


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
