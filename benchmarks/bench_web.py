"""The web app's speed on the page, and what a smaller live input costs in answers.

Run by hand (not in CI): ``python benchmarks/bench_web.py``. Needs Debian's
chromium and dataset-fashion-mnist (as .ci/run installs them).

1. Agreement of the web app's model with the full bundle, per input size (224,
   192, 160 px), on two few-shot splits the models never trained on: the verified
   ``web`` entry of ``pocketvision export --format web --web-input N``.
2. Frames the game page classifies per second with a 30 fps camera (Chromium's fake
   camera playing held-out pictures), in headless Chromium on this machine, served
   by ``python -m http.server`` as a user would: per input size, onnxruntime-web on
   1 and 2 threads, and the int8 ONNX file at 224 px. Rounds are interleaved;
   medians of the per-second readings of window.gameState.
"""

from __future__ import annotations

import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, few_shot  # noqa: E402  (puts tests/ on the path too)
from live_helpers import camera_frame, write_y4m  # noqa: E402

SPLITS = {"fashion-a": ["t-shirt", "trouser", "sneaker"], "fashion-b": ["bag", "coat", "sandal"]}
SIZES = (224, 192, 160)
SECONDS = 15
ROUNDS = 2


def main() -> None:
    from pocketvision.training.job import train

    folder = OUT / "web"
    folder.mkdir(parents=True, exist_ok=True)
    agreement = {}
    for name, classes in SPLITS.items():
        data = few_shot(name, classes, 30, 50, train_offset=2000)
        bundle = folder / f"{name}.pvb"
        train(data / "train", bundle)
        agreement[name] = {size: web_agreement(bundle, data / "val", folder / f"{name}-{size}", size)
                           for size in SIZES}
    camera = write_y4m(folder / "camera30.y4m", held_out_frames(SPLITS["fashion-a"]), fps=30)
    sites = page_variants(folder)
    speed = {key: {"fps": [], "ms": []} for key in sites}
    for _ in range(ROUNDS):
        for key, (site, threads) in sites.items():
            fps, ms = page_speed(site, threads, camera)
            speed[key]["fps"] += fps
            speed[key]["ms"] += ms
    result = {"agreement": agreement,
              "page": {key: {"fps_median": statistics.median(v["fps"]),
                             "model_ms_median": statistics.median(v["ms"])} for key, v in speed.items()}}
    (folder / "bench_web.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def web_agreement(bundle: Path, images: Path, out: Path, size: int) -> float:
    from pocketvision.exports.job import export

    report = export(bundle, out, ["web"], verify_dir=images, web_input=size)
    [entry] = [e for e in report.exports if e.format == "web"]
    return entry.top1_agreement


def held_out_frames(classes: list[str]) -> list:
    data = few_shot("fashion-a", classes, 30, 50, train_offset=2000)
    pictures = [p for label in classes for p in sorted((data / "val" / label).iterdir())[:20]]
    return [camera_frame(p) for p in pictures for _ in range(4)]


def page_variants(folder: Path) -> dict:
    """{name: (site folder, threads)}: the 192/160 sites as exported, and the 224
    site with its fp32 or int8 file."""
    from pocketvision.exports.job import export

    bundle = folder / "fashion-a.pvb"
    full = folder / "fashion-a-224"
    export(bundle, folder / "int8", ["onnx"], quantize=["int8"])
    int8 = folder / "site-224-int8"
    shutil.rmtree(int8, ignore_errors=True)
    shutil.copytree(full / "web", int8)
    shutil.copy(folder / "int8" / "model-int8.onnx", int8 / "model.onnx")
    variants = {}
    for threads in (1, 2):
        for size in SIZES:
            variants[f"{size}px fp32, {threads} thread(s)"] = (folder / f"fashion-a-{size}" / "web", threads)
    variants["224px int8, 2 thread(s)"] = (int8, 2)
    return variants


def page_speed(site: Path, threads: int, camera: Path) -> tuple[list, list]:
    from browser import CHROMIUM, FLAGS
    from playwright.sync_api import sync_playwright

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1",
                               "--directory", str(site)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(1)
    fps, ms = [], []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=FLAGS + [f"--use-file-for-fake-video-capture={camera}"])
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{port}/?threads={threads}")
            wait_for(page, "self.crossOriginIsolated && window.gameState && window.gameState.fps > 0")
            time.sleep(2)
            for _ in range(SECONDS):
                state = page.evaluate("window.gameState")
                fps.append(state["fps"])
                ms.append(state["inferenceMs"])
                time.sleep(1)
            browser.close()
    finally:
        server.kill()
    return fps, ms


def wait_for(page, condition: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if page.evaluate(condition):
                return
        except Exception:  # the page reloads once when its service worker takes over
            pass
        time.sleep(0.5)
    raise RuntimeError(f"never: {condition}")


if __name__ == "__main__":
    main()
