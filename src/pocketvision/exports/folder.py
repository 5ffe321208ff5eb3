"""An export folder is one unit: every file in it comes from the same export run.

An export is written into a staging folder inside the output folder (the
converters' own temporary files too), and only when everything is written and
verified is it published: the new files are moved in, files of the previous
export that this one did not write are removed, and ``manifest.json`` (each
file's SHA-256) is written last. While files move, a marker file says the folder
is being changed. So a crash or kill -9 at any point leaves either the old export
or the new one, never a mix that looks valid: ``inspect`` and ``bench`` refuse a
file the manifest does not vouch for, and the next export removes what a killed
one left behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Iterator

from pocketvision.cache import file_sha256, process_alive, write_atomically
from pocketvision.errors import ExportError
from pocketvision.exports.formats import list_formats

MANIFEST = "manifest.json"
PUBLISHING = ".pocketvision-publishing"  # present only while files are being swapped
STAGING_PREFIX = ".pocketvision-staging-"
REPORT_FILES = ("report.json", "report.md", "golden.png", "golden.json")


@contextlib.contextmanager
def staging_folder(out_dir: Path) -> Iterator[Path]:
    """A fresh folder inside ``out_dir`` to write an export into, removed afterwards
    whatever happens; temporary files of the converters (coremltools writes a whole
    .mlpackage to /tmp) go there too, so a killed run leaves nothing in /tmp."""
    remove_leftovers(out_dir)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=out_dir))
    scratch = staging / ".tmp"
    scratch.mkdir()
    previous, tempfile.tempdir = tempfile.tempdir, str(scratch)
    try:
        yield staging
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(staging, ignore_errors=True)


def remove_leftovers(out_dir: Path) -> None:
    """Staging folders of export runs that no longer exist (killed, power cut)."""
    for folder in out_dir.glob(f"{STAGING_PREFIX}*"):
        if not process_alive(_pid_of(folder.name[len(STAGING_PREFIX):])):
            shutil.rmtree(folder, ignore_errors=True)


def publish(staging: Path, out_dir: Path, bundle_sha256: str | None) -> None:
    """Move the staged files into ``out_dir``, drop the previous export's other
    files, and write the manifest last."""
    names = sorted(p.name for p in staging.iterdir() if not p.name.startswith("."))
    previous = _previous_files(out_dir)
    marker = out_dir / PUBLISHING
    marker.write_text(str(os.getpid()))
    (out_dir / MANIFEST).unlink(missing_ok=True)
    for name in names:
        target = out_dir / name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)  # an .mlpackage folder: os.replace cannot replace it
        os.replace(staging / name, target)
    for name in sorted(set(previous) - set(names)):
        _remove(out_dir / name)
    manifest = {"bundle_sha256": bundle_sha256,
                "files": {name: content_sha256(out_dir / name) for name in names}}
    write_atomically(out_dir / MANIFEST, json.dumps(manifest, indent=2).encode(), durable=True)
    marker.unlink()


def check_member(path: Path) -> None:
    """ExportError unless ``path`` is a file its folder's manifest vouches for.

    A file with no manifest beside it (copied elsewhere, or written before
    manifests existed) is taken as it is."""
    folder = Path(path).parent
    if (folder / PUBLISHING).exists():
        raise ExportError(f"{folder} was being written when an export stopped; "
                          "export again into it")
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        return
    try:
        files = json.loads(manifest_path.read_text())["files"]
    except (ValueError, KeyError, TypeError):
        raise ExportError(f"{manifest_path} is damaged; export again") from None
    name = Path(path).name
    if name not in files or files[name] != content_sha256(Path(path)):
        raise ExportError(f"{path} is not the file the last export in {folder} wrote "
                          "(it was changed or left from another export); export again")


def content_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a package folder's relative paths and contents."""
    if not path.is_dir():
        return file_sha256(path)
    digest = hashlib.sha256()
    for member in sorted(p for p in path.rglob("*") if p.is_file()):
        digest.update(str(member.relative_to(path)).encode() + b"\0")
        digest.update(file_sha256(member).encode())
    return digest.hexdigest()


def _pid_of(text: str) -> int | None:
    head = text.split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _previous_files(out_dir: Path) -> list[str]:
    """What the previous export wrote: its manifest, or, for folders written
    before manifests, the names pocketvision exports always have."""

    try:
        return list(json.loads((out_dir / MANIFEST).read_text())["files"])
    except (OSError, ValueError, KeyError, TypeError):
        suffixes = tuple(spec.suffix for spec in list_formats())
        return [p.name for p in out_dir.iterdir()
                if p.name in REPORT_FILES or (p.name.startswith("model") and p.name.endswith(suffixes))]


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
