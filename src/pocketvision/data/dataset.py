"""Scan a data folder into labelled samples, and split them without leaks.

Two layouts are accepted::

    DATA/<class>/<files>                          split automatically
    DATA/train/<class>/<files> + DATA/val/<class>/<files>   split given

Files are found recursively under each class folder. What counts as an image,
and which broken files are reported, is decided in :mod:`pocketvision.data.images`.

Splitting never leaks a capture burst (see :mod:`pocketvision.data.grouping`):
all files of one group land on the same side.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pocketvision.cache import CacheTable, default_cache_dir, file_sha256
from pocketvision.data.class_names import class_name_problem, normalized
from pocketvision.data.grouping import HASH_BYTES, assign_groups, difference_hash
from pocketvision.data.images import has_image_extension, is_ignored, is_image_name, load_rgb
from pocketvision.errors import DatasetError, ImageError, printable
from pocketvision.progress import progress_bar
from pocketvision.stopping import stop_point

MIN_IMAGES_PER_CLASS = 2
MIN_CLASSES = 2
# A JPEG is checked and hashed at a reduced DCT scale that keeps both sides at least
# this many pixels: a 12-megapixel photo decodes at 1/8 (7x faster), while a picture
# the phone studio stores (shorter side 224) decodes whole, as a browser decodes it,
# so the page's hash (web/imaging.js) is the same.
HASH_DECODE_SIZE = 256


@dataclass(frozen=True)
class Sample:
    """One usable image: where it is, its class, and the hash of its bytes."""

    path: Path
    label: str
    sha256: str
    dhash: bytes = b""  # perceptual hash, for grouping near-duplicates
    group: str = ""  # capture burst; filled in by assign_groups


@dataclass
class ScanResult:
    samples: list[Sample]
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"}
    classes: list[str] = field(default_factory=list)


@dataclass
class Split:
    train: list[Sample]
    val: list[Sample]
    classes: list[str]
    skipped: list[dict]
    explicit: bool  # True when the folder had train/ and val/

    def manifest_hash(self) -> str:
        """Hash of (side, label, content) for every sample: same data, same hash."""
        lines = sorted(
            f"{side}\t{s.label}\t{s.sha256}"
            for side, samples in (("train", self.train), ("val", self.val))
            for s in samples
        )
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def label_indices(samples: list[Sample], labels: list[str]) -> np.ndarray:
    """Each sample's class as its position in ``labels``: (N,) int64."""
    index = {name: k for k, name in enumerate(labels)}
    return np.array([index[s.label] for s in samples], dtype=np.int64)


def class_folders(root: Path) -> list[Path]:
    """Sub-folders of ``root`` that name classes, sorted; hidden ones excluded."""
    if not root.exists():
        raise DatasetError(f"data folder {root} does not exist")
    if not root.is_dir():
        raise DatasetError(f"{root} is a file; pass a folder with one sub-folder per class")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    seen: dict[str, Path] = {}
    for folder in folders:
        problem = class_name_problem(folder.name)
        if problem:
            raise DatasetError(f"{problem}; rename the folder {printable(folder)}")
        other = seen.setdefault(normalized(folder.name), folder)
        if other != folder:
            raise DatasetError(f"folders {printable(other)} and {printable(folder)} name the same "
                               "class (they differ only in Unicode form); merge them")
    return folders


def scan_folder(root: Path, cache_dir: Path | None = None) -> ScanResult:
    """Find every usable image under ``root/<class>/``.

    Broken files are listed in ``skipped`` with a reason and never stop the scan.
    """
    folders = class_folders(root)
    candidates = [(path, normalized(folder.name)) for folder in folders for path in _files_under(folder)]
    result = _scan(candidates, f"Reading {root.name}", cache_dir)
    result.classes = [normalized(f.name) for f in folders]
    return result


def scan_files(root: Path, cache_dir: Path | None = None) -> ScanResult:
    """Every usable image anywhere under ``root``, without a class (label "")."""
    return _scan([(path, "") for path in _files_under(root)], f"Reading {root.name}", cache_dir)


