"""One frozen dataclass per stage, the one home of every default.

Each field carries its default, the range of values it accepts, and, in
``metadata["help"]``, the one line the CLI shows for its flag: ``cli.py`` builds
its options from these fields (``--val-fraction`` is ``TrainConfig.val_fraction``),
so a default and its limits are written once, and the library refuses the same
values the CLI does. Longer reasons for the defaults are in the class docstrings.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from pocketvision.errors import SettingError, unknown_name

VERSION = "0.1.0"  # pocketvision's; bundles record it (pyproject.toml says the same)

# Novelty above this is "unknown". Every bundle maps its own fitted threshold (95 %
# of known images accepted) to 0.5, so one default serves every model (novelty.py).
NOVELTY_THRESHOLD = 0.5
# A frame whose top probability is under this is "unsure": the pages offer it for
# adding to a class (it is what the model most needs to learn).
UNSURE_BELOW = 0.6


def setting(default, help: str, low: float | None = None, high: float | None = None,
            above: float | None = None):
    """A dataclass field with the CLI's one-line help and the accepted range:
    ``low <= value <= high``, and ``value > above`` where zero is not allowed."""
    return field(default=default, metadata={"help": help, "low": low, "high": high,
                                            "above": above})


def check_ranges(config) -> None:
    """SettingError naming the first field outside its range."""
    for spec in fields(config):
        value, limits = getattr(config, spec.name), spec.metadata
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            check_range("--" + spec.name.replace("_", "-"), value, limits.get("low"),
                        limits.get("high"), limits.get("above"))


def check_range(flag: str, value: float, low: float | None = None, high: float | None = None,
                above: float | None = None) -> None:
    """SettingError unless ``low <= value <= high`` and ``value > above`` (each bound
    only where given); NaN and infinities are never in range. The one range check
    for config fields and the options that are not in a config (--top, --port, ...)."""
    if not math.isfinite(value) or (low is not None and value < low) \
            or (high is not None and value > high) or (above is not None and value <= above):
        raise SettingError(f"{flag} {value} is out of range: {_describe(low, high, above)}")


def _describe(low, high, above) -> str:
    lower = f"above {above}" if above is not None else (f"at least {low}" if low is not None else "")
    upper = f"at most {high}" if high is not None else ""
    return " and ".join(part for part in (lower, upper) if part)


@dataclass(frozen=True)
class TrainConfig:
    """How ``pocketvision train`` fits a classifier.

    Attributes:
        backbone: registered backbone name (``pocketvision backbones`` lists them).
        weights: explicit pretrained weights file for the backbone, if any.
        val_fraction: share of each class held out when the folder has no val/.
        seed: seeds the split, augmentation and fine-tuning; same seed, same model.
        crop_fraction: share of the shorter side the centre crop keeps. 1.0 (the
            whole centre square) beat ImageNet's 0.875 by 7 points on few-shot
            Fashion-MNIST, where objects fill the frame (benchmarks/RESULTS.md).
        augment: extra augmented views per training image (cached like the
            originals); 0 trains on the images as they are.
        weight_decay: L2 penalty of the head, on standardized features.
        std_floor: smallest feature std used when standardizing, as a multiple of
            the median feature std (see head.fit_linear_head). 1.0 beat no floor
            by 0.7 points (3 classes) and on the worst subsets, and made int8
            exports agree far better (benchmarks/RESULTS.md).
        max_iterations: L-BFGS iterations for the head.
        fine_tune: unfreeze the backbone's last N blocks and train them on the
            images (slow: no caching); 0 keeps the backbone frozen.
        fine_tune_epochs: passes over the training images when fine-tuning.
        fine_tune_lr: AdamW learning rate when fine-tuning.
    """

    backbone: str = setting("efficientnet_lite0", "See 'pocketvision backbones'.")
    weights: Path | None = setting(None, "Pretrained weights file for the backbone.")
    val_fraction: float = setting(0.2, "Share held out per class when there is no val/.",
                                  low=0, high=0.9)
    seed: int = setting(0, "Seeds the split, augmentation and fine-tuning.", low=0, high=2**32 - 1)
    crop_fraction: float = setting(
        1.0, "Share of the shorter side the centre crop keeps (ImageNet: 0.875).", low=0.3, high=1)
    augment: int = setting(0, "Extra augmented views per training image (cached).", low=0, high=50)
    weight_decay: float = setting(0.05, "L2 penalty of the linear head.", low=0, high=1e6)
    std_floor: float = setting(
        1.0, "Smallest feature std when standardizing, as a multiple of the median std.",
        low=0, high=1e3)
    max_iterations: int = setting(200, "L-BFGS iterations for the head.", low=1, high=100_000)
    fine_tune: int = setting(0, "Unfreeze the last N backbone blocks (slow, not cached).",
                             low=0, high=1000)
    fine_tune_epochs: int = setting(3, "Epochs when fine-tuning.", low=1, high=10_000)
    fine_tune_lr: float = setting(1e-4, "Learning rate when fine-tuning.", above=0, high=10)

    def __post_init__(self):
        check_ranges(self)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["weights"] = str(self.weights) if self.weights else None
        return data


@dataclass(frozen=True)
class ExportConfig:
    """What ``pocketvision export`` writes.

    Attributes:
        formats: format names (``pocketvision.exports.list_formats``), or "all":
            every format whose library is installed; the others are listed in the
            report as skipped, with the command that installs them.
        quantize: extra precisions ("int8", "fp16") written beside each fp32
            file where the format supports them.
        calibration_images: at most this many training images set int8
            activation ranges (spread evenly over the training set).
        web_input: the side of the square the web app's game feeds the model; None:
            the bundle's own. The backbone is convolutional, so it runs at any size:
            192 px is 0.75x the compute of 224 (for slower phones); the page's unknown
            detection is then fitted again at that size (exports/web_model.py).
    """

    formats: tuple[str, ...] = setting(
        ("all",), "Comma-separated formats, or all.")  # cli.py lists the registry's names
    quantize: tuple[str, ...] = setting(
        (), "Also export int8 and/or fp16 (comma-separated) where supported.")
    calibration_images: int = setting(64, "Training images that set int8 ranges.", low=1,
                                      high=10_000)
    web_input: int | None = setting(
        None, "Input size (pixels) of the web app's game; default: the bundle's own.",
        low=96, high=1024)

    def __post_init__(self):
        check_ranges(self)
        if not self.formats:
            raise SettingError("--format is empty: name at least one format, or all")
        unknown = sorted(set(self.quantize) - {"int8", "fp16"})
        if unknown:
            raise SettingError(unknown_name("--quantize", unknown[0], ("int8", "fp16")))


@dataclass(frozen=True)
class SmoothingConfig:
    """How live per-frame probabilities become actions (``live/smoothing.py``).

    Attributes:
        threshold: top-class probability a label needs to count for a frame.
        release: below this the active label lets go (hysteresis, < threshold).
        frames: consecutive confident frames before a label fires; 3 fired on
            single misread pictures (benchmarks/RESULTS.md section 6).
        cooldown: seconds before the same tap can fire again.
    """

    threshold: float = setting(0.7, "Top-class probability a label needs.", low=0, high=1)
    release: float = setting(0.5, "Below this the active label lets go (hysteresis).",
                             low=0, high=1)
    frames: int = setting(4, "Consecutive confident frames before a label fires.",
                          low=1, high=10_000)
    cooldown: float = setting(0.3, "Seconds before the same tap can fire again.",
                              low=0, high=3600)

    def __post_init__(self):
        check_ranges(self)
        if self.release > self.threshold:
            raise SettingError(f"--release {self.release} is above --threshold {self.threshold}: "
                               "a label would let go while still confident")
