"""The game pages' speed, and what a smaller game input costs in answers.

Run by hand (not in CI): ``python benchmarks/bench_web.py``. Needs Debian's
chromium and dataset-fashion-mnist (as .ci/run installs them).

1. Agreement of the web app's game model with the full bundle, per input size (224,
   192, 160 px), on two few-shot splits the models never trained on: the verified
   ``web`` entry of ``pocketvision export --format web --web-input N``.
2. Frames the game classifies per second with a 30 fps camera (Chromium's fake
   camera playing held-out pictures), in headless Chromium emulating a phone on this
   machine: ``pocketvision play`` as a user starts it, and the exported web app
   served by ``python -m http.server`` (at the bundle's 224 px, and at 192 px).
   Rounds are interleaved; each is the median of the page's per-second readings
   over a minute after 10 s of warm-up.
"""

from __future__ import annotations

import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, few_shot, pocketvision_command  # noqa: E402  (puts tests/ on the path too)
from live_helpers import camera_frame, free_port, write_y4m  # noqa: E402
from phone import Phone, static_site  # noqa: E402

SPLITS = {"fashion-a": ["t-shirt", "trouser", "sneaker"], "fashion-b": ["bag", "coat", "sandal"]}
SIZES = (224, 192, 160)
WARM_UP, SECONDS, ROUNDS = 10, 60, 2


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
    pages = {"play (224 px)": played(folder / "fashion-a.pvb"),
             "web app, 224 px": served(folder / "fashion-a-224" / "web"),
             "web app, 192 px": served(folder / "fashion-a-192" / "web")}
    fps = {key: [] for key in pages}
    for _ in range(ROUNDS):
        for key, page in pages.items():
            fps[key].append(game_fps(page, camera))
            print(key, fps[key][-1], flush=True)
    result = {"agreement": agreement, "fps": fps,
              "fps_median": {key: statistics.median(v) for key, v in fps.items()}}
    (folder / "bench_web.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


@contextlib.contextmanager
def _play(bundle: Path):
    port = free_port()
    server = subprocess.Popen(pocketvision_command("play", str(bundle), "--port", str(port)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(8)  # the first start writes the bundle's web app into the cache
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.kill()


def played(bundle: Path):
    return lambda: _play(bundle)


def served(site: Path):
    @contextlib.contextmanager
    def serve():
        with static_site(site) as (url, _):
            yield url
    return serve


def game_fps(page, camera: Path) -> float:
    from playwright.sync_api import sync_playwright

    with page() as url, sync_playwright() as playwright:
        phone = Phone(playwright, Path(tempfile.mkdtemp(prefix="bench-web-")), [])
        phone.open(url, camera)
        phone.until("s.modelReady && s.cameraReady && s.backboneReady")
        phone.page.get_by_role("tab", name="Play").click()
        time.sleep(WARM_UP)
        readings = []
        for _ in range(SECONDS):
            time.sleep(1)
            readings.append(phone.state()["fps"])
        phone.close()
    return statistics.median(readings)


def web_agreement(bundle: Path, images: Path, out: Path, size: int) -> float:
    from pocketvision.exports.job import export

    report = export(bundle, out, ["web"], verify_dir=images, web_input=size)
    [entry] = [e for e in report.exports if e.format == "web"]
    return entry.top1_agreement


def held_out_frames(classes: list[str]) -> list:
    data = few_shot("fashion-a", classes, 30, 50, train_offset=2000)
    pictures = [p for label in classes for p in sorted((data / "val" / label).iterdir())[:20]]
    return [camera_frame(p) for p in pictures for _ in range(4)]



if __name__ == "__main__":
    main()
