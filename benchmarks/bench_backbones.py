"""Speed of each offline backbone's feature extractor, as training and predict run it.

    python benchmarks/bench_backbones.py [--rounds 20]

The cached ONNX graph of each backbone in onnxruntime (what ``train`` and
``predict`` use), fed random inputs at the backbone's own input size: milliseconds
per image in batches of 16 (training's batch) and for one image alone (a live
frame). Backbones are interleaved round by round so load on the machine hits all
alike; medians are reported. The accuracy of each is in bench_accuracy.py.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
from common import OUT, median

from pocketvision.backbones import get_spec
from pocketvision.features.graph import pretrained_extractor

BACKBONES = ("efficientnet_lite0", "efficientnet_lite2", "efficientnet_lite0_lite2")


def timed(extractor, batch: np.ndarray) -> float:
    started = time.perf_counter()
    extractor(batch)
    return (time.perf_counter() - started) * 1000 / len(batch)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    extractors, inputs = {}, {}
    for name in BACKBONES:
        crop = get_spec(name).preprocessing.crop
        extractors[name] = pretrained_extractor(name)
        inputs[name] = np.random.default_rng(0).standard_normal((16, 3, crop, crop), np.float32)
        timed(extractors[name], inputs[name])  # warm up: session creation, first run
    times = {name: {"batch16": [], "single": []} for name in BACKBONES}
    for _ in range(args.rounds):
        for name in BACKBONES:
            times[name]["batch16"].append(timed(extractors[name], inputs[name]))
            times[name]["single"].append(timed(extractors[name], inputs[name][:1]))
    table = {name: {kind: median(values) for kind, values in kinds.items()}
             for name, kinds in times.items()}
    for name, row in table.items():
        print(f"{name:26s} {row['batch16']:6.1f} ms/image in batches of 16, "
              f"{row['single']:6.1f} ms for one image")
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_backbones.json").write_text(json.dumps(table, indent=2))


if __name__ == "__main__":
    main()
