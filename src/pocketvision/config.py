"""One frozen dataclass per stage, the one home of every default.

Each field carries its default and, in ``metadata["help"]``, the one line the
CLI shows for its flag: ``cli.py`` builds its options from these fields
(``--val-fraction`` is ``TrainConfig.val_fraction``), so a default is written
once. Longer reasons for the defaults are in the class docstrings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path


def setting(default, help: str):
    """A dataclass field with the CLI's one-line help beside its default."""
    return field(default=default, metadata={"help": help})


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
    val_fraction: float = setting(0.2, "Share held out per class when there is no val/.")
    seed: int = setting(0, "Seeds the split, augmentation and fine-tuning.")
    crop_fraction: float = setting(
        1.0, "Share of the shorter side the centre crop keeps (ImageNet: 0.875).")
    augment: int = setting(0, "Extra augmented views per training image (cached).")
    weight_decay: float = setting(0.05, "L2 penalty of the linear head.")
    std_floor: float = setting(
        1.0, "Smallest feature std when standardizing, as a multiple of the median std.")
    max_iterations: int = setting(200, "L-BFGS iterations for the head.")
    fine_tune: int = setting(0, "Unfreeze the last N backbone blocks (slow, not cached).")
    fine_tune_epochs: int = setting(3, "Epochs when fine-tuning.")
    fine_tune_lr: float = setting(1e-4, "Learning rate when fine-tuning.")

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
    """

    formats: tuple[str, ...] = setting(
        ("all",), "Comma-separated: ptl,pte,onnx,coreml,tflite, or all.")
    quantize: tuple[str, ...] = setting(
        (), "Also export int8 and/or fp16 (comma-separated) where supported.")
    calibration_images: int = 64


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

    threshold: float = setting(0.7, "Top-class probability a label needs.")
    release: float = setting(0.5, "Below this the active label lets go (hysteresis).")
    frames: int = setting(4, "Consecutive confident frames before a label fires.")
    cooldown: float = setting(0.3, "Seconds before the same tap can fire again.")
