"""The phone app in each engine phones have (Chromium, WebKit, Firefox; tests/engines.py),
on the same machine and pictures, engines interleaved in every round:

1. Train -> playing on 3 x 30 new gallery pictures: from the tap on Train (features of
   all 90 included) to the first camera frame the new model classifies in the game;
2. the same after 10 more pictures (only their features are new);
3. the game's classified frames a second (median of the page's per-second readings
   over 20 s, after 5 s of warm-up), beside the frames a second the engine's fake
   camera presents (the ceiling);
4. features per picture: the page's backbone worker on 30 stored pictures, in one go.

Each engine in a phone-sized window, a fresh profile per round; the site written by
``pocketvision web`` and served by ``python -m http.server``.

Run by hand (not in CI): ``python benchmarks/bench_engines.py [--rounds 2] [--engines chromium,webkit,firefox]``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_phone import ADD_PICTURES, SPLITS, TRAIN_TO_PLAYING  # noqa: E402
from common import OUT, few_shot  # noqa: E402  (tests/ on the path)
from engines import ENGINES, open_engine  # noqa: E402
from phone import static_site  # noqa: E402
from phone_drive import PLAY, TRAIN, settled  # noqa: E402

MEASURES = ("train_to_playing_s", "after_10_more_s", "game_fps", "camera_fps", "features_ms_per_picture")


def main() -> None:
    arguments = argparse.ArgumentParser()
    arguments.add_argument("--rounds", type=int, default=2)
    arguments.add_argument("--engines", default=",".join(ENGINES))
    args = arguments.parse_args()
    from pocketvision.exports.web_app import write_new_web_app

    folder = OUT / "engines"
    shutil.rmtree(folder, ignore_errors=True)
    site = Path(write_new_web_app(folder / "site", "efficientnet_lite0")["site"])
    for name, classes in SPLITS.items():
        shutil.copytree(few_shot(name, classes, 40, 10, train_offset=3000) / "train", site / "photos" / name)
    results = []
    with static_site(site) as (url, _):
        for _ in range(args.rounds):
            for split, classes in SPLITS.items():
                for engine in args.engines.split(","):  # interleaved: every engine in every round
                    results.append({"engine": engine, "split": split, **one_round(engine, url, split, classes)})
                    print(json.dumps(results[-1]), flush=True)
    summary = {engine: {key: round(statistics.median(r[key] for r in results if r["engine"] == engine), 3)
                        for key in MEASURES} for engine in args.engines.split(",")}
    (folder / "bench_engines.json").write_text(json.dumps({"rounds": results, "summary": summary}, indent=2))
    print(json.dumps(summary, indent=2))


def one_round(name: str, url: str, split: str, classes: list[str]) -> dict:
    profile = Path(tempfile.mkdtemp(prefix=f"{name}-"))
    try:
        with open_engine(name, profile) as engine:
            engine.goto(url)
            settled(engine)
            add_pictures(engine, split, classes, range(0, 30))
            first = train_to_playing(engine)
            add_pictures(engine, split, classes[:1], range(30, 40))
            second = train_to_playing(engine)
            fps, camera = game_fps(engine)
            return {"train_to_playing_s": first, "after_10_more_s": second, "game_fps": fps,
                    "camera_fps": camera, "features_ms_per_picture": features_per_picture(engine)}
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def add_pictures(engine, split, classes, indices) -> None:
    """Store gallery pictures as the Add photos button does (bench_phone's script),
    then reload so that the views show them."""
    engine.evaluate(f"({ADD_PICTURES})({json.dumps([split, classes, list(indices), ''])})")
    engine.reload()
    settled(engine)


def train_to_playing(engine) -> float:
    """Seconds from the tap on Train to the new model's first frame in the game."""
    engine.click(TRAIN)
    return engine.evaluate(TRAIN_TO_PLAYING)


def game_fps(engine, warm_up: float = 5, seconds: int = 20) -> tuple[float, float]:
    """The game's classified frames a second, and the camera's presented frames a
    second over the same time."""
    engine.click(PLAY)
    time.sleep(warm_up)
    engine.evaluate("""(() => { window.presented = 0; const video = document.querySelector("video");
      const count = () => { window.presented += 1; video.requestVideoFrameCallback(count); };
      video.requestVideoFrameCallback(count); window.countingSince = performance.now(); return true; })()""")
    readings = []
    for _ in range(seconds):
        time.sleep(1)
        readings.append(engine.evaluate("window.studioState.fps"))
    camera = engine.evaluate("window.presented * 1000 / (performance.now() - window.countingSince)")
    return statistics.median(readings), camera


def features_per_picture(engine, count: int = 30) -> float:
    """Milliseconds per picture for the page's backbone worker on stored pictures,
    with the page's own threads (on the Collect view: the game's model rests)."""
    engine.click('nav.tabs button[data-view="collect"]')
    return engine.evaluate(f"""(async () => {{
      const {{ Store }} = await import("./web/app/store.js");
      const {{ Backbone }} = await import("./web/app/model-client.js");
      const {{ modelThreads }} = await import("./web/app/engine.js");
      const backbone = await (await fetch("backbone.json")).json();
      const store = await Store.open();
      const ids = (await store.project()).flatMap((c) => c.pictures.map((p) => p.id)).slice(0, {count});
      const blobs = await store.blobs(ids);
      const worker = new Backbone(new URL("backbone.onnx", location.href).href, modelThreads());
      await worker.ready;
      await worker.pictures(blobs.slice(0, 2), backbone.preprocessing);  // warm
      const start = performance.now();
      await worker.pictures(blobs, backbone.preprocessing);
      return (performance.now() - start) / blobs.length;
    }})()""")


if __name__ == "__main__":
    main()
