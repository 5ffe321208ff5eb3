"""predict --output at scale on one machine: throughput and memory.

    python benchmarks/bench_bulk.py [--rounds 2]

Images: Fashion-MNIST test-set PNGs (28x28), 10 classes. Whole commands, cold
interpreter, the bundle's graph cached, interleaved round by round; medians.

1. 2,000 images: ``predict --output r.parquet`` against one ``predict --json`` over
   the same files (which holds every result and prints one document at the end),
   and against the same command with ``--engine ray`` (a private Ray instance on
   this machine, started by the command: its overhead). ``--engine ray`` on 200
   images as well, so the fixed cost (starting Ray, the actors, the model sent to
   them) and the rate once running can be told apart.
2. Peak resident memory of ``predict --output`` (Parquet and CSV) at 1,000, 2,000
   and 10,000 images.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import OUT, few_shot, pocketvision_command  # noqa: E402
from fashion_mnist import CLASS_NAMES, write_few_shot  # noqa: E402


def images(count: int) -> Path:
    folder = OUT / "data" / f"bulk-{count}"
    if not folder.exists():
        write_few_shot(folder, list(CLASS_NAMES), count // 10, split="t10k")
    return folder


def seconds(args: list[str]) -> float:
    """Wall seconds of a whole command."""
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def peak_rss_mb(args: list[str]) -> int:
    done = subprocess.run(["/usr/bin/time", "-f", "%M", *args], check=True,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return int(done.stderr.strip().splitlines()[-1]) // 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    from pocketvision.training.job import train

    work = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    bundle = work / "model.pvb"
    train(few_shot("bulk-model", list(CLASS_NAMES), 30, 10), bundle)
    two_thousand = images(2000)
    two_hundred = work / "two-hundred.txt"  # the first 200 of the same images, as a list
    two_hundred.write_text("\n".join(str(p) for p in sorted(two_thousand.rglob("*.png"))[:200]))
    runs = {"stream": [], "plain": [], "ray": [], "ray_200": []}

    def labelled(source: str, *options: str) -> float:
        out = work / "r.parquet"
        shutil.rmtree(out, ignore_errors=True)
        return seconds(pocketvision_command("predict", str(bundle), source, "--output", str(out),
                                            *options))

    for _ in range(args.rounds):  # interleaved: the machine's state changes alike for all
        runs["stream"].append(labelled(str(two_thousand)))
        runs["plain"].append(seconds(pocketvision_command("predict", str(bundle),
                                                          str(two_thousand), "--json")))
        runs["ray"].append(labelled(str(two_thousand), "--engine", "ray"))
        runs["ray_200"].append(labelled(f"@{two_hundred}", "--engine", "ray"))
    medians = {name: statistics.median(values) for name, values in runs.items()}
    memory = {}
    for suffix in ("parquet", "csv"):
        for count in (1000, 2000, 10000):
            out = work / f"m{count}.{suffix}"
            shutil.rmtree(out, ignore_errors=True) if out.is_dir() else out.unlink(missing_ok=True)
            memory[f"{suffix} {count}"] = peak_rss_mb(pocketvision_command(
                "predict", str(bundle), str(images(count)), "--output", str(out)))
    result = {"images": 2000,
              "seconds": medians,
              "images_per_second": {"stream": 2000 / medians["stream"],
                                    "plain": 2000 / medians["plain"],
                                    "ray": 2000 / medians["ray"],
                                    "ray_once_running": 1800 / (medians["ray"] - medians["ray_200"])},
              "ray_fixed_seconds": medians["ray_200"] - 200 * (medians["ray"] - medians["ray_200"]) / 1800,
              "runs": runs,
              "peak_rss_mb": memory}
    (OUT / "bench_bulk.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
