"""``pocketvision doctor``: what is wrong with a training folder, before or after training.

Each finding names the files, says why, and (for a wrong label) suggests the right
one. What is looked for, most important first:

* unreadable: files that are not images a model can use;
* leak: a validation image that is (nearly) a training image: it flatters accuracy;
* duplicate: the same (or a nearly identical) picture in two classes, or the same
  file more than once in one class (a camera that repeats frames);
* mislabeled: an image that models which never saw its capture burst put, with
  confidence, in another class (5-fold out-of-fold predictions on the cached
  features: the same folds as the novelty threshold);
* single_burst: a class that is one capture burst, so nothing is left to validate on;
* imbalance: a class with far fewer images than the others;
* outlier: an image unlike the rest of its class (blank, or far from all of them).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from pocketvision.backbones import get_spec
from pocketvision.config import TrainConfig
from pocketvision.data.dataset import Sample, has_explicit_split, scan_folder, training_folder
from pocketvision.data.grouping import assign_groups, near_duplicate_pairs
from pocketvision.features.extraction import sample_features
from pocketvision.features.graph import pretrained_extractor
from pocketvision.model.head import fit_linear_head
from pocketvision.model.novelty import out_of_fold, unit

KINDS = ("unreadable", "leak", "duplicate", "mislabeled", "single_burst", "imbalance", "outlier")
# an image is probably mislabeled when models that never saw it give its own class at
# most this probability (measured against "another class >= 0.6": RESULTS.md section 10)
MISLABELED_OWN_MAX = 0.1
IMBALANCE_SHARE = 0.4  # of the median class size
OUTLIER_FACTOR = 3.0
NEAR_DUPLICATE_SIMILARITY = 0.97  # cosine similarity of features  # times the class's typical distance to its nearest neighbour


@dataclass
class Finding:
    kind: str
    paths: list[str]
    why: str
    score: float
    label: str | None = None
    suggested: str | None = None


@dataclass
class Diagnosis:
    images: int
    classes: dict[str, int]
    findings: list[Finding] = field(default_factory=list)
    folder: str = ""

    def to_json(self) -> dict:
        return {"folder": self.folder, "images": self.images, "classes": self.classes,
                "findings": [asdict(f) for f in self.findings]}


@dataclass
class _Image:
    sample: Sample
    side: str  # "train" or "val" ("train" without an explicit split)


def diagnose(data: Path | str, cache_dir: Path | None = None,
             backbone: str = "efficientnet_lite0", classes: set[str] | None = None) -> Diagnosis:
    """Look at ``data`` (class folders, train/ + val/, or a studio project);
    ``classes``: only these (the studio leaves out the folders it cannot use)."""
    root = training_folder(Path(data))
    images, skipped = _scan(root, cache_dir)
    if classes is not None:
        images = [i for i in images if i.sample.label in classes]
    counts: dict[str, int] = {}
    for image in images:
        counts[image.sample.label] = counts.get(image.sample.label, 0) + 1
    diagnosis = Diagnosis(images=len(images), classes=dict(sorted(counts.items())), folder=str(root))
    findings = [Finding("unreadable", [s["path"]], s["reason"], 1.0) for s in skipped]
    features = _features(images, backbone, cache_dir) if images else None
    findings += _leaks_and_duplicates(images, features) + _copies(images)
    if len(counts) >= 2 and len(images) >= 4:
        findings += _mislabeled(images, features, sorted(counts))
        findings += _outliers(images, features)
    findings += _single_bursts(images, explicit=any(i.side == "val" for i in images))
    findings += _imbalance(counts)
    order = {kind: k for k, kind in enumerate(KINDS)}
    diagnosis.findings = sorted(findings, key=lambda f: (order[f.kind], -f.score))
    return diagnosis


def _scan(root: Path, cache_dir) -> tuple[list[_Image], list[dict]]:
    if has_explicit_split(root):
        sides = [("train", root / "train"), ("val", root / "val")]
    else:
        sides = [("train", root)]
    images, skipped = [], []
    for side, folder in sides:
        scan = scan_folder(folder, cache_dir)
        images += [_Image(s, side) for s in assign_groups(scan.samples)]
        skipped += scan.skipped
    return images, skipped


def _leaks_and_duplicates(images: list[_Image], features: np.ndarray | None) -> list[Finding]:
    """Pairs that are the same file, or nearly the same picture: close difference
    hashes *and* close features (hashes alone join e.g. two different trousers on
    black, which is right for keeping a split honest but not a finding to fix)."""

    if len(images) < 2:
        return []
    vectors = unit(features)
    findings = []
    for i, j, bits in near_duplicate_pairs([image.sample for image in images]):
        a, b = images[i], images[j]
        exact = a.sample.sha256 == b.sample.sha256
        if not exact and float(vectors[i] @ vectors[j]) < NEAR_DUPLICATE_SIMILARITY:
            continue
        how = "the same file" if exact else f"nearly the same picture ({bits} of 256 bits differ)"
        paths = [str(a.sample.path), str(b.sample.path)]
        if a.sample.label != b.sample.label:
            findings.append(Finding(
                "duplicate", paths, f"{how} in two classes, {a.sample.label!r} and "
                f"{b.sample.label!r}: keep it in the right one, delete the other",
                1.0 if exact else 0.9, label=a.sample.label, suggested=None))
        elif a.side != b.side:
            findings.append(Finding(
                "leak", paths, f"{how} in train/ and val/: validation then measures memory, "
                "not learning; delete the copy in val/", 1.0 if exact else 0.9,
                label=a.sample.label))
    return findings


def _one_of_each_file(images: list[_Image], label: str) -> list[int]:
    """Indexes of ``label``'s images, one per file content: copies (reported as
    duplicates) are 0 apart, which made the usual distance 0 and every other
    picture of the class thousands of times too far."""
    seen, members = set(), []
    for k, image in enumerate(images):
        if image.sample.label == label and image.sample.sha256 not in seen:
            seen.add(image.sample.sha256)
            members.append(k)
    return members


def _copies(images: list[_Image]) -> list[Finding]:
    """The same file more than once in one class (and one side): it counts as many
    times in training, and made every copy an 'outlier' of the rest."""
    copies: dict[tuple, list[_Image]] = {}
    for image in images:
        copies.setdefault((image.sample.label, image.side, image.sample.sha256), []).append(image)
    return [Finding("duplicate", [str(i.sample.path) for i in same],
                    f"{len(same)} copies of the same picture in {label!r} (a camera that "
                    f"repeats frames, or a file copied twice): it counts {len(same)} times in "
                    "training; keep one", 1.0, label=label)
            for (label, _, _), same in sorted(copies.items(), key=lambda kv: kv[0][:2])
            if len(same) > 1]


def _features(images: list[_Image], backbone: str, cache_dir) -> np.ndarray:
    spec = get_spec(backbone).preprocessing.with_crop_fraction(TrainConfig().crop_fraction)
    extractor = pretrained_extractor(backbone, None, cache_dir)
    return sample_features(extractor, spec, [i.sample for i in images], cache_dir,
                           description="Features")


def _mislabeled(images: list[_Image], features: np.ndarray, labels: list[str]) -> list[Finding]:
    targets = np.array([labels.index(i.sample.label) for i in images])
    groups = [i.sample.group or i.sample.sha256 for i in images]
    held_out = out_of_fold(features, targets, groups, len(labels),
                           lambda x, y: fit_linear_head(x, y, len(labels)))
    findings = []
    for k, image in enumerate(images):
        if not held_out.judged[k]:  # its class was all held out with it: no model could judge
            continue
        probabilities = held_out.probabilities[k]
        best = int(probabilities.argmax())
        if best != targets[k] and probabilities[targets[k]] <= MISLABELED_OWN_MAX:
            findings.append(Finding(
                "mislabeled", [str(image.sample.path)],
                f"in {image.sample.label!r}, but models that never saw it say "
                f"{labels[best]!r} ({probabilities[best]:.0%}) and {image.sample.label!r} "
                f"only {probabilities[targets[k]]:.0%}: move it if that is right",
                float(1.0 - probabilities[targets[k]]),
                label=image.sample.label, suggested=labels[best]))
    return findings


def _outliers(images: list[_Image], features: np.ndarray) -> list[Finding]:
    """Blank pictures, and images much farther from their class than its members are
    from each other (cosine distance to the nearest image of the same class)."""

    findings = []
    vectors = unit(features)
    for label in sorted({i.sample.label for i in images}):
        members = _one_of_each_file(images, label)
        if len(members) < 4:
            continue
        similarity = vectors[members] @ vectors[members].T
        np.fill_diagonal(similarity, -np.inf)
        nearest = 1.0 - similarity.max(axis=1)  # (M,)
        typical = float(np.median(nearest)) + 1e-6
        for position, k in enumerate(members):
            if nearest[position] > OUTLIER_FACTOR * typical:
                findings.append(Finding(
                    "outlier", [str(images[k].sample.path)],
                    f"unlike every other {label!r} image ({nearest[position] / typical:.1f}x "
                    "the usual distance to its nearest one): blank, dark, blurred, or "
                    "something else entirely? Delete it or add more like it",
                    float(nearest[position] / typical), label=label))
    return findings


def _single_bursts(images: list[_Image], explicit: bool) -> list[Finding]:
    if explicit:
        return []
    groups: dict[str, set[str]] = {}
    for image in images:
        groups.setdefault(image.sample.label, set()).add(image.sample.group)
    return [Finding("single_burst", [], f"class {label!r} is one capture burst: nothing of it "
                    "can be held out for validation without leaking, nor checked for wrong "
                    "labels; record a second burst (another Record press, ideally elsewhere) "
                    "or add photos", 1.0, label=label)
            for label, found in sorted(groups.items()) if len(found) == 1]


def _imbalance(counts: dict[str, int]) -> list[Finding]:
    if len(counts) < 2:
        return []
    median = float(np.median(list(counts.values())))
    return [Finding("imbalance", [], f"class {label!r} has {count} images, the median class "
                    f"{median:.0f}: add about {int(median - count)} so the model does not learn "
                    "to avoid it", 1.0 - count / median, label=label)
            for label, count in sorted(counts.items()) if count < IMBALANCE_SHARE * median]
