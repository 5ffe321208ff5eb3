"""The data doctor against planted mistakes.

    python benchmarks/bench_doctor.py [--backbone NAME]

For each split (Fashion-MNIST, 30 training images per class, offset 0): move 5 %
of the images into a wrong class and copy 3 images into a second class, then run
``diagnose``. Reported: the share of moved images flagged ``mislabeled`` (and with
the right class suggested), the share of copies flagged ``duplicate``, and the
share of clean images flagged ``mislabeled``, at each confidence threshold (the
out-of-fold probability of the other class that flags an image).
"""

from __future__ import annotations

import json
import random
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import OUT  # noqa: E402

from fashion_mnist import CLASS_NAMES, write_few_shot  # noqa: E402

SPLITS = {"bag-coat-sandal": ["bag", "coat", "sandal"],
          "tshirt-trouser-sneaker": ["t-shirt", "trouser", "sneaker"],
          "pullover-dress-boot": ["pullover", "dress", "ankle-boot"],
          "all-ten": list(CLASS_NAMES)}
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.9)


def planted(name: str, classes: list[str], seed: int = 0):
    """A copy of the split with mistakes; returns (folder, moved {path: true class}, copies)."""
    source = OUT / "data" / f"doctor-{name}"
    if not source.exists():
        write_few_shot(source, classes, 30)
    folder = OUT / "data" / f"doctor-{name}-planted"
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(source, folder)
    rng = random.Random(seed)
    files = sorted(folder.rglob("*.png"))
    moved = {}
    for path in rng.sample(files, max(3, round(0.05 * len(files)))):
        wrong = rng.choice([c for c in classes if c != path.parent.name])
        target = folder / wrong / path.name
        path.rename(target)
        moved[str(target)] = path.parent.name
    copies = []
    for path in rng.sample([f for f in files if str(folder / f.parent.name / f.name) not in moved
                            and f.exists()], 3):
        other = rng.choice([c for c in classes if c != path.parent.name])
        target = folder / other / f"copy-{path.name}"
        shutil.copy(path, target)
        copies.append((str(path), str(target)))
    return folder, moved, copies


def main() -> None:
    import argparse

    import pocketvision.doctor as doctor

    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", default="efficientnet_lite0")
    args = parser.parse_args()
    results = {}
    for name, classes in SPLITS.items():
        folder, moved, copies = planted(name, classes)
        rows = {}
        for threshold in THRESHOLDS:
            doctor.MISLABELED_CONFIDENCE = threshold
            found = doctor.diagnose(folder, backbone=args.backbone)
            flagged = {f.paths[0]: f.suggested for f in found.findings if f.kind == "mislabeled"}
            duplicates = [set(f.paths) for f in found.findings if f.kind == "duplicate"]
            clean = found.images - len(moved) - len(copies)
            wrongly = [p for p in flagged if p not in moved and "copy-" not in p
                       and not any(p in pair for pair in copies)]
            rows[threshold] = {
                "moved_found": sum(p in flagged for p in moved) / len(moved),
                "moved_right_class": sum(flagged.get(p) == c for p, c in moved.items()) / len(moved),
                "copies_found": sum(any(set(c) == d for d in duplicates) for c in copies) / len(copies),
                "clean_flagged": len(wrongly) / clean,
            }
        results[name] = {"images": found.images, "moved": len(moved), "copies": len(copies),
                         "by_threshold": rows}
        print(name, json.dumps({t: {k: round(v, 3) for k, v in r.items()} for t, r in rows.items()}),
              flush=True)
    suffix = "" if args.backbone == "efficientnet_lite0" else f"-{args.backbone}"
    (OUT / f"bench_doctor{suffix}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
