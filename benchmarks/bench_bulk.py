"""predict --output at scale on one machine: throughput and memory.

    python benchmarks/bench_bulk.py [--rounds 2]

Images: Fashion-MNIST test-set PNGs (28x28), 10 classes. Whole commands, cold
interpreter, the bundle's graph cached, interleaved round by round; medians.

1. 2,000 images: ``predict --output r.parquet`` against one ``predict --json`` over
   the same files (which holds every result and prints one document at the end).
2. Peak resident memory of ``predict --output`` at 1,000 and at 10,000 images.
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
    from pocketvision.training import train

    work = Path(tempfile.mkdtemp(prefix="bench-bulk-"))
    bundle = work / "model.pvb"
    train(few_shot("bulk-model", list(CLASS_NAMES), 30, 10), bundle)
    two_thousand = images(2000)
    streamed, plain = [], []
    for _ in range(args.rounds):
        out = work / "r.parquet"
        shutil.rmtree(out, ignore_errors=True)
        streamed.append(seconds(pocketvision_command("predict", str(bundle), str(two_thousand),
                                                     "--output", str(out))))
        plain.append(seconds(pocketvision_command("predict", str(bundle), str(two_thousand),
                                                  "--json")))
    memory = {}
    for count in (1000, 10000):
        out = work / f"m{count}.parquet"
        shutil.rmtree(out, ignore_errors=True)
        memory[count] = peak_rss_mb(pocketvision_command("predict", str(bundle), str(images(count)),
                                                         "--output", str(out)))
    result = {"images": 2000,
              "stream_seconds": statistics.median(streamed),
              "stream_images_per_second": 2000 / statistics.median(streamed),
              "plain_json_seconds": statistics.median(plain),
              "plain_images_per_second": 2000 / statistics.median(plain),
              "runs": {"stream": streamed, "plain": plain},
              "peak_rss_mb": memory}
    (OUT / "bench_bulk.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
