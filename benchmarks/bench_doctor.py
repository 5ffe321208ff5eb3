"""The data doctor against planted mistakes.

    python benchmarks/bench_doctor.py [--backbone NAME]

For each split (Fashion-MNIST, 30 training images per class, offset 0) and each of
--plantings seeds: move 5 % of the images into a wrong class and copy 3 images into
a second class, then run ``diagnose``. Reported, pooled over the seeds: the share of
moved images flagged ``mislabeled`` (and with the right class suggested), the share
of copies flagged ``duplicate``, and the share of clean images flagged
``mislabeled``, at each threshold (the largest out-of-fold probability of an
image's own class that still flags it).
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
THRESHOLDS = (0.05, 0.1, 0.15, 0.2)


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


def counts(found, moved: dict, copies: list) -> dict:
    """What one diagnosis found of the planted mistakes, as counts."""
    flagged = {f.paths[0]: f.suggested for f in found.findings if f.kind == "mislabeled"}
    duplicates = [set(f.paths) for f in found.findings if f.kind == "duplicate"]
    wrongly = [p for p in flagged if p not in moved and "copy-" not in p
               and not any(p in pair for pair in copies)]
    return {"moved": len(moved), "moved_found": sum(p in flagged for p in moved),
            "moved_right_class": sum(flagged.get(p) == c for p, c in moved.items()),
            "copies": len(copies),
            "copies_found": sum(any(set(c) == d for d in duplicates) for c in copies),
            "clean": found.images - len(moved) - len(copies), "clean_flagged": len(wrongly)}


def main() -> None:
    import argparse

    import pocketvision.training.doctor as doctor

    parser = argparse.ArgumentParser()
    parser.add_argument("--backbone", default="efficientnet_lite0")
    parser.add_argument("--plantings", type=int, default=3, help="seeds of planted mistakes")
    args = parser.parse_args()
    results = {}
    for name, classes in SPLITS.items():
        totals = {t: {} for t in THRESHOLDS}
        for seed in range(args.plantings):
            folder, moved, copies = planted(name, classes, seed)
            for threshold in THRESHOLDS:
                doctor.MISLABELED_OWN_MAX = threshold
                found = counts(doctor.diagnose(folder, backbone=args.backbone), moved, copies)
                for key, value in found.items():
                    totals[threshold][key] = totals[threshold].get(key, 0) + value
        rows = {t: {"moved_found": c["moved_found"] / c["moved"],
                    "moved_right_class": c["moved_right_class"] / c["moved"],
                    "copies_found": c["copies_found"] / c["copies"],
                    "clean_flagged": c["clean_flagged"] / c["clean"], "counts": c}
                for t, c in totals.items()}
        results[name] = rows
        print(name, json.dumps({t: {k: round(v, 3) for k, v in r.items() if k != "counts"}
                                for t, r in rows.items()}), flush=True)
    suffix = "" if args.backbone == "efficientnet_lite0" else f"-{args.backbone}"
    (OUT / f"bench_doctor{suffix}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