def _files_under(folder: Path) -> list[Path]:
    """Files under ``folder``, sorted, leaving out hidden ones and obvious non-images
    (other files are read, and reported when they are not images)."""
    return [path for path in sorted(folder.rglob("*"))
            if path.is_file() and not _inside_hidden(path, folder) and not is_ignored(path)]


def _scan(candidates: list[tuple[Path, str]], description: str, cache_dir) -> ScanResult:
    result = ScanResult(samples=[])
    hashes = PerceptualHashes(cache_dir)
    with progress_bar(description, len(candidates)) as advance:
        try:
            for path, label in candidates:
                stop_point()
                sample, problem = check_file(path, label, hashes)
                if sample is not None:
                    result.samples.append(sample)
                elif problem is not None:
                    result.skipped.append({"path": printable(path), "reason": problem})
                advance(1)
        finally:  # what was decoded stays decoded, even when the scan is interrupted
            hashes.flush()
    return result


def _inside_hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


class PerceptualHashes:
    """Perceptual hashes of files already proven decodable, keyed by content hash,
    so a rescan decodes only new files (rows of ``<cache>/images-256.sqlite``)."""

    FLUSH_EVERY = 64  # new hashes written at once (and whatever is left at the end)

    def __init__(self, root: Path | None = None):
        self.table = CacheTable((root or default_cache_dir()) / f"images-{HASH_DECODE_SIZE}.sqlite")
        self._new: dict[str, bytes] = {}

    def get(self, sha256: str) -> bytes | None:
        value = self._new.get(sha256) or self.table.get_many([sha256]).get(sha256)
        return value if value is not None and len(value) == HASH_BYTES else None

    def put(self, sha256: str, value: bytes) -> None:
        self._new[sha256] = value
        if len(self._new) >= self.FLUSH_EVERY:
            self.flush()

    def flush(self) -> None:
        self.table.put_many(self._new)
        self._new = {}


def check_file(path: Path, label: str, hashes: PerceptualHashes) -> tuple[Sample | None, str | None]:
    """Prove the file decodes (once per content) and hash it; or say why not."""
    if printable(path) != str(path):
        return None, "the file name is not valid UTF-8; rename the file"
    digest = file_sha256(path)
    dhash = hashes.get(digest)
    if dhash is None:
        try:
            image = load_rgb(path, at_least=HASH_DECODE_SIZE)
        except ImageError as error:
            if not has_image_extension(path) and "not an image" in str(error):
                return None, None  # an unknown file type that is not an image: ignore
            return None, str(error).split(": ", 1)[-1]
        dhash = difference_hash(image)
        hashes.put(digest, dhash)
    return Sample(path=path, label=label, sha256=digest, dhash=dhash), None


def check_classes(scan: ScanResult, root: Path) -> None:
    """Raise a DatasetError naming the first class that cannot be trained."""
    counts = {name: 0 for name in scan.classes}
    for sample in scan.samples:
        counts[sample.label] += 1
    if len(counts) < MIN_CLASSES:
        found = ", ".join(counts) or "none"
        raise DatasetError(
            f"{root} has {len(counts)} class folder(s) ({found}); make at least "
            f"{MIN_CLASSES} sub-folders, one per class, each with images"
        )
    for name, count in counts.items():
        if count < MIN_IMAGES_PER_CLASS:
            raise DatasetError(
                f"class {name!r} in {root} has {count} usable image(s); each class "
                f"needs at least {MIN_IMAGES_PER_CLASS}: add images to {root / name}"
            )


def has_explicit_split(root: Path) -> bool:
    """``root`` is train/ + val/ of class folders, not two classes named train and val
    (whose folders hold pictures, not class folders)."""
    names = {f.name for f in class_folders(root)}
    return {"train", "val"} <= names and any(
        p.is_dir() and not p.name.startswith(".") for p in (root / "train").iterdir()) and not any(
        p.is_file() and is_image_name(p) for p in (root / "train").iterdir())


