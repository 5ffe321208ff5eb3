"""``pocketvision bench``: latency of every export in a folder, on this machine.

Each artifact runs in its own runtime on the golden image (batch 1), and the
model it came from runs in PyTorch eager in the same process as the baseline.
Latency is the median of ``runs`` calls after ``warmup`` calls.

Every runtime runs on the same number of threads, one by default: one thread per
runtime is what makes the ratios to eager mean the same on a quiet machine and on
a busy one (with two threads, a competing process slowed PyTorch 2.5x and
onnxruntime 1.2x, so the ratios swung with the load; benchmarks/RESULTS.md).
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from pocketvision.config import check_range
from pocketvision.errors import ExportError, RuntimeUnavailable
from pocketvision.exports.contract import artifact_input, contract
from pocketvision.exports.folder import check_member
from pocketvision.exports.formats import format_for_file, list_formats, load_runner
from pocketvision.model.bundle import imagenet_bundle, load_bundle
from pocketvision.progress import progress_bar
from pocketvision.stopping import stop_point


def bench(folder: Path, runs: int = 50, warmup: int = 5, threads: int = 1) -> list[dict]:
    """One entry per artifact (and one for torch-eager): format, precision, path,
    latency_ms (None with why_not_ran when the runtime is not on this machine)."""
    folder = Path(folder)
    report = _export_report(folder)
    golden = folder / "golden.png"
    artifacts = sorted(p for p in folder.iterdir()
                       if any(p.name.endswith(s.suffix) for s in list_formats()))
    if not artifacts:
        raise ExportError(f"no exports in {folder}; run 'pocketvision export' first")
    check_range("--runs", runs, low=1)
    check_range("warmup", warmup, low=0)
    check_range("--threads", threads, low=1, high=64)
    for path in [*artifacts, golden]:
        check_member(path)  # every file from the export that report.json describes
    results = [_bench_eager(report, golden, runs, warmup, threads)]
    with progress_bar("Timing exports", len(artifacts)) as advance:
        for path in artifacts:
            stop_point()
            results.append(_bench_artifact(path, golden, runs, warmup, threads))
            advance()
    eager = results[0]["latency_ms"]
    for entry in results:
        entry["threads"] = threads
        if entry["latency_ms"] is not None:
            entry["vs_eager"] = entry["latency_ms"] / eager
    return results


def _export_report(folder: Path) -> dict:
    path = folder / "report.json"
    if not path.is_file():
        raise ExportError(f"{folder} has no report.json; bench a folder written by 'pocketvision export'")
    return json.loads(path.read_text())


def _bench_eager(report: dict, golden: Path, runs: int, warmup: int, threads: int) -> dict:
    """The trained model in PyTorch eager, on the same input as the exports."""
    import torch

    torch.set_num_threads(threads)
    if report.get("backbone_export"):
        bundle = imagenet_bundle(report["backbone_export"])
    else:
        bundle = load_bundle(report["bundle"])
    from pocketvision.exports.graph import ExportGraph

    graph = ExportGraph(bundle).eval()
    image = torch.from_numpy(artifact_input(golden, contract(bundle, "torch-eager")))
    with torch.inference_mode():
        latency = _median_ms(lambda: graph(image), runs, warmup)
    return {"format": "torch-eager", "precision": "fp32", "path": report["bundle"],
            "runtime": f"torch {torch.__version__}", "latency_ms": latency}


def _bench_artifact(path: Path, golden: Path, runs: int, warmup: int, threads: int) -> dict:
    name = format_for_file(path).name
    try:
        runner = load_runner(path, threads)
    except RuntimeUnavailable as missing:
        return {"format": name, "precision": missing.contract.get("precision", "fp32"),
                "path": str(path), "runtime": missing.runtime, "latency_ms": None,
                "why_not_ran": str(missing)}
    image = artifact_input(golden, runner.contract)
    return {"format": name, "precision": runner.contract.get("precision", "fp32"),
            "path": str(path), "runtime": runner.runtime,
            "latency_ms": _median_ms(lambda: runner.run(image), runs, warmup)}


def _median_ms(call, runs: int, warmup: int) -> float:
    for _ in range(warmup):
        call()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return float(statistics.median(times))
