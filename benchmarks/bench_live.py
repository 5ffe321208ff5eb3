"""Live benchmarks: `control` and the game page, on this machine.

    python benchmarks/bench_live.py

Model: EfficientNet-Lite0 bundle trained on Fashion-MNIST t-shirt / trouser /
sneaker (30 training images each); t-shirt plays the no-action class, sneaker = tap
space, trouser = hold Down. Clips are 640x480 at 15 fps, each picture held for 3
frames, built from images the model never saw (offset 2000 of the training file).

1. `control` on a 60-second clip of the no-action class: spurious events (goal 0)
   and frames per second through the whole loop (decode, classify, smooth).
2. `control` on a gesture clip (none, sneaker, none, trouser, ... x 10): events,
   and latency from a frame arriving (read from the source) to its key event being
   sent (goal at most 100 ms), and fps (goal at least 15).
3. The game page in headless Chromium with a fake camera playing the gesture clip
   (15 fps) for 20 s: camera fps as the page measures it (classified frames per
   second) and model time per frame, with onnxruntime-web on 1 and on 2 threads.
"""

from __future__ import annotations

import io
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from common import OUT  # noqa: E402
from fashion_mnist import write_few_shot  # noqa: E402
from live_helpers import camera_frame, running, write_video, write_y4m  # noqa: E402

CLASSES = ["t-shirt", "trouser", "sneaker"]
MAPS = ["sneaker=space", "trouser=Down:hold"]


def model() -> Path:
    from pocketvision.config import TrainConfig
    from pocketvision.training.job import train

    data = OUT / "data" / "live-3x30"
    if not data.exists():
        write_few_shot(data, CLASSES, 30)
    bundle = OUT / "live-3x30.pvb"
    if not bundle.exists():
        train(data, bundle, TrainConfig())
    return bundle


def unseen(label: str, count: int) -> list[Path]:
    folder = OUT / "data" / f"live-unseen-{count}"
    if not (folder / label).exists():
        write_few_shot(folder, [label], count, offset=2000)
    return sorted((folder / label).iterdir())


def held(paths: list[Path], frames_each: int = 3) -> list:
    return [camera_frame(p) for p in paths for _ in range(frames_each)]


def run(bundle: Path, clip: Path):
    from pocketvision.live.control import run_control
    from pocketvision.live.keys import DryRunSink

    events = io.StringIO()
    stats = run_control(bundle, MAPS, DryRunSink(True, events), str(clip))
    return stats, [json.loads(line) for line in events.getvalue().splitlines()]


def main() -> None:
    bundle = model()
    folder = Path(tempfile.mkdtemp(prefix="bench-live-"))
    quiet = write_video(folder / "none-60s.avi", held(unseen("t-shirt", 300)))
    stats, events = run(bundle, quiet)
    quiet_result = {"frames": stats.frames, "seconds_of_video": stats.frames / 15,
                    "spurious_events": len(events), "fps": stats.summary()["fps"]}

    shirts, trousers, sneakers = (unseen(c, 60) for c in ("t-shirt", "trouser", "sneaker"))
    gesture_frames = []
    for k in range(10):
        gesture_frames += held(shirts[6 * k: 6 * k + 6], 2) + held(sneakers[6 * k: 6 * k + 6], 2)
        gesture_frames += held(shirts[6 * k: 6 * k + 6][::-1], 2) + held(trousers[6 * k: 6 * k + 6], 2)
    gestures = write_video(folder / "gestures.avi", gesture_frames)
    stats, events = run(bundle, gestures)
    summary = stats.summary()
    taps = sum(e["action"] == "tap" for e in events)
    downs = sum(e["action"] == "down" for e in events)
    gesture_result = {"frames": stats.frames, "gestures_shown": {"sneaker": 10, "trouser": 10},
                      "taps": taps, "holds": downs, "events": len(events), "fps": summary["fps"],
                      "latency_ms_median": summary["latency_ms_median"],
                      "latency_ms_max": summary["latency_ms_max"]}

    defaults = sweep(bundle, quiet, gestures)
    # 30 fps camera (each frame twice): the page's own speed is the limit, not the camera
    camera = write_y4m(folder / "camera.y4m", [f for f in gesture_frames[:480] for _ in (0, 1)], fps=30)
    page_result = {f"threads_{n}": game_page(bundle, camera, n) for n in (1, 2)}
    result = {"control_none_clip": quiet_result, "control_gestures": gesture_result,
              "smoothing_sweep": defaults, "game_page": page_result}
    (OUT / "bench_live.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


def probabilities_per_frame(bundle: Path, clip: Path) -> list[dict]:
    from pocketvision.live.classify import load_frame_classifier
    from pocketvision.live.sources import frames

    classify, _ = load_frame_classifier(bundle)
    return [classify(frame.rgb) for frame in frames(str(clip))]


def sweep(bundle: Path, quiet: Path, gestures: Path) -> list[dict]:
    """Replay both clips' per-frame probabilities through each smoothing setting:
    spurious events on the no-action clip, gestures caught, frames of delay."""
    from pocketvision.actions import parse_mapping
    from pocketvision.config import SmoothingConfig
    from pocketvision.live.smoothing import Smoother

    recorded = {"quiet": probabilities_per_frame(bundle, quiet),
                "gestures": probabilities_per_frame(bundle, gestures)}
    rows = []
    for threshold in (0.6, 0.7, 0.8, 0.9):
        for frames in (2, 3, 4, 5, 6):
            config = SmoothingConfig(threshold=threshold, frames=frames)
            counts = {}
            for name, per_frame in recorded.items():
                smoother = Smoother(parse_mapping(MAPS, CLASSES), config)
                events = [e for k, p in enumerate(per_frame) for e in smoother.update(k / 15, k, p)]
                counts[name] = events
            gesture_starts = [k for k in range(0, 480, 12)]  # each 12-frame segment
            caught = [e for e in counts["gestures"] if e.action in ("tap", "down")]
            delays = [e.frame - max(s for s in gesture_starts if s <= e.frame) for e in caught]
            rows.append({"threshold": threshold, "frames": frames,
                         "spurious_on_none_clip": len(counts["quiet"]),
                         "gestures_caught": len(caught), "of": 20,
                         "median_delay_frames": statistics.median(delays) if delays else None})
    return rows


def game_page(bundle: Path, camera: Path, threads: int) -> dict:
    from browser import chromium_page

    from pocketvision.live.server import game_app

    samples = {"fps": [], "ms": []}
    with running(game_app(bundle, ["sneaker=jump", "trouser=duck"])) as url, \
            chromium_page([f"--use-file-for-fake-video-capture={camera}"]) as page:
        page.goto(f"{url}/?threads={threads}")
        page.wait_for_function("window.gameState.cameraReady && window.gameState.fps > 0",
                               timeout=120_000)
        for _ in range(20):
            page.wait_for_timeout(1000)
            state = page.evaluate("window.gameState")
            samples["fps"].append(state["fps"])
            samples["ms"].append(state["inferenceMs"])
        final = page.evaluate("window.gameState")
    return {"camera_fps_median": statistics.median(samples["fps"]),
            "model_ms_median": statistics.median(samples["ms"]),
            "jumps": final["jumps"], "ducks": final["ducks"], "seconds": 20}


if __name__ == "__main__":
    main()
