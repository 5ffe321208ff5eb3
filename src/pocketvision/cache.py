"""Where pocketvision keeps derived data, and how it writes it safely.

Everything under the cache folder can be recomputed from the images, so deleting
it is always safe. Entries are written to a temporary name and renamed, so a
killed process never leaves a half-written entry under the real name.
"""

from __future__ import annotations

import os
from pathlib import Path

CACHE_ENV = "POCKETVISION_CACHE_DIR"


def default_cache_dir() -> Path:
    """``$POCKETVISION_CACHE_DIR``, else the user cache folder (~/.cache/pocketvision)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("pocketvision"))


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never
    a half-written one; the temporary is removed if anything fails."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
