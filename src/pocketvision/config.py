"""One frozen dataclass per stage; CLI flags map one-to-one onto these fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path


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

    backbone: str = "efficientnet_lite0"
    weights: Path | None = None
    val_fraction: float = 0.2
    seed: int = 0
    crop_fraction: float = 1.0
    augment: int = 0
    weight_decay: float = 0.05
    std_floor: float = 1.0
    max_iterations: int = 200
    fine_tune: int = 0
    fine_tune_epochs: int = 3
    fine_tune_lr: float = 1e-4

    def to_dict(self) -> dict:
        data = asdict(self)
        data["weights"] = str(self.weights) if self.weights else None
        return data
