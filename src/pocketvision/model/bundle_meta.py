"""What a bundle says about itself: the typed form of its JSON header.

A bundle file stores this document as JSON under the safetensors metadata key
``pocketvision``. :meth:`BundleMeta.from_json` is the one place that checks a
document (is it ours, is it too new, does it hold what a model needs), and
:meth:`BundleMeta.to_json` writes exactly the keys earlier versions wrote, so
bundles stay readable both ways.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from pocketvision.data.class_names import label_problem
from pocketvision.data.preprocessing import Preprocessing
from pocketvision.errors import BundleError

FORMAT = "pocketvision-bundle"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ImageRecord:
    """One image a model was trained or validated on, as it was then."""

    path: str  # absolute
    label: str
    sha256: str  # of the file's bytes, so a changed file is not mistaken for it

    def __post_init__(self):
        if not all(isinstance(v, str) for v in (self.path, self.label, self.sha256)):
            raise TypeError(f"image record {str(self.path)[:60]!r} is not path, label and sha256 texts")


@dataclass(frozen=True)
class BackboneInfo:
    name: str
    weights_hash: str | None = None  # over the feature extractor's tensors
    feature_dim: int | None = None


@dataclass(frozen=True)
class BundleMeta:
    """Everything a bundle records besides its weights.

    Attributes:
        labels: class names, in the order of the head's outputs.
        preprocessing: how an image becomes the model's input.
        backbone: which network computes the features.
        training: the TrainConfig it was trained with (as a dict).
        metrics: validation metrics (accuracy, per class, confusion, ECE, ...).
        dataset: manifest hash and image counts of the split.
        validation_images, training_images: the images of each side, so that
            exports are verified on the validation images and int8 calibrated
            on the training ones.
        training_images_sha256: so ``evaluate`` warns about images it learned from.
        created: UTC time of training, ISO 8601.
        versions: library versions that wrote it.
        imagenet, source: set for a backbone's own ImageNet classifier built in
            memory (never saved): what ``export --backbone`` exports.
        novelty: how unknown images are told apart (see novelty.py), with the
            ``novelty.bank`` tensor; None in bundles made before it existed.
    """

    labels: list[str]
    preprocessing: Preprocessing
    backbone: BackboneInfo
    training: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    dataset: dict = field(default_factory=dict)
    validation_images: list[ImageRecord] = field(default_factory=list)
    training_images: list[ImageRecord] = field(default_factory=list)
    training_images_sha256: list[str] = field(default_factory=list)
    created: str | None = None
    versions: dict = field(default_factory=dict)
    imagenet: bool = False
    source: str | None = None
    novelty: dict | None = None

    def replace(self, **changes) -> "BundleMeta":
        return dataclasses.replace(self, **changes)

    def to_json(self) -> dict:
        document = {
            "backbone": dataclasses.asdict(self.backbone), "training": self.training,
            "metrics": self.metrics, "dataset": self.dataset,
            "validation_images": [dataclasses.asdict(r) for r in self.validation_images],
            "training_images_sha256": self.training_images_sha256,
            "training_images": [dataclasses.asdict(r) for r in self.training_images],
            "created": self.created, "format": FORMAT, "format_version": FORMAT_VERSION,
            "labels": list(self.labels), "preprocessing": self.preprocessing.to_dict(),
            "versions": self.versions,
        }
        if self.imagenet:
            document.update(imagenet=True, source=self.source)
        if self.novelty is not None:
            document["novelty"] = self.novelty
        return document

    @classmethod
    def from_json(cls, document, where: str) -> "BundleMeta":
        """Check a header document and type it; ``where`` names the file in errors."""
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            found = document.get("format") if isinstance(document, dict) else type(document).__name__
            raise BundleError(f"{where} is not a pocketvision bundle (format {found!r})")
        _check_version(document.get("format_version", 0), where)
        try:
            return cls(
                labels=_labels(document["labels"]),
                preprocessing=Preprocessing.from_dict(document["preprocessing"]),
                backbone=_backbone(document["backbone"]),
                training=document.get("training", {}), metrics=document.get("metrics", {}),
                dataset=document.get("dataset", {}),
                validation_images=_records(document.get("validation_images", [])),
                training_images=_records(document.get("training_images", [])),
                training_images_sha256=list(document.get("training_images_sha256", [])),
                created=document.get("created"), versions=document.get("versions", {}),
                imagenet=bool(document.get("imagenet", False)), source=document.get("source"),
                novelty=_novelty(document.get("novelty")))
        except KeyError as error:
            raise BundleError(f"{where}: damaged bundle header (no {error} entry); "
                              "train it again") from None
        except (TypeError, ValueError) as error:
            raise BundleError(f"{where}: damaged bundle header ({str(error)[:160]}); "
                              "train it again") from None


def _records(value) -> list[ImageRecord]:
    if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
        raise TypeError("image records are not a list of {path, label, sha256}")
    return [ImageRecord(**r) for r in value]


def _check_version(version, where: str) -> None:
    if isinstance(version, float) and version.is_integer():
        version = int(version)  # 1.0: JSON has one kind of number (the page cannot tell them apart)
    if not isinstance(version, int) or isinstance(version, bool):
        raise BundleError(f"{where}: damaged bundle header (format_version {version!r}); "
                          "train it again")
    if version > FORMAT_VERSION:
        raise BundleError(
            f"{where} is bundle format version {version}, newer than this pocketvision "
            f"reads ({FORMAT_VERSION}); upgrade with 'pip install -U pocketvision'")


def _labels(value) -> list[str]:
    """Class names: a list of distinct, non-empty strings (a plain string would
    silently become one class per letter)."""
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"labels {str(value)[:60]!r} are not a list of class names")
    if len(set(value)) != len(value):
        raise ValueError("labels repeat a class name")
    problem = next(filter(None, map(label_problem, value)), None)
    if problem:
        raise ValueError(problem)
    return list(value)


def _novelty(value) -> dict | None:
    if value is None:
        return None
    numbers = [value.get(k) for k in ("scale", "threshold")] if isinstance(value, dict) else []
    if len(numbers) != 2 or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                    and math.isfinite(v) and v > 0 for v in numbers):
        raise ValueError(f"novelty {str(value)[:60]!r} has no positive scale and threshold")
    return value


def _backbone(value) -> BackboneInfo:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise ValueError(f"backbone {str(value)[:60]!r} has no name")
    dim = value.get("feature_dim")
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool) or dim < 1):
        raise ValueError(f"backbone feature_dim {str(dim)[:20]!r} is not a positive whole number")
    return BackboneInfo(**{k: value.get(k) for k in ("name", "weights_hash", "feature_dim")})


class MetaView:
    """What a loaded model says about itself, read from its ``meta`` (a BundleMeta):
    shared by the PyTorch ``Bundle`` and the torch-free ``Predictor``."""

    meta: BundleMeta

    @property
    def labels(self) -> list[str]:
        return self.meta.labels

    @property
    def preprocessing(self) -> Preprocessing:
        return self.meta.preprocessing

    @property
    def backbone_name(self) -> str:
        return self.meta.backbone.name
