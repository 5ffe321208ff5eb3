"""Where pocketvision keeps derived data, and how it writes and fingerprints files.

Everything under the cache folder can be recomputed from the images, so deleting
it is always safe. Every file pocketvision writes goes through
:func:`write_atomically`, so a killed process never leaves a half-written file
under the real name.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

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


def file_sha256(path: Path) -> str:
    """The hex SHA-256 of a file's bytes (what bundles record to know an image again)."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
