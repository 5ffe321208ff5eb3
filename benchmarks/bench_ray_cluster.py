"""What losing a machine costs a Ray job: ``predict --output --engine ray`` over 2,500
images on a two-node cluster on this machine (one CPU each: ``ray start --head`` on
127.0.0.1, ``ray start --address`` on 127.0.0.2), whole commands, against the same
job when the second node is killed (every process of it) a third of the way in.

Run by hand (not in CI): ``python benchmarks/bench_ray_cluster.py [--rounds 3]``.
Rounds interleave the two; the node is started again after each loss.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, pocketvision_command  # noqa: E402  (puts tests/ on the path too)
from fashion_mnist import CLASS_NAMES, write_few_shot  # noqa: E402
from ray_cluster import WORKER_NODE, add_worker_node, kill_node, two_node_cluster  # noqa: E402

IMAGES_PER_CLASS = 250


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--rounds", type=int, default=3)
    rounds = arguments.parse_args().rounds
    from pocketvision.training import train

    folder = OUT / "ray-cluster"
    folder.mkdir(parents=True, exist_ok=True)
    images = folder / "images"
    if not images.exists():
        write_few_shot(images, list(CLASS_NAMES), IMAGES_PER_CLASS, offset=2500)
    bundle = train(write_few_shot(folder / "train", list(CLASS_NAMES), 20), folder / "model.pvb").bundle
    times = {"both nodes": [], "a node lost a third in": []}
    with two_node_cluster() as address:
        for _ in range(rounds):
            for case in times:
                times[case].append(one_job(bundle, images, folder / "out.parquet", address,
                                           lose=case != "both nodes"))
                print(case, round(times[case][-1], 1), flush=True)
    result = {"images": IMAGES_PER_CLASS * len(CLASS_NAMES), "seconds": times,
              "median": {k: statistics.median(v) for k, v in times.items()}}
    (folder / "bench_ray_cluster.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def one_job(bundle: Path, images: Path, out: Path, address: str, lose: bool) -> float:
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    job = subprocess.Popen(pocketvision_command("predict", str(bundle), str(images), "--output",
                                                str(out), "--engine", "ray", "--ray-address",
                                                address, "--json"),
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = False
    while job.poll() is None:
        done = sum(1 for _ in out.glob("part-*")) * 1024 if out.exists() else 0
        if lose and not killed and (done or time.perf_counter() - started > 8):
            killed = bool(kill_node(WORKER_NODE))
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    summary = json.loads(job.stdout.read())
    assert job.returncode == 0 and summary["written"] == IMAGES_PER_CLASS * len(CLASS_NAMES)
    if lose:
        assert killed
        add_worker_node(address)
    return seconds


if __name__ == "__main__":
    main()
