"""pocketvision train vs the original tutorial's loop: wall time and accuracy.

Same backbone (EfficientNet-Lite0), same weights, same images: few-shot
Fashion-MNIST, 3 classes x 30 training images, 50 validation images per class.

    python benchmarks/bench_train.py [--runs 5] [--tutorial-runs 3]
        [--classes bag coat sandal] [--baseline OLD/src]

All variants run interleaved, round after round. Reports medians of:
  * tutorial: whole script wall time, final and best-epoch val accuracy;
  * pocketvision train, empty cache, whole command (interpreter start, imports,
    scan, the backbone's ONNX graph, features, head, bundle): a user's first run;
    and the same with the cache of an earlier project minus its features and
    scanned images (every later project: new images);
  * with --baseline, both of those again from another checkout's ``src`` (put first
    on PYTHONPATH), in the same rounds;
  * pocketvision train() in process, cold cache (no interpreter start or imports);
  * the floor: one eager backbone forward pass per image, in process, at our batch
    size; and the same through the ONNX graph pocketvision runs.
"""

from __future__ import annotations

import argparse
import json
import shutil
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


def pocketvision_cold(data: Path, earlier: Path | None = None,
                      src: str | None = None) -> tuple[float, dict]:
    """``pocketvision train`` with an empty cache, or one holding what the cache at
    ``earlier`` kept besides features and scanned images (a user's next project);
    from the checkout ``src`` if given."""
    env = {"PYTHONPATH": src} if src else {}
    with tempfile.TemporaryDirectory() as cache:
        if earlier is not None:
            shutil.copytree(earlier, cache, dirs_exist_ok=True, ignore=shutil.ignore_patterns(
                "features*", "images*", "*.pvb"))
        return run_json(pocketvision_command("train", str(data), "--out", f"{cache}/m.pvb", "--json"),
                        {"POCKETVISION_CACHE_DIR": cache, "POCKETVISION_NO_PROGRESS": "1", **env})


def earlier_cache(data: Path, src: str | None = None) -> Path:
    """A cache folder that one ``train`` (from ``src`` if given) has run in."""
    cache = Path(tempfile.mkdtemp())
    run_json(pocketvision_command("train", str(data), "--out", f"{cache}/m.pvb", "--json"),
             {"POCKETVISION_CACHE_DIR": str(cache), "POCKETVISION_NO_PROGRESS": "1",
              **({"PYTHONPATH": src} if src else {})})
    return cache


def in_process_cold(data: Path, keep: Path | None = None) -> float:
    """``train()`` in this process with an empty cache (in ``keep`` if given)."""
    from pocketvision.training.job import train

    with tempfile.TemporaryDirectory() as scratch:
        cache = keep or Path(scratch)
        started = time.perf_counter()
        train(data, Path(scratch) / "m.pvb", cache_dir=cache)
        return time.perf_counter() - started


