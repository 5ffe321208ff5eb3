"""A project folder, the studio's and ``collect``'s source of truth on disk.

    my-project/
      samples/<class>/<session>-<n>.jpg    one file per captured frame
      models/model.pvb                     the latest trained bundle
      models/exports/                      its verified exports

``<session>`` is one capture burst (``20261122T071502-3fa9``): the split keeps a
whole burst on one side (data/grouping.py), so near-identical frames never leak
into validation. Every sample is written atomically the moment it is captured.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from pocketvision.cache import write_atomically
from pocketvision.errors import LiveError

CLASS_NAME = re.compile(r"^[\w][\w \-]{0,39}$")  # letters/digits/_ first; no dots or slashes
SESSION_ID = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{4}$")


def new_session_id() -> str:
    """A capture burst's id: compact local timestamp + 4 random hex digits."""
    return time.strftime("%Y%m%dT%H%M%S") + "-" + secrets.token_hex(2)


@dataclass
class Project:
    root: Path

    def __post_init__(self):
        self.root = Path(self.root).resolve()

    @property
    def samples(self) -> Path:
        return self.root / "samples"

    @property
    def models(self) -> Path:
        return self.root / "models"

    @property
    def bundle(self) -> Path:
        return self.models / "model.pvb"

    def create(self) -> "Project":
        self.samples.mkdir(parents=True, exist_ok=True)
        self.models.mkdir(parents=True, exist_ok=True)
        return self

    def classes(self) -> list[str]:
        if not self.samples.is_dir():
            return []
        return sorted(p.name for p in self.samples.iterdir() if p.is_dir() and not p.name.startswith("."))

    def class_dir(self, name: str) -> Path:
        """The folder of class ``name``; refuses names that could leave the project."""
        name = name.strip()
        if not CLASS_NAME.match(name):
            raise LiveError(
                f"class name {name!r} is not allowed: use up to 40 letters, digits, spaces, "
                "'-' or '_', starting with a letter or digit")
        folder = (self.samples / name).resolve()
        if folder.parent != self.samples:
            raise LiveError(f"class name {name!r} escapes the project folder")
        return folder

    def add_class(self, name: str) -> Path:
        folder = self.class_dir(name)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def rename_class(self, old: str, new: str) -> Path:
        source, target = self.class_dir(old), self.class_dir(new)
        if not source.is_dir():
            raise LiveError(f"there is no class {old!r}")
        if target.exists():
            raise LiveError(f"class {new!r} already exists; pick another name")
        source.rename(target)  # one rename: every sample moves with the folder
        return target

    def delete_class(self, name: str) -> None:
        folder = self.class_dir(name)
        if folder.is_dir():
            shutil.rmtree(folder)

    def sample_files(self, name: str) -> list[Path]:
        folder = self.class_dir(name)
        return sorted(folder.glob("*.jpg")) if folder.is_dir() else []

    def sample_path(self, name: str, file_name: str) -> Path:
        """A sample's path; refuses file names with folders or '..' in them."""
        folder = self.class_dir(name)
        path = (folder / file_name).resolve()
        if path.parent != folder or not file_name.endswith(".jpg"):
            raise LiveError(f"{file_name!r} is not a sample of class {name!r}")
        return path

    def save_sample(self, name: str, jpeg: bytes, session: str, index: int) -> Path:
        """Write one captured frame as ``<session>-<index>.jpg``, atomically."""
        path = self.add_class(name) / f"{session}-{index:04d}.jpg"
        write_atomically(path, jpeg, durable=True)
        return path
