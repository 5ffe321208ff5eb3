"""Peak memory of ``pocketvision train`` on 1,000 images (cold cache).

    python benchmarks/bench_memory.py

Trains on 10 Fashion-MNIST classes x 100 images in a child process and reports its
peak resident set size (ru_maxrss), plus the same for 150 images as a reference.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile

from common import OUT, pocketvision_command
from fashion_mnist import CLASS_NAMES, write_few_shot


def peak_rss_mb(per_class: int) -> tuple[float, dict]:
    data = OUT / "data" / f"memory-{per_class}"
    if not data.exists():
        write_few_shot(data, list(CLASS_NAMES), per_class, offset=2000)
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, POCKETVISION_CACHE_DIR=cache, POCKETVISION_NO_PROGRESS="1")
        # Run through a tiny wrapper so ru_maxrss belongs to this one child alone.
        code = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
                "stdout=open('/dev/null', 'w')); "
                "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
        command = pocketvision_command("train", str(data), "--out", f"{cache}/m.pvb", "--json")
        out = subprocess.run(["python", "-c", code, *command], env=env, check=True,
                             capture_output=True, text=True).stdout
    return int(out.strip()) / 1024, {"images": per_class * 10}


def main() -> None:
    result = {}
    for per_class in (15, 100):
        megabytes, info = peak_rss_mb(per_class)
        result[f"{info['images']} images"] = round(megabytes, 1)
        print(f"{info['images']:5d} images: peak RSS {megabytes:.0f} MB", flush=True)
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_memory.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