def floor_seconds(data: Path, onnx: bool = False) -> float:
    """One forward pass per image (train + val), batches as pocketvision uses;
    eager PyTorch, or the ONNX graph pocketvision runs (built before timing)."""
    from pocketvision.backbones import create_backbone
    from pocketvision.data.preprocessing import load_tensor
    from pocketvision.features.extraction import BATCH_SIZE

    backbone = create_backbone("efficientnet_lite0")
    paths = sorted(p for p in data.rglob("*.png"))
    batch = torch.stack([load_tensor(p, backbone.preprocessing) for p in paths])
    forward = backbone
    if onnx:
        from pocketvision.features.graph import backbone_extractor

        extractor = backbone_extractor(backbone, Path(tempfile.mkdtemp()))
        batch = batch.numpy()
        forward = extractor
    with torch.inference_mode():
        forward(batch[:BATCH_SIZE])  # warm-up
        started = time.perf_counter()
        for start in range(0, len(batch), BATCH_SIZE):
            forward(batch[start : start + BATCH_SIZE])
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--tutorial-runs", type=int, default=3)
    parser.add_argument("--classes", nargs=3, default=FIRST_THREE,
                        help="three Fashion-MNIST classes (a second split: bag coat sandal)")
    parser.add_argument("--baseline", metavar="SRC",
                        help="another checkout's src folder, timed in the same rounds")
    args = parser.parse_args()
    data = few_shot("-".join(args.classes), args.classes, 30, 50)
    tutorial, ours, second_project, in_process, floors, onnx_floors = [], [], [], [], [], []
    base_first, base_later = [], []
    earlier = earlier_cache(data)
    base_earlier = earlier_cache(data, args.baseline) if args.baseline else None
    # Interleaved, so that a slow spell of this shared machine hits every variant.
    for run in range(args.runs):
        if run < args.tutorial_runs:
            tutorial.append(run_json([sys.executable, str(HERE / "tutorial_loop.py"), str(data)]))
        ours.append(pocketvision_cold(data))
        second_project.append(pocketvision_cold(data, earlier))
        if args.baseline:
            base_first.append(pocketvision_cold(data, src=args.baseline))
            base_later.append(pocketvision_cold(data, base_earlier, src=args.baseline))
        in_process.append(in_process_cold(data))
        floors.append(floor_seconds(data))
        onnx_floors.append(floor_seconds(data, onnx=True))
    shutil.rmtree(earlier)
    if base_earlier:
        shutil.rmtree(base_earlier)
    result = {
        "data": str(data), "classes": args.classes, "train_per_class": 30, "val_per_class": 50,
        "torch_threads": torch.get_num_threads(),
        "tutorial_seconds": median([t for t, _ in tutorial]),
        "tutorial_final_val_accuracy": median([r["final_val_accuracy"] for _, r in tutorial]),
        "tutorial_best_val_accuracy": median([r["best_val_accuracy"] for _, r in tutorial]),
        "pocketvision_command_seconds": median([t for t, _ in ours]),
        "pocketvision_val_accuracy": ours[0][1]["val_accuracy"],
        "pocketvision_command_graph_cached_seconds": median([t for t, _ in second_project]),
        "pocketvision_in_process_seconds": median(in_process),
        "floor_seconds": median(floors),
        "onnx_floor_seconds": median(onnx_floors),
        "runs": {"tutorial": [t for t, _ in tutorial], "command": [t for t, _ in ours],
                 "command_graph_cached": [t for t, _ in second_project],
                 "in_process": in_process, "floor": floors, "onnx_floor": onnx_floors},
    }
    if args.baseline:
        result["baseline"] = args.baseline
        result["baseline_command_seconds"] = median([t for t, _ in base_first])
        result["baseline_command_graph_cached_seconds"] = median([t for t, _ in base_later])
        result["baseline_val_accuracy"] = base_first[0][1]["val_accuracy"]
        result["runs"]["baseline_command"] = [t for t, _ in base_first]
        result["runs"]["baseline_command_graph_cached"] = [t for t, _ in base_later]
    result["speedup_command"] = result["tutorial_seconds"] / result["pocketvision_command_seconds"]
    result["speedup_command_graph_cached"] = (result["tutorial_seconds"]
                                              / result["pocketvision_command_graph_cached_seconds"])
    result["command_over_onnx_floor"] = (result["pocketvision_command_seconds"]
                                         / result["onnx_floor_seconds"])
    result["command_graph_cached_over_onnx_floor"] = (
        result["pocketvision_command_graph_cached_seconds"] / result["onnx_floor_seconds"])
    result["command_over_floor"] = result["pocketvision_command_seconds"] / result["floor_seconds"]
    result["in_process_over_floor"] = result["pocketvision_in_process_seconds"] / result["floor_seconds"]
    OUT.mkdir(exist_ok=True)
    (OUT / f"bench_train-{'-'.join(args.classes)}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