def training_folder(root: Path) -> Path:
    """The folder of class folders in ``root``: a studio project (PROJECT/samples/,
    PROJECT/models/) trains on its samples/, any other folder on itself."""
    root = Path(root)
    if (root / "samples").is_dir() and {f.name for f in class_folders(root)} <= {"samples", "models"}:
        return root / "samples"
    return root


def single_burst_classes(split: Split) -> list[str]:
    """Classes with no validation image because all their images are one capture
    burst (an automatic split never puts part of a burst on each side)."""
    if split.explicit:
        return []
    validated = {s.label for s in split.val}
    return [c for c in split.classes if c not in validated]


def load_split(root: Path, val_fraction: float = 0.2, seed: int = 0,
               cache_dir: Path | None = None) -> Split:
    """Scan ``root`` and return train/val samples (explicit or automatic split)."""
    root = training_folder(root)
    if has_explicit_split(root):
        return _explicit_split(root, cache_dir)
    scan = scan_folder(root, cache_dir)
    check_classes(scan, root)
    train, val = split_by_group(assign_groups(scan.samples), val_fraction, seed)
    return Split(train, val, scan.classes, scan.skipped, explicit=False)


def _explicit_split(root: Path, cache_dir: Path | None) -> Split:
    train = scan_folder(root / "train", cache_dir)
    check_classes(train, root / "train")
    val = scan_folder(root / "val", cache_dir)
    unknown = sorted(set(val.classes) - set(train.classes))
    if unknown:
        raise DatasetError(
            f"{root / 'val'} has classes not in train/: {', '.join(unknown)}; "
            "rename or remove them so both sides use the same class names"
        )
    skipped = train.skipped + val.skipped
    return Split(train.samples, val.samples, train.classes, skipped, explicit=True)


def split_by_group(
    samples: list[Sample], val_fraction: float, seed: int
) -> tuple[list[Sample], list[Sample]]:
    """Per class, move whole groups to val until about ``val_fraction`` is there.

    A class keeps at least one group for training; a class with a single group
    (one burst) has no validation images rather than a leaking one. Groups are
    shuffled with ``seed``, so the split is reproducible.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise DatasetError(f"val fraction must be in [0, 1), got {val_fraction}")
    rng = random.Random(seed)
    train: list[Sample] = []
    val: list[Sample] = []
    for label in sorted({s.label for s in samples}):
        members = [s for s in samples if s.label == label]
        val_groups = _pick_val_groups(members, val_fraction, rng)
        for sample in members:
            (val if sample.group in val_groups else train).append(sample)
    return train, val


def _pick_val_groups(members: list[Sample], val_fraction: float, rng: random.Random) -> set[str]:
    sizes: dict[str, int] = {}
    for sample in members:
        sizes[sample.group] = sizes.get(sample.group, 0) + 1
    groups = sorted(sizes)
    rng.shuffle(groups)
    target = val_fraction * len(members)
    chosen: set[str] = set()
    taken = 0
    for group in groups:
        # Take a group when that brings val closer to the target; keep one for train.
        if taken + sizes[group] / 2 <= target and len(chosen) < len(groups) - 1:
            chosen.add(group)
            taken += sizes[group]
    if not chosen and target > 0 and len(groups) > 1:
        smallest = min(groups, key=lambda g: sizes[g])
        if sizes[smallest] <= len(members) / 2:
            chosen.add(smallest)
    return chosen


def labelled_images(root: Path, labels: list[str], cache_dir: Path | None = None
                    ) -> tuple[list[Sample], list[dict]]:
    """Usable images under ``root/<class>/`` (``root/val/`` when there is a split),
    refusing class folders the model does not know; also the skipped files."""
    root = training_folder(root)
    if has_explicit_split(root):
        root = root / "val"
    scan = scan_folder(root, cache_dir)
    unknown = sorted(set(scan.classes) - set(labels))
    if unknown:
        raise DatasetError(
            f"{root} has class folder(s) the model does not know: {', '.join(unknown)}; "
            f"the model's classes are: {', '.join(labels)}"
        )
    if not scan.samples:
        raise DatasetError(f"no usable images under {root}/<class>/")
    return scan.samples, scan.skipped
