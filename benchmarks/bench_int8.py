"""What int8 costs on images the model never saw, per format, on several splits.

Run by hand: ``python benchmarks/bench_int8.py``. Needs Debian's dataset-fashion-mnist.

For each few-shot split (3 Fashion-MNIST classes, 30 training images each, 50
held-out validation images each), train a bundle with the defaults, export ONNX,
ExecuTorch and TFLite in fp32 and int8 (calibrated on the bundle's training
images, as ``export --quantize int8`` does), and run every file in its runtime on
the held-out images: accuracy of each, the int8 file's accuracy change against
its own fp32 twin, top-1 agreement with the bundle, and size against fp32.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, few_shot  # noqa: E402

SPLITS = {"fashion-a": (["t-shirt", "trouser", "sneaker"], 2000),
          "fashion-b": (["bag", "coat", "sandal"], 2000),
          "fashion-c": (["t-shirt", "trouser", "pullover"], 0)}
FORMATS = ("onnx", "pte", "tflite")


def main() -> None:
    from pocketvision.exports import export_artifact, get_format
    from pocketvision.exports.verification import (
        calibration_inputs,
        verification_set,
        verify_artifact,
    )
    from pocketvision.model.bundle import load_bundle
    from pocketvision.training.job import train

    folder = OUT / "int8"
    rows = []
    for split, (classes, offset) in SPLITS.items():
        data = few_shot(split, classes, 30, 50, train_offset=offset)
        bundle_path = folder / f"{split}.pvb"
        train(data / "train", bundle_path)
        bundle = load_bundle(bundle_path)
        images = verification_set(bundle, data / "val")
        calibration, _ = calibration_inputs(bundle, images)
        for name in FORMATS:
            out = folder / f"{split}-{name}"
            fp32 = verify_artifact(bundle, export_artifact(get_format(name), bundle, out, "fp32"), images)
            int8 = verify_artifact(bundle, export_artifact(get_format(name), bundle, out, "int8",
                                                           calibration), images)
            rows.append({"split": split, "format": name, "fp32_accuracy": fp32.accuracy,
                         "int8_accuracy": int8.accuracy,
                         "change_points": round(100 * (int8.accuracy - fp32.accuracy), 1),
                         "int8_agreement": int8.top1_agreement,
                         "size_vs_fp32": round(int8.bytes / fp32.bytes, 3)})
            print(json.dumps(rows[-1]), flush=True)
    (folder / "bench_int8.json").write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
