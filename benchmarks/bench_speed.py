"""Fast everywhere: command start-up, the live loop under load, bench's ratios under
load, and the studio's retrain-to-live time.

    python benchmarks/bench_speed.py [--rounds 3]

"Under load" means one other CPU-bound process (a Python busy loop) runs for the
whole measurement, on this 2-core machine. Every comparison is interleaved round
by round (quiet, loaded, quiet, ...) and reported as medians.

1. Start-up: whole commands (interpreter start included): ``--version``,
   ``--help``, ``inspect`` on each export format, ``predict`` on one image with a
   warm cache.
2. ``control --dry-run`` on a 300-frame clip (640x480): frames per second of the
   whole loop (decode, classify, smooth) with the .pvb bundle and with its ONNX
   export, quiet and under load.
3. ``bench``: each runtime's latency ratio to PyTorch eager, quiet and under
   load, with 1 thread per runtime (the default) and with 2.
4. The studio: a 3-class project of 30 images each, trained; 10 more images
   added; Train pressed in headless Chromium: seconds from the click until the
   page classifies with the new model (the page measures it and shows it).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
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

CLASSES = ["t-shirt", "trouser", "sneaker"]


@contextlib.contextmanager
def load(on: bool):
    """One CPU-bound competitor for the duration, when ``on``."""
    if not on:
        yield
        return
    competitor = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    time.sleep(0.5)
    try:
        yield
    finally:
        competitor.kill()
        competitor.wait()


def seconds(args: list[str], env: dict | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True, env=env)
    return time.perf_counter() - started


def setup(work: Path) -> tuple[Path, Path, Path]:
    """A trained bundle, a folder with every export of it, and a clip."""
    from live_helpers import camera_frame, write_video

    from pocketvision.exports.job import export
    from pocketvision.training.job import train

    data = few_shot("speed", CLASSES, 30, 50)
    bundle = work / "model.pvb"
    train(data, bundle)
    exports = work / "exports"
    export(bundle, exports, ["onnx", "ptl", "pte", "coreml", "tflite"])
    unseen = sorted((data / "val" / "sneaker").iterdir()) + sorted((data / "val" / "trouser").iterdir())
    clip = write_video(work / "clip.avi", [camera_frame(p) for p in unseen for _ in range(3)])
    return bundle, exports, clip


def startup(bundle: Path, exports: Path, rounds: int) -> dict:
    image = next((OUT / "data" / "speed-0" / "val" / "sneaker").iterdir())
    commands = {"--version": ["--version"], "--help": ["--help"],
                "predict one image (warm cache)": ["predict", str(bundle), str(image)]}
    for path in sorted(exports.iterdir()):
        if path.suffix in (".onnx", ".ptl", ".pte", ".tflite", ".mlpackage"):
            commands[f"inspect {path.name}"] = ["inspect", str(path)]
    times = {name: [] for name in commands}
    for _ in range(rounds + 2):
        for name, args in commands.items():
            times[name].append(seconds(pocketvision_command(*args)))
    return {name: statistics.median(values[1:]) for name, values in times.items()}  # 1st: warm-up


def control_fps(model: Path, clip: Path) -> float:
    done = subprocess.run(pocketvision_command("control", str(model), "--map", "sneaker=space",
                                               "--source", str(clip), "--dry-run"),
                          check=True, capture_output=True, text=True)
    return float(re.search(r"at ([\d.]+) fps", done.stderr).group(1))


def control(bundle: Path, exports: Path, clip: Path, rounds: int) -> dict:
    control_fps(bundle, clip)  # builds and caches the bundle's graph once
    results = {}
    for _ in range(rounds):
        for loaded in (False, True):
            for name, model in ((".pvb", bundle), (".onnx", exports / "model.onnx")):
                with load(loaded):
                    fps = control_fps(model, clip)
                results.setdefault(f"{name} {'under load' if loaded else 'quiet'}", []).append(fps)
    return {name: statistics.median(values) for name, values in results.items()}


def bench_ratios(exports: Path, rounds: int) -> dict:
    results = {}
    for _ in range(rounds):
        for threads in (1, 2):
            for loaded in (False, True):
                with load(loaded):
                    done = subprocess.run(pocketvision_command(
                        "bench", str(exports), "--runs", "30", "--threads", str(threads), "--json"),
                        check=True, capture_output=True, text=True)
                key = f"{threads} thread{'s' if threads > 1 else ''}, {'under load' if loaded else 'quiet'}"
                for entry in json.loads(done.stdout):
                    if entry["latency_ms"] is not None:
                        row = results.setdefault(key, {}).setdefault(entry["format"], [])
                        row.append((entry["latency_ms"], entry["vs_eager"]))
    return {key: {fmt: {"latency_ms": statistics.median(v[0] for v in values),
                        "vs_eager": statistics.median(v[1] for v in values)}
                  for fmt, values in rows.items()} for key, rows in results.items()}


def studio_retrain(work: Path, rounds: int) -> dict:
    """Seconds from pressing Train (10 new images) to the new model live on the page."""
    import os

    from browser import chromium_page
    from live_helpers import camera_frame, running, write_y4m

    from pocketvision.live.studio import studio_app

    os.environ["POCKETVISION_CACHE_DIR"] = str(work / "cache")  # the new images are new to it
    data = OUT / "data" / "speed-0"
    project = work / "project"
    for label in CLASSES:
        shutil.copytree(data / "train" / label, project / "samples" / label)
    from fashion_mnist import write_few_shot

    write_few_shot(work / "extra", ["t-shirt"], 10 * rounds, offset=3000)  # never seen before
    extra = sorted((work / "extra" / "t-shirt").iterdir())
    camera = write_y4m(work / "camera.y4m", [camera_frame(p) for p in extra[:10] for _ in range(3)])
    live, server = [], []
    with running(studio_app(project)) as url, \
            chromium_page([f"--use-file-for-fake-video-capture={camera}"]) as page:
        page.goto(url)
        page.wait_for_function("window.studioState?.classes.length > 0")
        page.get_by_role("tab", name="Train").click()
        train = page.get_by_role("button", name="Train", exact=True)
        train.click()
        page.wait_for_function("window.studioState.training.status === 'done'", timeout=120_000)
        for round_ in range(rounds):
            added = extra[10 * round_: 10 * round_ + 10]
            for path in added:
                shutil.copy(path, project / "samples" / "t-shirt" / f"more-{path.name}")
            before = page.evaluate("window.studioState.training.clickedAt")
            train.click()
            page.wait_for_function(f"window.studioState.training.status === 'done' && "
                                   f"window.studioState.training.clickedAt > {before}", timeout=120_000)
            # from the click to the new model playing on the page
            live.append(page.evaluate("window.studioState.training.seconds"))
            job = page.evaluate("fetch('/api/job').then((r) => r.json())")
            assert job["result"]["features_computed"] == 10, job["result"]
            server.append(job["result"]["seconds"])
        page.screenshot(path=str(OUT / "studio-retrain.png"), full_page=True)
    return {"click_to_live_seconds": statistics.median(live), "runs": live,
            "train_seconds_on_the_server": statistics.median(server)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", nargs="*", help="some of: startup_seconds control_fps bench studio")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-speed-"))
    bundle, exports, clip = setup(work)
    parts = {"startup_seconds": lambda: startup(bundle, exports, args.rounds),
             "control_fps": lambda: control(bundle, exports, clip, args.rounds),
             "bench": lambda: bench_ratios(exports, args.rounds),
             "studio": lambda: studio_retrain(work, args.rounds)}
    chosen = args.only or list(parts)
    result = {name: parts[name]() for name in chosen}
    OUT.mkdir(exist_ok=True)
    (OUT / "bench_speed.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
