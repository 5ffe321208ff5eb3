"""Export benchmarks: latency per format and backbone, and what int8 costs.

    python benchmarks/bench_export.py [--runs 50] [--rounds 3] [--backbones ...]

1. Latency, batch 1, 2 threads: each backbone's ImageNet classifier exported to
   every runnable format (fp32, and int8 where the format has it), timed in its own
   runtime against PyTorch eager in the same process; median of `--runs` calls after
   warm-up, per round; rounds interleave the formats and the figure is the median of
   the round medians. Backbones whose pretrained weights are not on this machine get
   random weights with BatchNorm statistics calibrated on real images (train-mode
   passes), so activations have realistic ranges and no denormals: timing only.
2. int8 vs fp32 on the few-shot Fashion-MNIST split (3 classes x 30 training
   images, 50 validation images per class, Debian's dataset-fashion-mnist): size
   and accuracy of every int8 file against its fp32 twin, from `export`'s report.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import FIRST_THREE, OUT, few_shot  # noqa: E402

from pocketvision.errors import WeightsUnavailableError  # noqa: E402
from pocketvision.exports import export_artifact, get_format, load_runner  # noqa: E402
from pocketvision.exports.graph import ExportGraph  # noqa: E402
from pocketvision.exports.latency import _median_ms  # noqa: E402
from pocketvision.model.bundle import Bundle  # noqa: E402

BACKBONES = ["efficientnet_lite0", "mobilenet_v3_large", "mobilenet_v3_small", "resnet50"]
JOBS = [("onnx", "fp32"), ("onnx", "int8"), ("pte", "fp32"), ("pte", "int8"),
        ("tflite", "fp32"), ("tflite", "int8"), ("ptl", "fp32")]


def classifier(name: str) -> tuple[Bundle, str]:
    """The ImageNet classifier; random weights + calibrated BN when offline."""
    from pocketvision.backbones import imagenet_categories
    from pocketvision.backbones.registry import Backbone, get_spec
    from pocketvision.model.bundle import imagenet_bundle
    from pocketvision.model.bundle_meta import BackboneInfo, BundleMeta
    from pocketvision.model.classifier import Classifier

    try:
        return imagenet_bundle(name), "pretrained"
    except WeightsUnavailableError:
        spec = get_spec(name)
        backbone = Backbone(spec, spec.build())
        model = Classifier(backbone, backbone.imagenet_head)
        _calibrate_batchnorm(model, backbone.preprocessing)
        meta = BundleMeta(labels=imagenet_categories(), preprocessing=backbone.preprocessing,
                          backbone=BackboneInfo(name), source=name)
        return Bundle(model=model.eval(), meta=meta), "random, BN calibrated"


def _calibrate_batchnorm(model, preprocessing) -> None:
    from pocketvision.data.bundled import sample_data_dir
    from pocketvision.data.preprocessing import load_tensor

    images = torch.stack([load_tensor(p, preprocessing)
                          for p in sorted(sample_data_dir().glob("*/*.png"))[:96]])
    for layer in model.modules():
        if isinstance(layer, torch.nn.modules.batchnorm._BatchNorm):
            layer.reset_running_stats()
            layer.momentum = None  # cumulative average over the passes
    model.train()
    with torch.no_grad():
        for batch in images.split(16):
            model(batch)
    model.eval()


def calibration_images(bundle: Bundle) -> list[torch.Tensor]:
    from pocketvision.data.bundled import sample_data_dir
    from pocketvision.exports.graph import export_inputs

    return export_inputs(bundle, sorted(sample_data_dir().glob("*/*.png"))[::5])


def latency(backbones: list[str], runs: int, rounds: int) -> list[dict]:
    torch.set_num_threads(2)
    rows = []
    for name in backbones:
        bundle, weights = classifier(name)
        folder = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        calibration = calibration_images(bundle)
        runners = {}
        for fmt, precision in JOBS:
            path = export_artifact(get_format(fmt), bundle, folder, precision, calibration)
            runners[fmt, precision] = (load_runner(path), path.stat().st_size)
        graph = ExportGraph(bundle).eval()
        image = calibration[0]
        timings = {key: [] for key in [("torch-eager", "fp32"), *runners]}
        for _ in range(rounds):
            with torch.inference_mode():
                timings["torch-eager", "fp32"].append(_median_ms(lambda: graph(image), runs, 5))
            for key, (runner, _) in runners.items():
                prepared = image.numpy() if runner.contract["input"]["layout"] == "NCHW" \
                    else image.permute(0, 2, 3, 1).contiguous().numpy()
                timings[key].append(_median_ms(lambda: runner.run(prepared), runs, 5))
        eager = statistics.median(timings["torch-eager", "fp32"])
        for (fmt, precision), values in timings.items():
            ms = statistics.median(values)
            rows.append({"backbone": name, "weights": weights, "format": fmt,
                         "precision": precision, "latency_ms": ms, "vs_eager": ms / eager,
                         "bytes": runners.get((fmt, precision), (None, None))[1]})
        print(json.dumps(rows[-len(timings):]), flush=True)
    return rows


def int8_on_few_shot() -> list[dict]:
    from pocketvision.config import TrainConfig
    from pocketvision.exports.job import export
    from pocketvision.training.job import train

    data = few_shot("fashion-3x30", FIRST_THREE, 30, 50)
    bundle_path = OUT / "fashion-3x30.pvb"
    train(data, bundle_path, TrainConfig())
    report = export(bundle_path, OUT / "fashion-3x30-exports", ["onnx", "pte", "tflite", "coreml"],
                    quantize=["int8", "fp16"])
    return report.to_json()["exports"]


def markdown(rows: list[dict], quantized: list[dict]) -> str:
    lines = ["| backbone (weights) | format | precision | latency (ms) | vs eager | size (MB) |",
             "|---|---|---|---:|---:|---:|"]
    for r in rows:
        size = "" if r["bytes"] is None else f"{r['bytes'] / 1e6:.1f}"
        lines.append(f"| {r['backbone']} ({r['weights']}) | {r['format']} | {r['precision']} | "
                     f"{r['latency_ms']:.2f} | {r['vs_eager']:.2f}x | {size} |")
    lines += ["", "| format | precision | size (KB) | size vs fp32 | accuracy | accuracy change | "
              "top-1 agreement with the trained model |", "|---|---|---:|---:|---:|---:|---:|"]
    for e in quantized:
        if e["bytes"] is None:
            continue
        accuracy = "not run" if e["accuracy"] is None else f"{e['accuracy']:.3f}"
        change = f"{e['accuracy_change']:+.3f}" if e.get("accuracy_change") is not None else ""
        agreement = "" if e["top1_agreement"] is None else f"{e['top1_agreement']:.3f}"
        ratio = f"{e['size_vs_fp32']:.0%}" if "size_vs_fp32" in e else ""
        lines.append(f"| {e['format']} | {e['precision']} | {e['bytes'] / 1024:.0f} | {ratio} | "
                     f"{accuracy} | {change} | {agreement} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--backbones", nargs="*", default=BACKBONES)
    args = parser.parse_args()
    rows = latency(args.backbones, args.runs, args.rounds)
    quantized = int8_on_few_shot()
    text = markdown(rows, quantized)
    (OUT / "bench_export.md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
