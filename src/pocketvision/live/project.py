"""A project folder, the studio's and ``collect``'s source of truth on disk.

    my-project/
      samples/<class>/<session>-<n>.jpg    one file per captured frame
      models/model.pvb                     the latest trained bundle
      models/exports/                      its verified exports
      samples/.trash/<entry>/<class>/...   what was deleted, until emptied by hand (Undo)

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
from pocketvision.data.class_names import class_name_problem, normalized
from pocketvision.data.images import has_image_extension, is_image_name
from pocketvision.errors import LiveError, NotThereError, printable

SESSION_ID = re.compile(r"\d{8}T\d{6}-[0-9a-f]{4}")  # always matched whole (fullmatch)
MAX_INDEX = 99_999  # frames in one burst
TRASH_ENTRY = re.compile(r"\d{8}T\d{6}-[0-9a-f]{6}")
WHOLE_CLASS = ".class"  # in a trash entry: it holds a whole class (not pictures of one)


def plain_file_name(name: str) -> bool:
    """A name a request may use for a file in one of the project's folders: no
    folder part, no '..' or hidden file, no NUL (the path could not even be opened)."""
    return not (set(name) & {"/", "\\", "\x00"}) and not name.startswith(".") and bool(name)


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
        """Names of the usable class folders (NFC), sorted; see problems()."""
        return sorted(normalized(p.name) for p in self._class_folders()
                      if self._folder_problem(p) is None)

    def problems(self) -> list[dict]:
        """Folders under samples/ that cannot be used as classes, and why:
        ``[{"folder", "problem"}]``. Everything else keeps working."""

        return [{"folder": printable(p.name), "problem": problem} for p in self._class_folders()
                if (problem := self._folder_problem(p)) is not None]

    def set_aside(self, folder_name: str) -> str:
        """Take a problem folder (as problems() names it) out of the way, losing
        nothing: a link is removed (its target stays), a folder moves to
        ``samples/.set-aside/``, where it is no longer a class. Returns where it went."""

        for folder in self._class_folders():
            if printable(folder.name) == folder_name and self._folder_problem(folder):
                if folder.is_symlink():
                    folder.unlink()
                    return "link removed"
                shelf = self.samples / ".set-aside"
                shelf.mkdir(exist_ok=True)
                target = shelf / f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(2)}"
                folder.rename(target)
                return str(target)
        raise LiveError(f"no problem folder named {folder_name!r}")

    def _class_folders(self) -> list[Path]:
        if not self.samples.is_dir():
            return []
        return sorted(p for p in self.samples.iterdir()
                      if p.is_dir() and not p.name.startswith("."))

    def _folder_problem(self, folder: Path) -> str | None:
        if folder.is_symlink():
            return ("It is a link to another folder: copy the pictures into the project, "
                    "or set the link aside")
        problem = class_name_problem(folder.name)
        return problem and f"{problem[0].upper()}{problem[1:]}. Rename the folder, or set it aside"

    def class_dir(self, name: str) -> Path:
        """The folder of class ``name`` (an existing folder whose name is the same in
        NFC, else a new one); refuses names that break the class-name rule."""
        name = normalized(name)
        problem = class_name_problem(name)
        if problem:
            raise LiveError(problem)
        for folder in self._class_folders():
            if normalized(folder.name) == name:
                if folder.is_symlink():
                    raise LiveError(f"class {name!r} is a link to another folder; not used")
                return folder
        return self.samples / name

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

    @property
    def trash(self) -> Path:
        """Where deleted pictures and classes wait, restorable (hidden: no class)."""
        return self.samples / ".trash"

    def delete_class(self, name: str) -> str:
        """Move the class folder into the trash; returns the trash entry (for Undo)."""
        folder = self.class_dir(name)
        if not folder.is_dir():
            raise NotThereError(f"there is no class {name!r}")
        entry = self.discard(folder)
        (self.trash / entry / WHOLE_CLASS).touch()  # Undo brings it back whole, under a free name
        return entry

    def delete_sample(self, name: str, file_name: str) -> str:
        """Move one sample into the trash (a link goes as the link, never its target);
        returns the trash entry (for Undo)."""
        path = self.sample_path(name, file_name)
        if not (path.is_file() or path.is_symlink()):
            raise NotThereError(f"class {name!r} has no sample {file_name!r}")
        return self.discard(path)

    def discard(self, path: Path) -> str:
        """Move ``path`` (under samples/) into a new trash entry and return its id."""
        entry = f"{time.strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"
        target = self.trash / entry / path.relative_to(self.samples)
        target.parent.mkdir(parents=True, exist_ok=True)
        path.rename(target)  # a rename moves a link itself, not what it points to
        return entry

    def restore(self, entry: str) -> list[str]:
        """Put a trash entry's pictures back where they were; returns their classes.
        A deleted class whose name was taken since comes back as "name (2)" (as on
        the phone); a picture whose file name was taken since is refused before
        anything moves: nothing is overwritten."""
        if not TRASH_ENTRY.fullmatch(entry) or not (self.trash / entry).is_dir():
            raise NotThereError(f"nothing to undo under {entry!r} (emptied, or undone already)")
        folder = self.trash / entry
        classes = [p for p in folder.iterdir() if p.name != WHOLE_CLASS]
        if (folder / WHOLE_CLASS).exists() and len(classes) == 1:
            target = self.samples / self._free_class_name(classes[0].name)
            classes[0].rename(target)
            shutil.rmtree(folder, ignore_errors=True)
            return [target.name]
        items = sorted(p for p in folder.rglob("*") if (p.is_file() or p.is_symlink())
                       and p.name != WHOLE_CLASS)
        targets = [self.samples / p.relative_to(folder) for p in items]
        taken = [t for t in targets if t.exists() or t.is_symlink()]
        if taken:
            raise LiveError(f"cannot undo: {taken[0].relative_to(self.samples)} exists again; "
                            "rename or delete it first")
        for item, target in zip(items, targets):
            target.parent.mkdir(parents=True, exist_ok=True)
            item.rename(target)
        shutil.rmtree(folder, ignore_errors=True)
        return sorted({t.relative_to(self.samples).parts[0] for t in targets})

    def _free_class_name(self, name: str) -> str:
        """``name``, or "name (2)", "name (3)", ... whichever no class folder has."""
        for n in range(1, 10_000):
            candidate = name if n == 1 else f"{name} ({n})"
            if not self.class_dir(candidate).exists():
                return candidate
        raise LiveError(f"too many classes named like {name!r}; rename some first")

    def sample_files(self, name: str) -> list[Path]:
        """Every image training will use (captures are JPEG; copied-in files may not be)."""

        folder = self.class_dir(name)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_file() and is_image_name(p))

    def sample_path(self, name: str, file_name: str) -> Path:
        """A sample's path; refuses file names with folders, '..' or NUL in them."""
        folder = self.class_dir(name)

        if not plain_file_name(file_name) or not has_image_extension(Path(file_name)):
            raise LiveError(f"{file_name!r} is not a sample of class {name!r}")
        return folder / file_name

    def move_sample(self, name: str, file_name: str, to: str) -> Path:
        """Move a sample to another class (a fix the doctor suggests); never overwrites."""
        source = self.sample_path(name, file_name)
        if not source.is_file():
            raise LiveError(f"class {name!r} has no sample {file_name!r}")
        target = self.add_class(to) / file_name
        if target.exists():
            raise LiveError(f"class {to!r} already has a {file_name!r}; delete one of them")
        source.rename(target)
        return target

    def add_picture(self, name: str, file_name: str, jpeg: bytes) -> bool:
        """Write a picture under the name it was given (a burst frame's
        ``<session>-<n>.jpg`` or ``upload-<hash>.jpg``), atomically; False, and
        nothing written, when the class already has a file of that name."""
        path = self.sample_path(name, file_name)
        if not self.class_dir(name).is_dir():
            raise NotThereError(f"there is no class {name!r}")
        if path.exists() or path.is_symlink():
            return False
        write_atomically(path, jpeg, durable=True)
        return True

    def save_sample(self, name: str, jpeg: bytes, session: str, index: int) -> Path:
        """Write one captured frame as ``<session>-<index>.jpg``, atomically."""
        if not SESSION_ID.fullmatch(session):
            raise LiveError(f"bad session id {session!r}")
        if not 0 <= index <= MAX_INDEX:
            raise LiveError(f"frame index {index} is not between 0 and {MAX_INDEX}")
        path = self.add_class(name) / f"{session}-{index:04d}.jpg"
        write_atomically(path, jpeg, durable=True)
        return path
