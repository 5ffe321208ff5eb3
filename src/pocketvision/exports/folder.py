"""An export folder is one unit: every file in it comes from the same export run.

An export is written into a staging folder inside the output folder (the
converters' own temporary files too), and only when everything is written and
verified is it published: the new files are moved in, files of the previous
export that this one did not write are removed, and ``manifest.json`` (each
file's SHA-256) is written last. While files move, a marker file says the folder
is being changed and which files are arriving. So a crash or kill -9 at any point
leaves either the old export or the new one, never a mix that looks valid:
``inspect`` and ``bench`` refuse a file the manifest does not vouch for, and the
next export removes what a killed one left behind.

The folder may hold the user's own files too (a shared exports folder, a repo):
pocketvision removes or replaces only a file it can prove it wrote, a plain name
directly in the folder whose content still has the SHA-256 a manifest (or the
marker of an interrupted publish) recorded. Anything else in the way of the new
files stops the export before a file moves, with a sentence naming it.
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

MANIFEST = "manifest.json"
PUBLISHING = ".pocketvision-publishing"  # present only while files are being swapped
STAGING_PREFIX = ".pocketvision-staging-"


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


REPORT_FILES = ("report.json", "report.md", "golden.png", "golden.json")  # every export writes them


def check_room(out_dir: Path, names: list[str]) -> None:
    """Refuse, before minutes of converting, an export whose files something that
    pocketvision did not write is in the way of (publish checks again at the end)."""
    _check_nothing_in_the_way(out_dir, names, _files_we_wrote(out_dir))


def publish(staging: Path, out_dir: Path, bundle_sha256: str | None) -> None:
    """Move the staged files into ``out_dir``, drop the previous export's other
    files, and write the manifest last; refuse, before anything moves, when a
    file that pocketvision cannot prove it wrote is in the way."""
    names = sorted(p.name for p in staging.iterdir() if not p.name.startswith("."))
    ours = _files_we_wrote(out_dir)
    _check_nothing_in_the_way(out_dir, names, ours)
    arriving = {name: content_sha256(staging / name) for name in names}
    marker = out_dir / PUBLISHING
    write_atomically(marker, json.dumps({"pid": os.getpid(), "files": arriving}).encode(),
                     durable=True)
    for name in names:
        target = out_dir / name
        if name in ours and target.is_dir():
            shutil.rmtree(target)  # an .mlpackage folder: os.replace cannot replace it
        os.replace(staging / name, target)
    for name in sorted(set(ours) - set(names)):
        _remove(out_dir / name)
    manifest = {"bundle_sha256": bundle_sha256, "files": arriving}
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


def _files_we_wrote(out_dir: Path) -> set[str]:
    """Names in ``out_dir`` that an earlier export provably wrote: listed in its
    manifest (or in the marker of a publish that was interrupted), a plain name of
    an entry directly in the folder, not a link, with the recorded content."""
    recorded: dict[str, set[str]] = {}
    for document in (out_dir / MANIFEST, out_dir / PUBLISHING):
        for name, digest in _recorded_files(document).items():
            recorded.setdefault(name, set()).add(digest)
    ours = set()
    for name, digests in recorded.items():
        path = out_dir / name
        if _plain_name(name) and path.exists() and not path.is_symlink() \
                and content_sha256(path) in digests:
            ours.add(name)
    return ours


def _recorded_files(document: Path) -> dict[str, str]:
    """name -> SHA-256 from a manifest or publishing marker; nothing when it is
    missing or damaged (then nothing counts as ours)."""
    try:
        files = json.loads(document.read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {name: digest for name, digest in files.items()
            if isinstance(name, str) and isinstance(digest, str)}


def _is_our_document(path: Path) -> bool:
    """A manifest or publishing marker pocketvision wrote (a web app's own
    manifest.json, say, is not)."""
    try:
        document = json.loads(path.read_text()) if path.is_file() and not path.is_symlink() else None
    except (OSError, ValueError):
        return False
    return isinstance(document, dict) and isinstance(document.get("files"), dict) \
        and ("bundle_sha256" in document or "pid" in document)


def _plain_name(name: str) -> bool:
    """A name of an entry directly in the folder: no separators, not . or .., no NUL."""
    return bool(name) and name not in (".", "..") and "/" not in name and "\\" not in name \
        and "\0" not in name and name not in (MANIFEST, PUBLISHING)


def _check_nothing_in_the_way(out_dir: Path, names: list[str], ours: set[str]) -> None:
    in_the_way = [name for name in names if os.path.lexists(out_dir / name) and name not in ours]
    for name in (MANIFEST, PUBLISHING):  # replaced or removed at the end
        if os.path.lexists(out_dir / name) and not _is_our_document(out_dir / name):
            in_the_way.append(name)
    if in_the_way:
        listed = ", ".join(in_the_way)
        raise ExportError(
            f"{out_dir} already has {listed}, which pocketvision did not write (or which "
            "changed since); nothing was exported. Move "
            f"{'it' if len(in_the_way) == 1 else 'them'} away, or choose another --out")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
