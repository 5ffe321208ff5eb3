"""Few-shot accuracy on Fashion-MNIST with the default backbone.

    python benchmarks/bench_accuracy.py [--subsets 5]

For 3 classes (the first three: t-shirt, trouser, pullover) and for all 10, train on
30 images per class, validate on 50 other images per class; repeat over
--subsets disjoint training subsets and report the median and the worst. Also
compares the choices behind the defaults: the centre crop (whole square vs
ImageNet's 0.875), augmented views (0 vs 2) and the head's weight decay (0.001 vs
0.05 vs 0.2).
"""

from __future__ import annotations

import argparse
import json
import os

from common import FIRST_THREE, OUT, few_shot, median

os.environ.setdefault("POCKETVISION_NO_PROGRESS", "1")

from fashion_mnist import CLASS_NAMES  # noqa: E402

from pocketvision.config import TrainConfig  # noqa: E402
from pocketvision.training.job import train  # noqa: E402

VARIANTS = {
    "default": TrainConfig(),
    "crop_fraction=0.875": TrainConfig(crop_fraction=0.875),
    "augment=2": TrainConfig(augment=2),
    "weight_decay=0.001": TrainConfig(weight_decay=0.001),
    "weight_decay=0.2": TrainConfig(weight_decay=0.2),
    "std_floor=0": TrainConfig(std_floor=0.0),
    "std_floor=0.3": TrainConfig(std_floor=0.3),
    "std_floor=1": TrainConfig(std_floor=1.0),
    "backbone=efficientnet_lite2": TrainConfig(backbone="efficientnet_lite2"),
    "backbone=efficientnet_lite0_lite2": TrainConfig(backbone="efficientnet_lite0_lite2"),
}


def accuracies(name: str, classes: list[str], subsets: int, config: TrainConfig) -> list[dict]:
    results = []
    for k in range(subsets):
        data = few_shot(name, classes, 30, 50, train_offset=30 * k)
        result = train(data, OUT / "accuracy.pvb", config, cache_dir=OUT / "cache")
        results.append({"accuracy": result.val_accuracy, "ece": result.metrics["ece"]})
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subsets", type=int, default=5)
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    table = {}
    for task, classes in (("3 classes", FIRST_THREE), ("10 classes", list(CLASS_NAMES))):
        for variant, config in ((v, VARIANTS[v]) for v in args.variants):
            runs = accuracies(task.replace(" ", "-"), classes, args.subsets, config)
            table[f"{task} | {variant}"] = {
                "median_accuracy": median([r["accuracy"] for r in runs]),
                "worst_accuracy": min(r["accuracy"] for r in runs),
                "median_ece": median([r["ece"] for r in runs]),
                "runs": runs,
            }
            row = table[f"{task} | {variant}"]
            print(f"{task:10s} {variant:20s} median {row['median_accuracy']:.3f} "
                  f"worst {row['worst_accuracy']:.3f} ece {row['median_ece']:.3f}", flush=True)
    OUT.mkdir(exist_ok=True)
    name = "bench_accuracy.json" if args.variants == list(VARIANTS) else "bench_accuracy_subset.json"
    (OUT / name).write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
