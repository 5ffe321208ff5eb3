"""pocketvision train vs the original tutorial's loop: wall time and accuracy.

Same backbone (EfficientNet-Lite0), same weights, same images: few-shot
Fashion-MNIST, 3 classes x 30 training images, 50 validation images per class.

    python benchmarks/bench_train.py [--runs 3]

Reports (medians over --runs for pocketvision; the tutorial once per run too):
  * tutorial: whole script wall time, final and best-epoch val accuracy;
  * pocketvision train, cold feature cache, whole command (interpreter start,
    imports, scan, features, head, bundle);
  * pocketvision train() in process, cold cache (no interpreter start or imports);
  * the floor: one backbone forward pass per image, in process, at our batch size.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from common import FIRST_THREE, OUT, few_shot, median, pocketvision_command

HERE = Path(__file__).resolve().parent


def run_json(args: list[str], env: dict | None = None) -> tuple[float, dict]:
    import os

    started = time.perf_counter()
    completed = subprocess.run(args, check=True, capture_output=True, text=True,
                               env=dict(os.environ, **(env or {})))
    return time.perf_counter() - started, json.loads(completed.stdout.strip().splitlines()[-1]
                                                     if args[1].endswith(".py") else completed.stdout)


def pocketvision_cold(data: Path) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as cache:
        return run_json(pocketvision_command("train", str(data), "--out", f"{cache}/m.pvb", "--json"),
                        {"POCKETVISION_CACHE_DIR": cache, "POCKETVISION_NO_PROGRESS": "1"})


def in_process_cold(data: Path) -> float:
    from pocketvision.training import train

    with tempfile.TemporaryDirectory() as cache:
        started = time.perf_counter()
        train(data, Path(cache) / "m.pvb", cache_dir=Path(cache))
        return time.perf_counter() - started


def floor_seconds(data: Path) -> float:
    """One forward pass per image (train + val), batches as pocketvision uses."""
    from pocketvision.backbones import create_backbone
    from pocketvision.features import BATCH_SIZE
    from pocketvision.preprocessing import load_tensor

    backbone = create_backbone("efficientnet_lite0")
    paths = sorted(p for p in data.rglob("*.png"))
    batch = torch.stack([load_tensor(p, backbone.preprocessing) for p in paths])
    with torch.inference_mode():
        backbone(batch[:BATCH_SIZE])  # warm-up
        started = time.perf_counter()
        for start in range(0, len(batch), BATCH_SIZE):
            backbone(batch[start : start + BATCH_SIZE])
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tutorial-runs", type=int, default=1)
    args = parser.parse_args()
    data = few_shot("first-three", FIRST_THREE, 30, 50)
    tutorial = [run_json([sys.executable, str(HERE / "tutorial_loop.py"), str(data)])
                for _ in range(args.tutorial_runs)]
    ours = [pocketvision_cold(data) for _ in range(args.runs)]
    in_process = [in_process_cold(data) for _ in range(args.runs)]
    floors = [floor_seconds(data) for _ in range(args.runs)]
    result = {
        "data": str(data), "classes": FIRST_THREE, "train_per_class": 30, "val_per_class": 50,
        "torch_threads": torch.get_num_threads(),
        "tutorial_seconds": median([t for t, _ in tutorial]),
        "tutorial_final_val_accuracy": tutorial[0][1]["final_val_accuracy"],
        "tutorial_best_val_accuracy": tutorial[0][1]["best_val_accuracy"],
        "pocketvision_command_seconds": median([t for t, _ in ours]),
        "pocketvision_val_accuracy": ours[0][1]["val_accuracy"],
        "pocketvision_in_process_seconds": median(in_process),
        "floor_seconds": median(floors),
        "runs": {"tutorial": [t for t, _ in tutorial], "command": [t for t, _ in ours],
                 "in_process": in_process, "floor": floors},
    }
    result["speedup_command"] = result["tutorial_seconds"] / result["pocketvision_command_seconds"]
    result["command_over_floor"] = result["pocketvision_command_seconds"] / result["floor_seconds"]
    result["in_process_over_floor"] = result["pocketvision_in_process_seconds"] / result["floor_seconds"]
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_train.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
